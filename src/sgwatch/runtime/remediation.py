"""Remediate one judged change inside a batch: scope, safety rules, replay protection, plan, execute, record.

Replays are no-ops in every container: before acting, the revert log (``App.reverts``, kept in the sent
ledger) and the audit store are asked whether this change was already reverted; each attempt is recorded
before the call, and its outcome after it. A revert that EC2 refused is tried again on the next delivery. One
whose outcome was never recorded (the process stopped during the call, or EC2 did not answer) is tried again
only when that is harmless: a revoke by rule id (a revoked id never comes back). Revoking a permission again,
or restoring a rule again, could undo a change a person made on purpose since, so that fails instead, for a
person to look at.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sgwatch.errors import RemediationError, SgwatchError
from sgwatch.model import Action, GroupInfo, Judgement, Remediation, RemediationStatus, RevokePlan, RuleChange
from sgwatch.remediate.plan import describe_plan, in_scope, outcome_text, plan_revert, skip_reason
from sgwatch.runtime.app import App
from sgwatch.runtime.deadline import REVERT_RESERVE, Deadline
from sgwatch.runtime.logs import log_event
from sgwatch.runtime.reverts import DONE, MAX_ATTEMPTS, RevertState

REPLAY_DETAIL = "already {status} when this event was first delivered (replay): nothing to do"


def remediate(
    judgement: Judgement, app: App, group: GroupInfo | None, *, deadline: Deadline | None = None
) -> Remediation | None:
    """What remediation did (or would do) for this change; None when it is out of scope (off, or below
    ``min_severity``). Never raises for AWS or ledger failures: they come back as a FAILED Remediation.
    ``deadline``: a revert starts only while it can end before it."""
    config = app.remediation
    if not in_scope(judgement, config):
        return None
    change = judgement.change
    reason = skip_reason(judgement, config, app.own_session_names, app.own_account)
    live = not config.dry_run and app.reverter is not None
    state, unknown = RevertState(), None  # unknown: why the revert log could not be read
    if reason is None and live:
        state, unknown = _state(app, change)
        if state.done is not None:
            remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=False,
                                      detail=REPLAY_DETAIL.format(status=_said(state.done)))  # fmt: skip
            _log(judgement, remediation)
            return remediation  # a replay is a no-op: not even recorded again
    previous = None
    if reason is not None:
        remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=config.dry_run, detail=reason)
    else:
        modified = change.action is Action.MODIFIED and change.rule_id is not None
        previous = app.previous_definition(change) if modified else None
        current = app.snapshots.current(change.rule_id) if modified and change.rule_id else None
        plan = plan_revert(judgement, previous=previous, group=group, current=current)
        if isinstance(plan, str):
            remediation = Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=config.dry_run,
                                      detail=plan)  # fmt: skip
        elif not live:
            remediation = Remediation(plan=plan, status=RemediationStatus.PLANNED, dry_run=True,
                                      detail=outcome_text(plan, RemediationStatus.PLANNED))  # fmt: skip
        else:
            remediation = _execute(app, change, plan, state, unknown=unknown, deadline=deadline)
    app.record_remediation(change, remediation, previous)
    _log(judgement, remediation)
    return remediation


def _said(status: RemediationStatus) -> str:
    return "reverted" if status is RemediationStatus.ALREADY_REVERTED else str(status)


def _state(app: App, change: RuleChange) -> tuple[RevertState, str | None]:
    """The revert log's story of ``change`` (what this process or the audit store knows was carried out counts
    as done too), and why it could not all be read (None when it could)."""
    state, unknown = RevertState(), None
    try:
        state = app.reverts.state(change)
    except SgwatchError as exc:
        unknown = f"revert log: {exc}"
    if state.done is None:
        try:
            if app.already_executed(change):
                state = replace(state, done=RemediationStatus.REVERTED)
        except SgwatchError as exc:
            unknown = unknown or f"audit store: {exc}"
    if unknown is not None and state.done is None:
        log_event(logging.ERROR, "audit_read_failed", detail=unknown, event_id=change.event_id)
        return state, unknown
    return state, None


def _repeatable(plan: RevokePlan) -> bool:
    """Carrying the plan out twice does no harm: a revoke by rule id (a revoked id never comes back)."""
    return plan.rule_id is not None and plan.restore_to is None


def _execute(
    app: App,
    change: RuleChange,
    plan: RevokePlan,
    state: RevertState,
    *,
    unknown: str | None,
    deadline: Deadline | None,
) -> Remediation:
    def failed(detail: str) -> Remediation:
        return Remediation(plan=plan, status=RemediationStatus.FAILED, dry_run=False, detail=detail)

    repeatable = _repeatable(plan)
    if unknown is not None and not repeatable:
        # Saying "executed" could skip a revert that never ran; acting could revert a replay again over a
        # later legitimate change. So this change fails (its batch item is retried) and nothing is done.
        return failed(f"cannot tell whether this change was already reverted ({unknown}); not acting, so that a "
                      "replay is never executed twice; the event will be retried")  # fmt: skip
    if state.unsettled and not repeatable:
        return failed(
            f"attempt {state.attempts} ended without a known outcome (a timeout or a stopped process): it may have "
            "been carried out and the rule changed on purpose since, so it is not repeated; check the group and "
            "revert by hand if needed"
        )
    if state.attempts >= MAX_ATTEMPTS:
        return failed(f"{state.attempts} attempts were refused; not trying again: check the role and the group")
    short = deadline.too_short(REVERT_RESERVE) if deadline is not None else None
    if short is not None:
        return failed(f"not attempted: {short}")
    attempt = state.attempts + 1
    log = app.reverts
    try:
        log.started(change, attempt)
    except SgwatchError as exc:
        log_event(logging.ERROR, "revert_log_write_failed", detail=str(exc), event_id=change.event_id)
        if not repeatable:
            return failed(f"not attempted: cannot record the attempt ({exc}); the event will be retried")
    assert app.reverter is not None
    try:
        remediation = app.reverter.execute(plan, change.region)
    except RemediationError as exc:
        return failed(str(exc))  # no outcome is recorded: unsettled
    try:
        if remediation.status in DONE:
            log.done(change, remediation.status)
        elif remediation.status is RemediationStatus.FAILED:
            log.refused(change, attempt)
    except SgwatchError as exc:
        log_event(logging.ERROR, "revert_log_write_failed", detail=str(exc), event_id=change.event_id)
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
        plan=describe_plan(remediation.plan) if remediation.plan is not None else None,
        severity=str(judgement.severity),
        detail=remediation.detail,
    )
