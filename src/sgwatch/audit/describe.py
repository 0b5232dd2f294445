"""Short human names for recorded actors (pure), shared by the terminal tables and the report.

Rules read as ``sgwatch.ruletext`` words them, the same as in findings and alerts.
"""

from __future__ import annotations

UNKNOWN_ACTOR = "unknown"


def actor_name(arn: str | None) -> str:
    """An ARN's resource part (``user/alice``, ``assumed-role/Admin/bob``, ``root``), which may hold colons.

    Text that is not an ARN is shown as it is; no ARN at all is ``unknown``.
    """
    if not arn:
        return UNKNOWN_ACTOR
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[5]:
        return parts[5]
    return arn
