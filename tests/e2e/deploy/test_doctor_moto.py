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
    "CloudTrail trail", "EventBridge rule", "Lambda function", "Dead-letter queue", "Config parameter",
    "Notification channels",
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
    assert result.stderr.endswith("sgwatch doctor: 6 check(s) failed: " + ", ".join(NAMES) + "\n")


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
