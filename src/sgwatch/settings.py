"""One Settings object from the config file, the environment and CLI flags. Stages never read os.environ.

The config file is YAML with these top-level sections, each validated by the stage that owns it::

    policy: policy.yaml          # path, relative to the config file
    notify: [...]                # sgwatch.notify.config
    delivery: {...}              # sgwatch.notify.config (retries, rate limits, burst guard)
    enrich: true
    remediate: {...}             # sgwatch.remediate.config
    audit: {db: path, ledger_table: name}   # SQLite audit trail; DynamoDB sent ledger (Lambda)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sgwatch.errors import ConfigError
from sgwatch.yamlsrc import Node, check_keys, load_yaml, load_yaml_text

TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")
TOP_LEVEL_KEYS = ("policy", "notify", "delivery", "enrich", "remediate", "audit")


def _empty_node(source: str) -> Node:
    node = Node()
    node.source = source
    node.line = 1
    node.key_lines = {}
    return node


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a run needs to know; built once at the edge and passed down."""

    source: str = "<defaults>"
    policy_path: Path | None = None
    notify: tuple[Node, ...] = ()  # raw channel entries, parsed by sgwatch.notify.config
    delivery: Node | None = None
    enrich: bool | None = None  # None: the config does not say; each entry point has its default
    remediate: Node | None = None
    db_path: Path | None = None
    ledger_table: str | None = None  # DynamoDB table of the sent ledger (exactly once across Lambda containers)
    environ: Mapping[str, str] = field(default_factory=dict)  # for env:NAME secrets


def parse_settings(doc: Any, source: str, base_dir: Path | None, environ: Mapping[str, str]) -> Settings:
    """Validate the top level of a config document; sections are validated by their stages."""
    if doc is None:
        doc = _empty_node(source)
    if not isinstance(doc, Node):
        raise ConfigError(f"{source}: the config must be a YAML mapping (expected keys: {', '.join(TOP_LEVEL_KEYS)})")
    check_keys(doc, TOP_LEVEL_KEYS, "config", ConfigError)

    def path_value(value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{doc.where(key)}: {key}: expected a file path, got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() or base_dir is None else base_dir / path

    notify = doc.get("notify") or []
    if not isinstance(notify, list) or not all(isinstance(item, Node) for item in notify):
        raise ConfigError(f"{doc.where('notify')}: notify: expected a list of channel mappings")
    for key in ("delivery", "remediate"):
        if doc.get(key) is not None and not isinstance(doc[key], Node):
            raise ConfigError(f"{doc.where(key)}: {key}: expected a mapping")
    enrich = doc.get("enrich")
    if enrich is not None and not isinstance(enrich, bool):
        raise ConfigError(f"{doc.where('enrich')}: enrich: expected true or false, got {enrich!r}")
    db_path = None
    ledger_table = None
    audit = doc.get("audit")
    if audit is not None:
        if not isinstance(audit, Node):
            raise ConfigError(f"{doc.where('audit')}: audit: expected a mapping with 'db' and/or 'ledger_table'")
        check_keys(audit, ("db", "ledger_table"), "audit", ConfigError)
        if "db" in audit:
            db_path = path_value(audit["db"], "audit")
        if "ledger_table" in audit:
            ledger_table = table_name(audit["ledger_table"], audit.where("ledger_table"))
    return Settings(
        source=source,
        policy_path=path_value(doc["policy"], "policy") if doc.get("policy") else None,
        notify=tuple(notify),
        delivery=doc.get("delivery"),
        enrich=enrich,
        remediate=doc.get("remediate"),
        db_path=db_path,
        ledger_table=ledger_table,
        environ=dict(environ),
    )


def table_name(value: Any, where: str) -> str:
    """A DynamoDB table name (3-255 of ``a-z A-Z 0-9 _ - .``), else ConfigError at ``where``."""
    if not isinstance(value, str) or not TABLE_NAME.fullmatch(value):
        raise ConfigError(
            f"{where}: ledger_table: expected a DynamoDB table name (3-255 characters: letters, digits, '_', '-', '.'),"
            f" got {value!r}"
        )
    return value


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a config file (or defaults when ``path`` is None)."""
    env = dict(os.environ if environ is None else environ)
    if path is None:
        return Settings(environ=env)
    doc = load_yaml(path, ConfigError)
    return parse_settings(doc, str(path), path.parent, env)


def load_settings_text(text: str, source: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from YAML text (an SSM parameter, a test)."""
    env = dict(os.environ if environ is None else environ)
    return parse_settings(load_yaml_text(text, source, ConfigError), source, None, env)
