"""``sgwatch doctor`` against moto: a healthy pipeline passes; each breakage fails its check with a fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from sgwatch.deploy.deployer import Timing, deploy
from sgwatch.deploy.doctor import run_doctor
from sgwatch.deploy.health import Check
from sgwatch.deploy.package import PackageResult
from sgwatch.deploy.template import TemplateOptions

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]
CONFIG = "enrich: true\nnotify:\n  - type: console\n    stream: stderr\n"
NAMES = (
    "CloudTrail trail", "EventBridge rule", "Lambda function", "Queue consumer", "Queue backlog", "Dead-letter queue",
    "Config parameter", "Notification channels",
)  # fmt: skip


def by_name(checks: tuple[Check, ...]) -> dict[str, Check]:
    assert tuple(c.name for c in checks) == NAMES
    return {c.name: c for c in checks}


def assert_notify_ok(check: Check) -> None:
    # The notify stage is optional at this point: a skip says so, otherwise the console channel answers.
    if check.skipped:
        assert check.detail == "skipped: notify stage unavailable"
    else:
        assert check.ok, check.detail


@pytest.fixture
def pipeline(aws: str, small_package: PackageResult, fast: Timing) -> dict[str, str]:
    """A logging multi-region trail plus the sgwatch stack (using that trail); returns the stack's names."""
    boto3.client("s3").create_bucket(Bucket="org-trail-logs")
    trail = boto3.client("cloudtrail")
    trail.create_trail(Name="main", S3BucketName="org-trail-logs", IsMultiRegionTrail=True)
    trail.put_event_selectors(
        TrailName="main", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    trail.start_logging(Name="main")
    result = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": CONFIG}, dry_run=False, progress=lambda _line: None, timing=fast,
    )  # fmt: skip
    return dict(result.outputs)


def test_healthy_pipeline_passes(pipeline: dict[str, str], cli: Callable[..., Any]) -> None:
    checks = by_name(run_doctor(stack_name="sgw"))
    for name in NAMES[:-1]:
        assert checks[name].ok, (name, checks[name].detail)
        assert not checks[name].skipped, name
    assert "main is multi-region, logging" in checks["CloudTrail trail"].detail
    assert pipeline["RuleName"] in checks["EventBridge rule"].detail
    assert f"from the queue to {pipeline['FunctionName']} is Enabled" in checks["Queue consumer"].detail
    assert checks["Queue backlog"].detail == "empty"
    assert_notify_ok(checks["Notification channels"])

    result = cli("doctor", "--stack-name", "sgw")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sgwatch doctor" in result.stdout
    for name in NAMES:
        assert name in result.stdout
    assert "fail" not in result.stdout


def test_broken_pipeline_fails_each_check_with_a_fix(pipeline: dict[str, str], cli: Callable[..., Any]) -> None:
    boto3.client("cloudtrail").stop_logging(Name="main")
    boto3.client("events").disable_rule(Name=pipeline["RuleName"])
    boto3.client("sqs").send_message(QueueUrl=pipeline["DeadLetterQueueUrl"], MessageBody='{"detail": {}}')
    boto3.client("ssm").delete_parameter(Name=pipeline["ConfigParameterName"])
    boto3.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": pipeline["FunctionName"]}],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=10),
                "Value": 3,
            }
        ],
    )
    checks = by_name(run_doctor(stack_name="sgw"))
    expected = {
        "CloudTrail trail": ("main: not logging", "start-logging"),
        "EventBridge rule": (f"rule {pipeline['RuleName']} is DISABLED", f"enable-rule --name {pipeline['RuleName']}"),
        "Lambda function": ("3 error(s) in the last 24 h", "aws logs tail sgw-FunctionLogGroup-"),
        "Dead-letter queue": ("1 unprocessed event(s)", "start-message-move-task"),
        "Config parameter": ("parameter /sgwatch/config not found", "--config"),
        "Notification channels": ("no usable config", "config parameter"),
    }
    for name, (detail, fix) in expected.items():
        check = checks[name]
        assert not check.ok, name
        assert detail in check.detail, (name, check.detail)
        assert fix in check.fix, (name, check.fix)

    result = cli("doctor", "--stack-name", "sgw")
    assert result.returncode == 1
    assert "fail" in result.stdout
    assert checks["Queue consumer"].ok  # the queue is still read
    failed = ", ".join(name for name in NAMES if name not in ("Queue consumer", "Queue backlog"))
    assert result.stderr.endswith(f"sgwatch doctor: 6 check(s) failed: {failed}\n")


def test_bad_config_and_explicit_names(pipeline: dict[str, str]) -> None:
    boto3.client("ssm").put_parameter(
        Name=pipeline["ConfigParameterName"], Value="enrich: maybe\n", Type="String", Overwrite=True
    )
    checks = by_name(run_doctor(stack_name="sgw", names={"FunctionName": "not-there", "RuleName": "missing-rule"}))
    assert "ssm:/sgwatch/config:1: enrich: expected true or false" in checks["Config parameter"].detail
    assert checks["Lambda function"].detail == "function not-there not found"
    assert checks["EventBridge rule"].detail == "rule missing-rule not found"
    assert checks["Dead-letter queue"].ok


def test_without_a_trail_or_a_stack(aws: str) -> None:
    checks = by_name(run_doctor(stack_name=None))
    assert checks["CloudTrail trail"].detail == "no trail in this account"
    assert checks["Lambda function"].fix == "pass --stack-name of the sgwatch stack, or --function-name"
    assert not any(c.ok for c in checks.values())


def test_config_read_as_the_function_reads_it_and_local_channels(aws: str, tmp_path: Path) -> None:
    boto3.client("ssm").put_parameter(Name="/team/sgwatch", Value="enrich: false\n", Type="SecureString")
    names = {"ConfigParameterName": "/team/sgwatch"}
    checks = by_name(run_doctor(stack_name=None, names=names))
    assert checks["Config parameter"].ok
    assert checks["Config parameter"].detail == "/team/sgwatch parses"
    assert (
        checks["Notification channels"].detail
        == "ssm:/team/sgwatch: no channels configured; alerts reach only the logs"
    )

    local = tmp_path / "local.yaml"
    local.write_text("notify:\n  - type: console\n    stream: stderr\n", encoding="utf-8")
    checks = by_name(run_doctor(stack_name=None, names=names, config_path=local))
    assert checks["Config parameter"].ok
    assert_notify_ok(checks["Notification channels"])


def only_mapping(function: str) -> dict[str, Any]:
    (mapping,) = boto3.client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    return dict(mapping)


def queue_events_unread(pipeline: dict[str, str], count: int) -> str:
    """Disable the stack's event source mapping and queue ``count`` events (moto would otherwise run the
    function in a container); returns the mapping's UUID."""
    uuid = str(only_mapping(pipeline["FunctionName"])["UUID"])
    boto3.client("lambda").update_event_source_mapping(UUID=uuid, Enabled=False)
    for _ in range(count):
        boto3.client("sqs").send_message(QueueUrl=pipeline["QueueUrl"], MessageBody='{"detail": {}}')
    return uuid


def test_nothing_reads_the_queue_when_its_event_source_mapping_is_disabled_or_deleted(
    pipeline: dict[str, str], cli: Callable[..., Any]
) -> None:
    uuid = queue_events_unread(pipeline, 2)
    checks = by_name(run_doctor(stack_name="sgw"))
    assert not checks["Queue consumer"].ok
    assert f"event source mapping {uuid} from " in checks["Queue consumer"].detail
    assert "is Disabled" in checks["Queue consumer"].detail
    assert checks["Queue consumer"].fix == f"aws lambda update-event-source-mapping --uuid {uuid} --enabled"
    assert not checks["Queue backlog"].ok
    assert checks["Queue backlog"].detail.startswith("2 event(s) waiting")

    lambda_ = boto3.client("lambda")
    lambda_.update_event_source_mapping(UUID=uuid, Enabled=True)
    checks = by_name(run_doctor(stack_name="sgw"))
    assert checks["Queue consumer"].ok
    assert checks["Queue backlog"].ok
    assert checks["Queue backlog"].detail.endswith("; the function reads the queue")
    # An explicit --queue-url is the queue checked, not the stack's.
    other = boto3.client("sqs").create_queue(QueueName="other")["QueueUrl"]
    checks = by_name(run_doctor(stack_name="sgw", names={"QueueUrl": other}))
    assert not checks["Queue consumer"].ok
    assert checks["Queue consumer"].detail.startswith("no event source mapping from arn:aws:sqs:us-east-1:")
    assert ":other to " in checks["Queue consumer"].detail

    # The report: the mapping deleted, every other check passes, the events wait until they expire.
    lambda_.delete_event_source_mapping(UUID=uuid)
    checks = by_name(run_doctor(stack_name="sgw"))
    function = pipeline["FunctionName"]
    queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=pipeline["QueueUrl"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    consumer, backlog = checks["Queue consumer"], checks["Queue backlog"]
    assert not consumer.ok
    assert consumer.detail == f"no event source mapping from {queue_arn} to {function}: nothing reads the queue"
    assert consumer.fix == (
        f"aws lambda create-event-source-mapping --function-name {function} --event-source-arn {queue_arn} "
        "--function-response-types ReportBatchItemFailures"
    )
    assert not backlog.ok
    assert backlog.detail == (
        f"2 event(s) waiting, 0 in flight in {pipeline['QueueUrl']} and nothing reads the queue: they expire "
        "after 4 days without reaching the dead-letter queue"
    )
    assert "restore the function's event source mapping" in backlog.fix
    for name in ("CloudTrail trail", "EventBridge rule", "Lambda function", "Dead-letter queue", "Config parameter"):
        assert checks[name].ok, (name, checks[name].detail)

    result = cli("doctor", "--stack-name", "sgw")
    assert result.returncode == 1
    assert result.stderr.endswith("sgwatch doctor: 2 check(s) failed: Queue consumer, Queue backlog\n")


SNS_CONFIG = "notify:\n  - type: sns\n    name: stack-topic\n    topic_arn: env:SGWATCH_SNS_TOPIC_ARN\n"


def test_the_test_alert_reads_secrets_from_the_functions_environment(
    pipeline: dict[str, str], cli: Callable[..., Any]
) -> None:
    boto3.client("ssm").put_parameter(
        Name=pipeline["ConfigParameterName"], Value=SNS_CONFIG, Type="String", Overwrite=True
    )
    # The report's command: every name given, nothing in this shell; the function's environment has the topic.
    flags = ("--function-name", "--rule-name", "--queue-url", "--dlq-url", "--parameter-name")
    keys = ("FunctionName", "RuleName", "QueueUrl", "DeadLetterQueueUrl", "ConfigParameterName")
    args = [arg for flag, key in zip(flags, keys, strict=True) for arg in (flag, pipeline[key])]
    result = cli("doctor", *args, env={"SGWATCH_SNS_TOPIC_ARN": None})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sns: not sent" not in result.stdout
    explicit = {
        "FunctionName": pipeline["FunctionName"], "RuleName": pipeline["RuleName"], "QueueUrl": pipeline["QueueUrl"],
        "DeadLetterQueueUrl": pipeline["DeadLetterQueueUrl"],
    }  # fmt: skip
    # No stack, nothing in this shell: the function's SGWATCH_CONFIG names the config, its variables the topic.
    checks = by_name(run_doctor(stack_name=None, names=explicit, environ={}))
    for name in NAMES:
        assert checks[name].ok, (name, checks[name].detail)
    assert checks["Config parameter"].detail == f"{pipeline['ConfigParameterName']} parses"
    notify = checks["Notification channels"].detail
    assert notify == (
        f"1 channel(s) answered the test alert (env: references read from the environment of function "
        f"{pipeline['FunctionName']})"
    )
    checks = by_name(run_doctor(stack_name="sgw", environ={}))
    assert checks["Notification channels"].ok, checks["Notification channels"].detail


def test_a_variable_the_function_lacks_fails_even_when_this_shell_has_it(pipeline: dict[str, str]) -> None:
    config = SNS_CONFIG.replace("env:SGWATCH_SNS_TOPIC_ARN", "env:TEAM_TOPIC")
    boto3.client("ssm").put_parameter(Name=pipeline["ConfigParameterName"], Value=config, Type="String", Overwrite=True)
    checks = by_name(run_doctor(stack_name="sgw", environ={"TEAM_TOPIC": pipeline["TopicArn"]}))
    notify = checks["Notification channels"]
    assert not notify.ok
    assert "environment variable TEAM_TOPIC is not set" in notify.detail
    assert notify.detail.endswith(f"(env: references read from the environment of function {pipeline['FunctionName']})")
    assert "environment variables" in notify.fix

    # The function unknown: this shell's variables are all there is, and the detail says so.
    names = {"ConfigParameterName": pipeline["ConfigParameterName"]}
    checks = by_name(run_doctor(stack_name=None, names=names, environ={"TEAM_TOPIC": pipeline["TopicArn"]}))
    notify = checks["Notification channels"]
    assert notify.ok, notify.detail
    assert notify.detail.endswith("(env: references read from this shell's environment (no function known))")
    names["FunctionName"] = "not-there"
    checks = by_name(run_doctor(stack_name=None, names=names, environ={"TEAM_TOPIC": pipeline["TopicArn"]}))
    assert checks["Notification channels"].detail.endswith(
        "(env: references read from this shell's environment (function not-there not found))"
    )


def test_a_config_parameter_that_cannot_be_read_fails_its_row_and_the_others_still_run(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "not found": the read itself failed (here SSM does not answer). The row says so; no traceback."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    checks = by_name(run_doctor(stack_name=None, names={"ConfigParameterName": "/team/sgwatch"}))
    row = checks["Config parameter"]
    assert not row.ok
    assert "ssm:/team/sgwatch: cannot read the config parameter" in row.detail
    assert "not found" not in row.detail
    assert checks["CloudTrail trail"].detail == "no trail in this account"  # the other checks still ran
