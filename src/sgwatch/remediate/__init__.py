"""Remediation: ``config`` (the ``remediate:`` section), ``plan`` (pure: what exactly to undo) and
``revoke`` (boto3: undo it). boto3 is imported only when a plan is executed."""

from sgwatch.remediate.config import RemediationConfig, parse_remediation, remediation_config
from sgwatch.remediate.plan import in_scope, own_change_reason, plan_revert, skip_reason
from sgwatch.remediate.port import Reverter

__all__ = [
    "RemediationConfig",
    "Reverter",
    "in_scope",
    "own_change_reason",
    "parse_remediation",
    "plan_revert",
    "remediation_config",
    "skip_reason",
]
