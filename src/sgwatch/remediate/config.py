"""The ``remediate:`` config section, validated with file:line errors.

::

    remediate:
      enabled: true            # default false: sgwatch never touches a group unless asked
      dry_run: false           # default true: plan and report, change nothing
      min_severity: critical   # act on changes judged at least this severe (default critical)
      allowlist:               # principals whose changes are never reverted (ARN globs)
        - arn:aws:iam::*:role/NetworkAdmin
      own_role_arns:           # sgwatch's own role(s): never revert what sgwatch itself did (loop guard)
        - arn:aws:iam::111122223333:role/sgwatch-*
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sgwatch.errors import ConfigError
from sgwatch.model import Severity
from sgwatch.settings import Settings
from sgwatch.yamlsrc import Node, check_keys

KEYS = ("enabled", "dry_run", "min_severity", "allowlist", "own_role_arns")
WHAT = "remediate"


@dataclass(frozen=True, slots=True, kw_only=True)
class RemediationConfig:
    """How (and whether) to revert risky changes."""

    enabled: bool = False
    dry_run: bool = True
    min_severity: Severity = Severity.CRITICAL
    allowlist: tuple[str, ...] = ()  # principal ARN globs (actor ARN or session issuer ARN)
    own_role_arns: tuple[str, ...] = ()  # ARN globs of sgwatch's own role(s), for the loop guard
    where: str = "<defaults>"


def _bool(node: Node, key: str, default: bool) -> bool:
    value = node.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{node.where(key)}: {WHAT}: {key}: expected true or false, got {value!r}")
    return value


def _globs(node: Node, key: str) -> tuple[str, ...]:
    value: Any = node.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{node.where(key)}: {WHAT}: {key}: expected a list of ARN patterns, got {value!r}")
    for pattern in value:
        if not pattern.strip().startswith(("arn:", "*")):
            raise ConfigError(
                f"{node.where(key)}: {WHAT}: {key}: {pattern!r} is not an ARN pattern "
                "(expected e.g. arn:aws:iam::*:role/NetworkAdmin)"
            )
    return tuple(v.strip() for v in value)


def parse_remediation(node: Node | None) -> RemediationConfig:
    """The section as a RemediationConfig; absent means disabled."""
    if node is None:
        return RemediationConfig()
    check_keys(node, KEYS, WHAT, ConfigError)
    severity = node.get("min_severity", "critical")
    if not isinstance(severity, str):
        raise ConfigError(f"{node.where('min_severity')}: {WHAT}: min_severity: expected a severity name")
    try:
        min_severity = Severity.parse(severity)
    except ValueError as exc:
        raise ConfigError(f"{node.where('min_severity')}: {WHAT}: min_severity: {exc}") from None
    return RemediationConfig(
        enabled=_bool(node, "enabled", False),
        dry_run=_bool(node, "dry_run", True),
        min_severity=min_severity,
        allowlist=_globs(node, "allowlist"),
        own_role_arns=_globs(node, "own_role_arns"),
        where=node.where(),
    )


def remediation_config(settings: Settings) -> RemediationConfig:
    """The ``remediate:`` section of the settings."""
    return parse_remediation(settings.remediate)
