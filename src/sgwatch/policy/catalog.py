"""The finding catalog (package data ``findings.yaml``): stable ids, titles, default severities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sgwatch.errors import PolicyError
from sgwatch.model import Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogEntry:
    finding_id: str
    title: str
    severity: Severity
    description: str


@cache
def load_catalog() -> dict[str, CatalogEntry]:
    """Every finding sgwatch can raise, by id (read once, on first use)."""
    # importlib.resources costs ~20 ms to import (tempfile, shutil, zipfile, ...), paid by every Lambda cold
    # start; pkgutil.get_data reads package data through the package's loader too (zip imports included) for
    # ~2 ms. (yaml is loaded with the policy schema anyway.)
    import pkgutil  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    data = pkgutil.get_data("sgwatch", "data/findings.yaml")
    if data is None:  # a loader that cannot read package data
        raise PolicyError("sgwatch package data 'data/findings.yaml' cannot be read: reinstall sgwatch")
    text = data.decode("utf-8")
    raw = yaml.safe_load(text)
    catalog: dict[str, CatalogEntry] = {}
    for finding_id, entry in raw.items():
        catalog[finding_id] = CatalogEntry(
            finding_id=finding_id,
            title=entry["title"],
            severity=Severity.parse(entry["severity"]),
            description=" ".join(str(entry["description"]).split()),
        )
    return catalog


def get_entry(finding_id: str) -> CatalogEntry:
    """The catalog entry, or PolicyError listing the known ids."""
    catalog = load_catalog()
    try:
        return catalog[finding_id]
    except KeyError:
        raise PolicyError(f"unknown finding id {finding_id!r} (known: {', '.join(sorted(catalog))})") from None
