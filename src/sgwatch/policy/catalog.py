"""The finding catalog (package data ``findings.yaml``): stable ids, titles, default severities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

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
    text = resources.files("sgwatch").joinpath("data/findings.yaml").read_text(encoding="utf-8")
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
