"""Remediate one judged change inside a batch: scope, safety rules, replay protection, plan, execute, record."""

from __future__ import annotations

import logging

from sgwatch.errors import RemediationError, SgwatchError
from sgwatch.model import Action, GroupInfo, Judgement, Remediation, RemediationStatus
from sgwatch.remediate.plan import describe_plan, in_scope, plan_revert, skip_reason
from sgwatch.runtime.app import App
from sgwatch.runtime.logs import log_event

REPLAY_DETAIL = "already reverted when this event was first delivered (replay): nothing to do"


def remediate(judgement: Judgement, app: App, group: GroupInfo | None) -> Remediation | None:
    """What remediation did (or would do) for this change; None when it is out of scope (off, or below
    ``min_severity``). Never raises for AWS failures: they come back as a FAILED Remediation."""
    config = app.remediation
    if not in_scope(judgement, config):
        return None
    change = judgement.change
    reason = skip_reason(judgement, config, app.own_session_names, app.own_account)
    unknown = None  # why the audit store could not say whether this change was already reverted
    try:
        replayed = reason is None and app.already_executed(change)
    except SgwatchError as exc:
        replayed, unknown = False, str(exc)
        log_event(logging.ERROR, "audit_read_failed", detail=unknown, event_id=change.event_id)
    if replayed:
        remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=config.dry_run,
                                  detail=REPLAY_DETAIL)  # fmt: skip
        _log(judgement, remediation)
        return remediation  # a replay is a no-op: not even recorded again
    previous = None
    if reason is not None:
        remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=config.dry_run, detail=reason)
    else:
        previous = app.previous_definition(change) if change.action is Action.MODIFIED else None
        plan = plan_revert(judgement, previous=previous, group=group)
        if isinstance(plan, str):
            remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=config.dry_run,
                                      detail=plan)  # fmt: skip
        elif config.dry_run or app.reverter is None:
            remediation = Remediation(plan=plan, status=RemediationStatus.PLANNED, dry_run=True,
                                      detail=f"dry run: would {plan.reason}: {describe_plan(plan)}")  # fmt: skip
        elif unknown is not None:
            # Saying "executed" could skip a revert that never ran; acting could revert a replay again over a
            # later legitimate change. So this change fails (its batch item is retried) and nothing is done.
            remediation = Remediation(
                plan=plan,
                status=RemediationStatus.FAILED,
                dry_run=False,
                detail=f"{describe_plan(plan)}: cannot tell whether this change was already reverted (audit store: "
                f"{unknown}); not acting, so that a replay is never executed twice; the event will be retried",
            )
        else:
            try:
                remediation = app.reverter.execute(plan, change.region)
            except RemediationError as exc:
                remediation = Remediation(plan=plan, status=RemediationStatus.FAILED, dry_run=False, detail=str(exc))
    app.record_remediation(change, remediation, previous)
    _log(judgement, remediation)
    return remediation


def _log(judgement: Judgement, remediation: Remediation) -> None:
    change = judgement.change
    failed = remediation.status is RemediationStatus.FAILED
    log_event(
        logging.ERROR if failed else logging.INFO,
        "remediation_failed" if failed else "remediation",
        status=str(remediation.status),
        dry_run=remediation.dry_run,
        event_id=change.event_id,
        rule_key=change.rule_key,
        group_id=change.group_id,
        severity=str(judgement.severity),
        detail=remediation.detail,
    )
