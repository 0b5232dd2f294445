"""Execute revert plans with boto3. ClientError is translated to RemediationError here, at the seam.

``InvalidPermission.NotFound`` / ``InvalidSecurityGroupRuleId.NotFound`` (and a deleted group) mean the
rule is already gone: success, so replays and retries are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sgwatch.errors import RemediationError, aws_error
from sgwatch.model import Direction, Remediation, RemediationStatus, RevokePlan
from sgwatch.remediate.plan import describe_plan

ALREADY_GONE = frozenset({"InvalidPermission.NotFound", "InvalidSecurityGroupRuleId.NotFound", "InvalidGroup.NotFound"})


class Ec2Reverter:
    """``Reverter`` over boto3 EC2 clients (``client_for(region)``, created and cached by the caller)."""

    __slots__ = ("_client_for",)

    def __init__(self, client_for: Callable[[str | None], Any]) -> None:
        self._client_for = client_for

    def _request(self, plan: RevokePlan) -> tuple[str, dict[str, Any]]:
        if plan.restore_to is not None:
            if not plan.rule_id:
                raise RemediationError(f"{describe_plan(plan)}: a restore needs the rule id")
            rules = [{"SecurityGroupRuleId": plan.rule_id, "SecurityGroupRule": dict(plan.restore_to)}]
            return "modify_security_group_rules", {"GroupId": plan.group_id, "SecurityGroupRules": rules}
        operation = (
            "revoke_security_group_egress" if plan.direction is Direction.EGRESS else "revoke_security_group_ingress"
        )
        if plan.rule_id:
            return operation, {"GroupId": plan.group_id, "SecurityGroupRuleIds": [plan.rule_id]}
        if plan.ip_permission is None:
            raise RemediationError(f"{describe_plan(plan)}: the plan names neither a rule id nor a permission")
        return operation, {"GroupId": plan.group_id, "IpPermissions": [dict(plan.ip_permission)]}

    def execute(self, plan: RevokePlan, region: str | None) -> Remediation:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only when acting

        operation, kwargs = self._request(plan)
        subject = describe_plan(plan)
        try:
            response: Mapping[str, Any] = getattr(self._client_for(region), operation)(**kwargs)
        except ClientError as exc:
            code, message = aws_error(exc, 300)
            if code in ALREADY_GONE:
                return Remediation(
                    plan=plan,
                    status=RemediationStatus.ALREADY_REVERTED,
                    dry_run=False,
                    detail=f"{subject}: already gone ({code})",
                )
            raise RemediationError(
                f"{region or 'default region'}: {operation} {subject} failed: {code}: {message}"
            ) from exc
        except BotoCoreError as exc:
            raise RemediationError(f"{region or 'default region'}: {operation} {subject} failed: {exc}") from exc
        if response.get("Return") is False:
            raise RemediationError(f"{region or 'default region'}: {operation} {subject}: EC2 returned false")
        if response.get("UnknownIpPermissions"):
            return Remediation(
                plan=plan,
                status=RemediationStatus.ALREADY_REVERTED,
                dry_run=False,
                detail=f"{subject}: already gone (EC2 did not know the permission)",
            )
        if plan.restore_to is not None:
            return Remediation(
                plan=plan, status=RemediationStatus.RESTORED, dry_run=False, detail=f"{subject}: restored"
            )
        return Remediation(plan=plan, status=RemediationStatus.REVERTED, dry_run=False, detail=f"{subject}: revoked")
