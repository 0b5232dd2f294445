"""Deploy or tear down the sgwatch stack: upload the package, create/update through a change set, wait, report.

Every step is reported through ``progress`` (one line each), the function role's optional grants (secrets,
SES identities and SNS topics derived from the config; KMS keys) before the change set. A change set with no
changes is not an error. A failed stack operation raises DeployError naming the resources that failed and
CloudFormation's reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sgwatch.deploy.artifacts import Progress, ensure_bucket, upload_package
from sgwatch.deploy.aws import (
    Aws,
    caller_identity,
    calling,
    connect,
    describe_stack,
    error_code,
    error_message,
    stack_names,
)
from sgwatch.deploy.grantplan import GrantPlan, Need, config_needs, derive_grants, plan_grants
from sgwatch.deploy.template import TemplateOptions, build_template, render_template
from sgwatch.errors import DeployError

NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed", "does not contain changes")
BUSY_SUFFIX = "_IN_PROGRESS"
DONE_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """How often to poll and how long to wait (tests shorten both)."""

    poll_seconds: float = 3.0
    timeout_seconds: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployResult:
    """What a deploy or delete did. ``status`` is the final stack status, or DRY_RUN / NO_CHANGES / DELETED."""

    stack_name: str
    status: str
    changes: tuple[str, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)
    package_key: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def format_change(change: Mapping[str, Any]) -> str:
    """One line per change-set change: action, logical id, type and replacement."""
    rc = change.get("ResourceChange", {})
    line = f"{rc.get('Action', '?'):<7} {rc.get('LogicalResourceId', '?')} ({rc.get('ResourceType', '?')})"
    if rc.get("Replacement") in ("True", "Conditional"):
        line += f" replacement: {rc['Replacement']}"
    return line


def failure_reasons(events: list[dict[str, Any]]) -> list[str]:
    """``Logical (Type): STATUS: reason`` for every failed resource in ``events`` (the stack itself last)."""
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")]
    failed.sort(key=lambda e: e.get("ResourceType") == "AWS::CloudFormation::Stack")
    return [
        f"{e.get('LogicalResourceId')} ({e.get('ResourceType')}): {e.get('ResourceStatus')}: "
        f"{e.get('ResourceStatusReason', 'no reason given')}"
        for e in failed
    ]


class _Stack:
    """One stack's CloudFormation calls, with progress lines from its events."""

    def __init__(self, aws: Aws, name: str, progress: Progress, timing: Timing) -> None:
        self.aws = aws
        self.cfn = aws.client("cloudformation")
        self.name = name
        self.progress = progress
        self.timing = timing
        self._seen: set[str] = set()

    def _events(self) -> list[dict[str, Any]]:
        with calling(f"reading events of stack {self.name!r}"):
            pages = self.cfn.get_paginator("describe_stack_events").paginate(StackName=self.name)
            return [event for page in pages for event in page.get("StackEvents", [])]

    def mark_seen(self) -> None:
        """Remember the events that exist now, so only new ones are reported."""
        if describe_stack(self.aws, self.name) is not None:
            self._seen.update(str(e["EventId"]) for e in self._events())

    def report_new_events(self) -> list[dict[str, Any]]:
        """Print events not reported yet (oldest first) and return them."""
        fresh = [e for e in reversed(self._events()) if str(e["EventId"]) not in self._seen]
        for event in fresh:
            self._seen.add(str(event["EventId"]))
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            self.progress(
                f"  {event.get('ResourceStatus', '?'):<22} {event.get('LogicalResourceId', '?')} "
                f"({event.get('ResourceType', '?')}){reason}"
            )
        return fresh

    def wait(self, *, deleting: bool = False) -> tuple[str, list[dict[str, Any]]]:
        """Poll until the stack is no longer busy; return its final status and the events seen meanwhile."""
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.timing.timeout_seconds
        while True:
            stack = describe_stack(self.aws, self.name)
            if stack is None and deleting:
                return "DELETE_COMPLETE", events
            if stack is None:
                raise DeployError(f"stack {self.name!r} disappeared while waiting for it")
            events += self.report_new_events()
            status = str(stack["StackStatus"])
            # A settled status counts only once the stack's own event for it arrived: right after an
            # execute call, describe_stacks may still show the previous operation's final status.
            settled = any(
                e.get("ResourceType") == "AWS::CloudFormation::Stack" and e.get("ResourceStatus") == status
                for e in events
            )
            if settled and not status.endswith(BUSY_SUFFIX):
                return status, events
            if time.monotonic() > deadline:
                raise DeployError(
                    f"stack {self.name!r} still {status} after {self.timing.timeout_seconds:.0f} s; "
                    "watch it in the CloudFormation console and run the command again when it settles"
                )
            time.sleep(self.timing.poll_seconds)


def change_set_type(stack: Mapping[str, Any] | None, name: str) -> str:
    """CREATE or UPDATE for a described stack (None: absent); DeployError when it cannot take a change set."""
    if stack is None:
        return "CREATE"
    status = str(stack["StackStatus"])
    if status == "REVIEW_IN_PROGRESS":
        return "CREATE"
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise DeployError(
            f"stack {name!r} is {status} and cannot be updated; delete it with "
            f"`sgwatch deploy --delete --stack-name {name}` and deploy again"
        )
    if status.endswith(BUSY_SUFFIX):
        raise DeployError(f"stack {name!r} is busy ({status}); wait for it to finish and run the command again")
    return "UPDATE"


def check_parameter_names(template: Mapping[str, Any], given: Mapping[str, str]) -> None:
    """DeployError naming every key of ``given`` that ``template`` declares no parameter for."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DeployError(
            f"unknown stack parameter(s) {', '.join(unknown)} (this template takes: {', '.join(declared)})"
        )


def stack_parameters(
    template: Mapping[str, Any], given: Mapping[str, str], stack: Mapping[str, Any] | None, kind: str
) -> list[dict[str, Any]]:
    """Change-set parameters: given values, else (on UPDATE) the stack's previous value, else the default."""
    check_parameter_names(template, given)
    declared = template.get("Parameters", {})
    previous = {p["ParameterKey"] for p in (stack or {}).get("Parameters", [])} if kind == "UPDATE" else set()
    out: list[dict[str, Any]] = []
    for key in declared:
        if key in given:
            out.append({"ParameterKey": key, "ParameterValue": given[key]})
        elif key in previous:
            out.append({"ParameterKey": key, "UsePreviousValue": True})
    return out


def _create_change_set(
    stack: _Stack, kind: str, body: str, parameters: list[dict[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """Create a change set and wait for it; None when the endpoint reports there is nothing to change."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - boto is loaded lazily

    name = "sgwatch-" + _now().strftime("%Y%m%d%H%M%S%f")
    with calling(f"creating change set for stack {stack.name!r}"):
        try:
            stack.cfn.create_change_set(
                StackName=stack.name,
                ChangeSetName=name,
                ChangeSetType=kind,
                TemplateBody=body,
                Parameters=parameters,
                Capabilities=["CAPABILITY_IAM"],
                Description="sgwatch deploy",
            )
        except ClientError as exc:
            # Some endpoints refuse an unchanged update outright instead of failing the change set.
            if error_code(exc) == "ValidationError" and any(t in error_message(exc) for t in NO_CHANGE_REASONS):
                return None
            raise
    deadline = time.monotonic() + stack.timing.timeout_seconds
    while True:
        with calling(f"reading change set {name!r}"):
            pages = stack.cfn.get_paginator("describe_change_set").paginate(StackName=stack.name, ChangeSetName=name)
            described = list(pages)
        status = str(described[0].get("Status", ""))
        if status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
            merged = dict(described[0])
            merged["Changes"] = [c for page in described for c in page.get("Changes", [])]
            return name, merged
        if time.monotonic() > deadline:
            raise DeployError(f"change set {name!r} still {status} after {stack.timing.timeout_seconds:.0f} s")
        time.sleep(stack.timing.poll_seconds)


def _discard(stack: _Stack, change_set: str, kind: str) -> None:
    with calling(f"deleting change set {change_set!r}"):
        stack.cfn.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
    if kind == "CREATE":  # a CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind
        with calling(f"removing the empty stack {stack.name!r}"):
            stack.cfn.delete_stack(StackName=stack.name)


def _plan_grants(
    aws: Aws,
    needs: tuple[Need, ...] | None,
    given: Mapping[str, str],
    existing: Mapping[str, Any] | None,
    kind: str,
) -> tuple[GrantPlan, str | None]:
    """The grant parameters for ``needs`` (None: no config given), and the account id when it was read."""
    account = None
    derived = None
    if needs is not None:
        account, partition = caller_identity(aws)
        derived = derive_grants(needs, partition=partition, region=aws.region, account=account)
    previous = {
        str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
        for p in (existing or {}).get("Parameters", [])
        if kind == "UPDATE"
    }
    return plan_grants(derived, given, previous), account


def deploy(
    stack_name: str,
    options: TemplateOptions,
    *,
    bucket: str | None,
    package_path: Path | None,
    parameters: Mapping[str, str],
    dry_run: bool,
    progress: Progress,
    region: str | None = None,
    timing: Timing = Timing(),
    config_source: str = "ConfigYaml",
) -> DeployResult:
    """Create or update ``stack_name`` from the template for ``options`` through a change set.

    With a ``ConfigYaml`` parameter (``--config``), the function role's optional grants are derived from its
    notify section (``config_source`` names it in messages); grant parameters in ``parameters`` win. The plan
    of the grants goes to ``progress`` before the change set is created. Unknown parameter names are refused
    before any AWS call. ``dry_run`` still uploads the package (the change set names its key), then deletes the
    change set instead of executing it.
    """
    given = dict(parameters)
    central = options.org_member is None
    template = build_template(options)
    check_parameter_names(template, given)  # before any AWS call, package build or upload
    needs = config_needs(given["ConfigYaml"], config_source) if central and "ConfigYaml" in given else None
    body = render_template(template, "yaml")
    aws = connect(region)
    stack = _Stack(aws, stack_name, progress, timing)
    existing = describe_stack(aws, stack_name)
    kind = change_set_type(existing, stack_name)
    account = None
    if central:
        plan, account = _plan_grants(aws, needs, given, existing, kind)
        given.update(plan.parameters)
        for line in plan.lines():
            progress(line)
    package_key = None
    if central and "CodeKey" not in given:
        code_bucket = ensure_bucket(aws, bucket, progress, account=account)
        package_key = upload_package(aws, code_bucket, package_path, progress)
        given.update(CodeBucket=code_bucket, CodeKey=package_key)
    stack_params = stack_parameters(template, given, existing, kind)
    stack.mark_seen()
    progress(f"creating {kind.lower()} change set for stack {stack_name} in {aws.region}")
    created = _create_change_set(stack, kind, body, stack_params)
    reason = ""
    if created is not None and created[1]["Status"] == "FAILED":
        reason = str(created[1].get("StatusReason", "no reason given"))
        _discard(stack, created[0], kind)
        if not any(text in reason for text in NO_CHANGE_REASONS):
            raise DeployError(f"stack {stack_name!r}: the change set failed: {reason}")
    if created is None or reason:
        progress(f"no changes: stack {stack_name} is up to date")
        return DeployResult(
            stack_name=stack_name,
            status="NO_CHANGES",
            outputs=stack_names(aws, stack_name),
            package_key=package_key,
        )
    change_set, described = created
    changes = tuple(format_change(c) for c in described["Changes"])
    for line in changes:
        progress(f"  {line}")
    if dry_run:
        _discard(stack, change_set, kind)
        kept = f" (the package stays in s3://{given['CodeBucket']}/{package_key})" if package_key else ""
        progress(f"dry run: {len(changes)} change(s) not applied; the change set was deleted{kept}")
        return DeployResult(stack_name=stack_name, status="DRY_RUN", changes=changes, package_key=package_key)
    with calling(f"executing change set {change_set!r}"):
        stack.cfn.execute_change_set(StackName=stack_name, ChangeSetName=change_set)
    status, events = stack.wait()
    if status not in DONE_OK:
        reasons = failure_reasons(events) or ["no failed resource reported; see the stack's events"]
        raise DeployError(f"stack {stack_name!r} ended {status}: " + "; ".join(reasons))
    outputs = stack_names(aws, stack_name)
    progress(f"stack {stack_name}: {status}")
    for key in sorted(outputs):
        progress(f"  {key} = {outputs[key]}")
    return DeployResult(
        stack_name=stack_name,
        status=status,
        changes=changes,
        outputs=outputs,
        package_key=package_key,
    )


def delete(
    stack_name: str,
    *,
    progress: Progress,
    region: str | None = None,
    timing: Timing = Timing(),
) -> DeployResult:
    """Delete ``stack_name`` and wait; the trail bucket and key are retained (their policy says so)."""
    aws = connect(region)
    stack = _Stack(aws, stack_name, progress, timing)
    if describe_stack(aws, stack_name) is None:
        raise DeployError(f"stack {stack_name!r} does not exist in {aws.region}: nothing to delete")
    stack.mark_seen()
    progress(f"deleting stack {stack_name} in {aws.region}")
    with calling(f"deleting stack {stack_name!r}"):
        stack.cfn.delete_stack(StackName=stack_name)
    status, events = stack.wait(deleting=True)
    if status != "DELETE_COMPLETE":
        reasons = failure_reasons(events) or ["see the stack's events"]
        raise DeployError(f"stack {stack_name!r} ended {status}: " + "; ".join(reasons))
    progress(f"stack {stack_name} deleted (the trail's bucket and KMS key are kept; delete them by hand if unwanted)")
    return DeployResult(stack_name=stack_name, status="DELETED")
