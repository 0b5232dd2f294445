"""Execute revert plans with boto3. ClientError is translated here, at the seam.

``InvalidPermission.NotFound`` / ``InvalidSecurityGroupRuleId.NotFound`` (and a deleted group) mean the
rule is already gone: success, so replays and retries are idempotent. Any other answer of EC2 refusing the
call is a FAILED outcome (nothing was changed); no answer at all (a timeout, a dropped connection) raises
``RemediationError``: the call may or may not have been carried out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sgwatch.errors import RemediationError, aws_error
from sgwatch.model import Direction, Remediation, RemediationStatus, RevokePlan
from sgwatch.remediate.plan import describe_plan, outcome_text

ALREADY_GONE = frozenset({"InvalidPermission.NotFound", "InvalidSecurityGroupRuleId.NotFound", "InvalidGroup.NotFound"})
NOT_ALLOWED = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})
API_NAMES = {
    "modify_security_group_rules": "ModifySecurityGroupRules",
    "revoke_security_group_egress": "RevokeSecurityGroupEgress",
    "revoke_security_group_ingress": "RevokeSecurityGroupIngress",
}


class Ec2Reverter:
    """``Reverter`` over boto3 EC2 clients (``client_for(region)``, created and cached by the caller)."""

    __slots__ = ("_client_for",)

    def __init__(self, client_for: Callable[[str | None], Any]) -> None:
        self._client_for = client_for

    def _request(self, plan: RevokePlan) -> tuple[str, dict[str, Any]] | str:
        """The EC2 operation and its arguments, or why the plan cannot be carried out."""
        if plan.restore_to is not None:
            if not plan.rule_id:
                return f"{describe_plan(plan)}: a restore needs the rule id"
            rules = [{"SecurityGroupRuleId": plan.rule_id, "SecurityGroupRule": dict(plan.restore_to)}]
            return "modify_security_group_rules", {"GroupId": plan.group_id, "SecurityGroupRules": rules}
        operation = (
            "revoke_security_group_egress" if plan.direction is Direction.EGRESS else "revoke_security_group_ingress"
        )
        if plan.rule_id:
            return operation, {"GroupId": plan.group_id, "SecurityGroupRuleIds": [plan.rule_id]}
        if plan.ip_permission is None:
            return f"{describe_plan(plan)}: the plan names neither a rule id nor a permission"
        return operation, {"GroupId": plan.group_id, "IpPermissions": [dict(plan.ip_permission)]}

    def execute(self, plan: RevokePlan, region: str | None) -> Remediation:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only when acting

        request = self._request(plan)
        if isinstance(request, str):
            return _failed(plan, request)
        operation, kwargs = request
        call = f"{API_NAMES[operation]} in {region or 'the default region'}"
        try:
            response: Mapping[str, Any] = getattr(self._client_for(region), operation)(**kwargs)
        except ClientError as exc:
            code, message = aws_error(exc, 300)
            if code in ALREADY_GONE:
                return _done(plan, RemediationStatus.ALREADY_REVERTED, f"already gone ({code})")
            hint = " (the role needs it: deploy with --remediation)" if code in NOT_ALLOWED else ""
            return _failed(plan, f"{call} refused: {code}: {message}{hint}; nothing was changed")
        except BotoCoreError as exc:
            raise RemediationError(f"{call}: no answer ({exc}); whether it was carried out is unknown") from exc
        if response.get("Return") is False:
            return _failed(plan, f"{call}: EC2 answered false; nothing was changed")
        if response.get("UnknownIpPermissions"):
            return _done(plan, RemediationStatus.ALREADY_REVERTED, "already gone (EC2 did not know the permission)")
        status = RemediationStatus.RESTORED if plan.restore_to is not None else RemediationStatus.REVERTED
        return _done(plan, status, outcome_text(plan, status))


def _done(plan: RevokePlan, status: RemediationStatus, detail: str) -> Remediation:
    return Remediation(plan=plan, status=status, dry_run=False, detail=detail)


def _failed(plan: RevokePlan, detail: str) -> Remediation:
    return Remediation(plan=plan, status=RemediationStatus.FAILED, dry_run=False, detail=detail)
