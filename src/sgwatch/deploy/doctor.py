"""``sgwatch doctor``: check a live account's sgwatch pipeline end to end and say how to fix what is broken.

Resource names come from the stack (outputs, else its resources) or from explicit names; an explicit name
wins. Every check is isolated: an AWS error in one (say AccessDenied) fails that check, not the run. The test
alert reads its ``env:`` secrets from the function's environment variables, as the function does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sgwatch.deploy.aws import Aws, calling, connect, error_code, fetch, stack_names
from sgwatch.deploy.health import (
    QUEUE_BACKLOG,
    QUEUE_CONSUMER,
    Check,
    SecretEnvironment,
    delivery_failures,
    error_total,
    function_variables,
    judge_backlog,
    judge_consumer,
    missing_event_names,
    records_management_writes,
)
from sgwatch.errors import SgwatchError
from sgwatch.runtime.config_ref import SSM_PREFIX, load_config_ref
from sgwatch.settings import Settings

_FLAGS = {
    "FunctionName": "--function-name",
    "QueueUrl": "--queue-url",
    "DeadLetterQueueUrl": "--dlq-url",
    "RuleName": "--rule-name",
    "ConfigParameterName": "--parameter-name",
}


def _need(names: Mapping[str, str], key: str, check: str) -> str | Check:
    if names.get(key):
        return names[key]
    return Check(
        name=check,
        ok=False,
        detail=f"no {key} known",
        fix=f"pass --stack-name of the sgwatch stack, or {_FLAGS.get(key, key)}",
    )


def _queue_arn(aws: Aws, names: Mapping[str, str]) -> str:
    """The ARN of the queue at QueueUrl (an explicit --queue-url wins over the stack's), else the stack's QueueArn."""
    if not names.get("QueueUrl"):
        return names["QueueArn"]
    with calling(f"reading the ARN of the queue {names['QueueUrl']}"):
        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=names["QueueUrl"], AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def check_trail(aws: Aws) -> Check:
    """A multi-region trail is logging and records management write events."""
    name = "CloudTrail trail"
    ct = aws.client("cloudtrail")
    with calling("listing CloudTrail trails"):
        trails = ct.describe_trails(includeShadowTrails=True).get("trailList", [])
    problems: list[str] = []
    for trail in trails:
        label = str(trail.get("Name"))
        arn = str(trail.get("TrailARN", label))
        if not trail.get("IsMultiRegionTrail"):
            problems.append(f"{label}: single-region")
            continue
        with calling(f"reading the status of trail {label!r}"):
            logging = bool(ct.get_trail_status(Name=arn).get("IsLogging"))
            selectors = ct.get_event_selectors(TrailName=arn)
        if not logging:
            problems.append(f"{label}: not logging")
        elif not records_management_writes(selectors):
            problems.append(f"{label}: does not record EC2 management write events")
        else:
            return Check(name=name, ok=True, detail=f"{label} is multi-region, logging, records management writes")
    return Check(
        name=name,
        ok=False,
        detail="; ".join(problems) or "no trail in this account",
        fix="deploy the stack without --existing-trail, or: aws cloudtrail update-trail --name NAME "
        "--is-multi-region-trail; aws cloudtrail start-logging --name NAME; record management events "
        "(ReadWriteType All or WriteOnly)",
    )


def check_rule(aws: Aws, names: Mapping[str, str]) -> Check:
    """The EventBridge rule exists, is enabled, matches every SG event and targets the queue or function."""
    name = "EventBridge rule"
    rule = _need(names, "RuleName", name)
    if isinstance(rule, Check):
        return rule
    events = aws.client("events")
    described = fetch(
        f"describing rule {rule!r}", events.describe_rule, missing=("ResourceNotFoundException",), Name=rule
    )
    if described is None:
        return Check(name=name, ok=False, detail=f"rule {rule} not found", fix="redeploy: sgwatch deploy")
    if described.get("State") != "ENABLED":
        return Check(
            name=name,
            ok=False,
            detail=f"rule {rule} is {described.get('State')}",
            fix=f"aws events enable-rule --name {rule}",
        )
    missing = missing_event_names(described.get("EventPattern", "{}"))
    if missing:
        return Check(
            name=name,
            ok=False,
            detail=f"rule {rule} does not match: {', '.join(missing)}",
            fix="redeploy with this sgwatch version: sgwatch deploy --stack-name NAME",
        )
    with calling(f"listing targets of rule {rule!r}"):
        targets = [str(t.get("Arn")) for t in events.list_targets_by_rule(Rule=rule).get("Targets", [])]
    queue_arn = _queue_arn(aws, names) if names.get("QueueArn") or names.get("QueueUrl") else None
    wanted = {v for v in (queue_arn, names.get("FunctionArn")) if v}
    matching = [t for t in targets if t in wanted] if wanted else targets
    if not matching:
        return Check(
            name=name,
            ok=False,
            detail=f"rule {rule} targets {', '.join(targets) or 'nothing'}, not the sgwatch queue or function",
            fix="redeploy: sgwatch deploy --stack-name NAME",
        )
    return Check(name=name, ok=True, detail=f"{rule} is enabled, matches all events, targets {matching[0]}")


def check_function(aws: Aws, names: Mapping[str, str], now: datetime) -> Check:
    """The function exists and reported no Errors in the last 24 hours."""
    name = "Lambda function"
    function = _need(names, "FunctionName", name)
    if isinstance(function, Check):
        return function
    found = fetch(
        f"reading function {function!r}",
        aws.client("lambda").get_function,
        missing=("ResourceNotFoundException",),
        FunctionName=function,
    )
    if found is None:
        return Check(name=name, ok=False, detail=f"function {function} not found", fix="redeploy: sgwatch deploy")
    with calling(f"reading the Errors metric of {function}"):
        stats = aws.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=now - timedelta(hours=24),
            EndTime=now,
            Period=3600,
            Statistics=["Sum"],
        )
    errors = error_total(stats.get("Datapoints", []))
    if errors:
        return Check(
            name=name,
            ok=False,
            detail=f"{function}: {errors:.0f} error(s) in the last 24 h",
            fix=f"read its logs: aws logs tail {names.get('FunctionLogGroupName', '<its log group>')} --since 1d",
        )
    return Check(name=name, ok=True, detail=f"{function} exists, no errors in the last 24 h")


def check_consumer(aws: Aws, names: Mapping[str, str]) -> tuple[Check, bool | None]:
    """The function has an active event source mapping from the queue; and whether it has (None: not known)."""
    function = _need(names, "FunctionName", QUEUE_CONSUMER)
    if isinstance(function, Check):
        return function, None
    if not names.get("QueueArn"):
        url = _need(names, "QueueUrl", QUEUE_CONSUMER)
        if isinstance(url, Check):
            return url, None
    queue_arn = _queue_arn(aws, names)
    with calling(f"listing the event source mappings of {function} (lambda:ListEventSourceMappings)"):
        pages = aws.client("lambda").get_paginator("list_event_source_mappings")
        mappings = [
            m
            for page in pages.paginate(FunctionName=function, EventSourceArn=queue_arn)
            for m in page.get("EventSourceMappings", [])
        ]
    check = judge_consumer(mappings, function=function, queue_arn=queue_arn)
    return check, check.ok


def check_backlog(aws: Aws, names: Mapping[str, str], consumed: bool | None) -> Check:
    """Events waiting in the main queue are read by the function (``consumed``), else they expire unread."""
    url = _need(names, "QueueUrl", QUEUE_BACKLOG)
    if isinstance(url, Check):
        return url
    with calling(f"reading the queue {url}"):
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "MessageRetentionPeriod",
            ],
        )["Attributes"]
    return judge_backlog(attributes, url=url, consumed=consumed)


def check_dead_letter_queue(aws: Aws, names: Mapping[str, str]) -> Check:
    """The dead-letter queue is empty."""
    name = "Dead-letter queue"
    url = _need(names, "DeadLetterQueueUrl", name)
    if isinstance(url, Check):
        return url
    with calling(f"reading the dead-letter queue {url}"):
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    count = int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )
    if count:
        return Check(
            name=name,
            ok=False,
            detail=f"{count} unprocessed event(s) in {url}",
            fix=f"inspect them (aws sqs receive-message --queue-url {url}), fix the cause, then redrive: "
            f"aws sqs start-message-move-task --source-arn {attributes.get('QueueArn', '<dlq arn>')}",
        )
    return Check(name=name, ok=True, detail="empty")


def load_function_config(aws: Aws, ref: str, environ: Mapping[str, str]) -> Settings:
    """The settings at ``ref`` (a path or ``ssm:/name``), loaded as the function loads its ``SGWATCH_CONFIG``."""
    return load_config_ref(ref, environ, aws.clients, enrich_default=True)


def check_config(aws: Aws, names: Mapping[str, str], environ: Mapping[str, str]) -> tuple[Check, Settings | None]:
    """The SSM config parameter exists and parses as an sgwatch config (read as the function reads it)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - lazy

    name = "Config parameter"
    parameter = _need(names, "ConfigParameterName", name)
    if isinstance(parameter, Check):
        return parameter, None
    try:
        settings = load_function_config(aws, SSM_PREFIX + parameter, environ)
    except SgwatchError as exc:
        cause = exc.__cause__
        if isinstance(cause, ClientError) and error_code(cause) == "ParameterNotFound":
            return Check(
                name=name,
                ok=False,
                detail=f"parameter {parameter} not found",
                fix="redeploy with your config: sgwatch deploy --stack-name NAME --config sgwatch.yaml",
            ), None
        if isinstance(cause, ClientError | BotoCoreError):
            raise  # not read (permissions, network): run_doctor reports it
        return Check(name=name, ok=False, detail=str(exc), fix="fix the YAML and redeploy with --config"), None
    return Check(name=name, ok=True, detail=f"{parameter} parses"), settings


def secret_environment(aws: Aws, names: Mapping[str, str], shell: Mapping[str, str]) -> SecretEnvironment:
    """The variables the test alert's ``env:`` secret references read: the function's own
    (lambda:GetFunction, the call the function check makes too), as the function reads them; this shell's, with the stack's topic as
    ``SGWATCH_SNS_TOPIC_ARN``, only when the function's cannot be read."""
    function = names.get("FunctionName")
    why = "no function known"
    if function:
        try:
            found = fetch(
                f"reading the configuration of function {function!r}",
                aws.client("lambda").get_function,
                missing=("ResourceNotFoundException",),
                FunctionName=function,
            )
        except SgwatchError as exc:
            why = f"the function's environment is not readable: {exc}"
        else:
            variables, why = (
                (None, f"function {function} not found")
                if found is None
                else function_variables(found["Configuration"])
            )
            if variables is not None:
                return SecretEnvironment(
                    variables=variables, origin=f"the environment of function {function}", of_function=True
                )
    fallback = dict(shell)
    if names.get("TopicArn"):
        fallback.setdefault("SGWATCH_SNS_TOPIC_ARN", names["TopicArn"])
    return SecretEnvironment(variables=fallback, origin=f"this shell's environment ({why})", of_function=False)


def check_notify(settings: Settings | None, origin: str = "this shell's environment") -> Check:
    """Every configured notification channel answers a test alert (``sgwatch notify test``); its ``env:``
    secret references read the variables ``origin`` names (``settings.environ``)."""
    name = "Notification channels"
    if settings is None:
        return Check(name=name, ok=False, detail="no usable config", fix="fix the config parameter first")
    if not settings.notify:
        return Check(
            name=name,
            ok=False,
            detail=f"{settings.source}: no channels configured; alerts reach only the logs",
            fix="add a channel (e.g. type: slack with webhook_url) to the config and redeploy with --config",
        )
    try:
        from sgwatch.notify import send_test_alert  # noqa: PLC0415
    except ImportError:
        return Check(name=name, ok=True, skipped=True, detail="skipped: notify stage unavailable")
    try:
        deliveries = tuple(send_test_alert(settings) or ())
    except SgwatchError as exc:
        return Check(name=name, ok=False, detail=str(exc), fix="check the channel settings in the config")
    failures = delivery_failures(deliveries)
    read = f"env: references read from {origin}"
    if failures:
        return Check(
            name=name,
            ok=False,
            detail=f"{'; '.join(failures)} ({read})",
            fix="check the channel settings in the config and the function's environment variables",
        )
    return Check(name=name, ok=True, detail=f"{len(deliveries)} channel(s) answered the test alert ({read})")


def _failed(name: str, exc: SgwatchError) -> Check:
    """The row of a check whose AWS calls failed: it fails alone, the other checks still run."""
    return Check(name=name, ok=False, detail=str(exc), fix="check the credentials' permissions and region")


def _guarded(name: str, run: Callable[[], Check]) -> Check:
    try:
        return run()
    except SgwatchError as exc:
        return _failed(name, exc)


def run_doctor(
    *,
    stack_name: str | None,
    region: str | None = None,
    names: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[Check, ...]:
    """Run every check; ``names`` (output keys, e.g. FunctionName) override what the stack reports.

    The test alert's ``env:`` secret references read the function's environment variables (``environ``, by
    default this process's, only when those cannot be read); its ``SGWATCH_CONFIG`` names the config parameter
    when neither the stack nor ``names`` does.
    """
    aws = connect(region)
    resolved: dict[str, str] = stack_names(aws, stack_name) if stack_name else {}
    resolved.update({k: v for k, v in (names or {}).items() if v})
    secrets = secret_environment(aws, resolved, os.environ if environ is None else environ)
    env = secrets.variables
    config_ref = env.get("SGWATCH_CONFIG", "") if secrets.of_function else ""
    if config_ref.startswith(SSM_PREFIX) and len(config_ref) > len(SSM_PREFIX):
        resolved.setdefault("ConfigParameterName", config_ref[len(SSM_PREFIX) :])
    at = now or datetime.now(UTC)
    checks = [
        _guarded("CloudTrail trail", lambda: check_trail(aws)),
        _guarded("EventBridge rule", lambda: check_rule(aws, resolved)),
        _guarded("Lambda function", lambda: check_function(aws, resolved, at)),
    ]
    consumed: bool | None = None
    try:
        consumer_check, consumed = check_consumer(aws, resolved)
    except SgwatchError as exc:
        consumer_check = _failed(QUEUE_CONSUMER, exc)
    checks.append(consumer_check)
    checks.append(_guarded(QUEUE_BACKLOG, lambda: check_backlog(aws, resolved, consumed)))
    checks.append(_guarded("Dead-letter queue", lambda: check_dead_letter_queue(aws, resolved)))
    settings: Settings | None = None
    try:
        config_check, settings = check_config(aws, resolved, env)
    except SgwatchError as exc:
        config_check = _failed("Config parameter", exc)
    checks.append(config_check)
    if config_path is not None:
        settings = load_function_config(aws, str(config_path), env)
    checks.append(_guarded("Notification channels", lambda: check_notify(settings, secrets.origin)))
    return tuple(checks)
