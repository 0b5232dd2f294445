"""``sgwatch deploy`` against a moto server: dry run, create, no-op update, update, member stack, delete.

moto accepts but skips some resource types (the trail, bucket and queue policies, SNS subscriptions, alarms): these tests
assert on what moto does create; the rest is checked in the template tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from sgwatch.deploy.deployer import Timing, delete, deploy
from sgwatch.deploy.package import PackageResult
from sgwatch.deploy.template import TemplateOptions
from sgwatch.errors import DeployError
from sgwatch.normalize.events import SG_EVENT_NAMES

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]
CONFIG = "enrich: true\nnotify:\n  - type: console\n    stream: stderr\n"


def stack_exists(name: str) -> bool:
    try:
        boto3.client("cloudformation").describe_stacks(StackName=name)
    except boto3.client("cloudformation").exceptions.ClientError:
        return False
    return True


def role_policy(role_arn: str) -> str:
    answer = boto3.client("iam").get_role_policy(RoleName=role_arn.rsplit("/", 1)[-1], PolicyName="sgwatch-function")
    return str(answer["PolicyDocument"])


def test_dry_run_prints_the_change_set_and_creates_no_stack(
    aws: str, small_package: PackageResult, cli: Callable[..., Any]
) -> None:
    result = cli("deploy", "--stack-name", "sgw", "--package", str(small_package.path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Add     Function (AWS::Lambda::Function)" in result.stderr
    assert "Add     Trail (AWS::CloudTrail::Trail)" in result.stderr
    assert "  secretsmanager:GetSecretValue  none (SecretArns empty)\n" in result.stderr  # the grants, first
    assert result.stderr.index("function role grants") < result.stderr.index("creating create change set")
    # As --help and the README say: the package is uploaded (the change set names its key) and kept.
    key = f"sgwatch/lambda-{small_package.sha256}.zip"
    bucket = "sgwatch-artifacts-123456789012-us-east-1"
    assert f"; the change set was deleted (the package stays in s3://{bucket}/{key})\n" in result.stderr
    assert boto3.client("s3").head_object(Bucket=bucket, Key=key)
    assert not stack_exists("sgw")
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_deploy_creates_the_pipeline_then_updates_and_deletes_it(
    aws: str, small_package: PackageResult, fast: Timing
) -> None:
    lines: list[str] = []
    result = deploy(
        "sgw",
        TemplateOptions(existing_trail=True),
        bucket=None,
        package_path=small_package.path,
        parameters={"ConfigYaml": CONFIG, "AlertEmail": "sec@example.com"},
        dry_run=False,
        progress=lines.append,
        timing=fast,
    )
    assert result.status == "CREATE_COMPLETE"
    assert result.package_key == f"sgwatch/lambda-{small_package.sha256}.zip"
    assert any("CREATE_COMPLETE" in line and "sgw" in line for line in lines)
    names = result.outputs
    s3 = boto3.client("s3")
    assert s3.head_object(Bucket="sgwatch-artifacts-123456789012-us-east-1", Key=result.package_key)

    function = boto3.client("lambda").get_function(FunctionName=names["FunctionName"])
    config = function["Configuration"]
    assert (config["Runtime"], config["Handler"]) == ("python3.12", "sgwatch.lambda_handler.handler")
    assert config["Environment"]["Variables"]["SGWATCH_CONFIG"] == "ssm:/sgwatch/config"
    assert config["Environment"]["Variables"]["SGWATCH_SNS_TOPIC_ARN"] == names["TopicArn"]
    assert function["Concurrency"]["ReservedConcurrentExecutions"] == 5
    dynamodb = boto3.client("dynamodb")
    ledger = dynamodb.describe_table(TableName=names["SentLedgerTableName"])["Table"]
    assert config["Environment"]["Variables"]["SGWATCH_LEDGER_TABLE"] == ledger["TableName"]
    assert {(k["AttributeName"], k["KeyType"]) for k in ledger["KeySchema"]} == {("pk", "HASH"), ("rule_key", "RANGE")}
    assert ledger["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    mappings = boto3.client("lambda").list_event_source_mappings(FunctionName=names["FunctionName"])
    (mapping,) = mappings["EventSourceMappings"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    sqs = boto3.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=names["QueueUrl"], AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=names["DeadLetterQueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
    assert json.loads(queue["RedrivePolicy"])["deadLetterTargetArn"] == dlq["QueueArn"]
    assert mapping["EventSourceArn"] == queue["QueueArn"]

    events = boto3.client("events")
    rule = events.describe_rule(Name=names["RuleName"])
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"])["detail"]["eventName"] == list(SG_EVENT_NAMES)
    (target,) = events.list_targets_by_rule(Rule=names["RuleName"])["Targets"]
    assert target["Arn"] == queue["QueueArn"]
    assert target["DeadLetterConfig"]["Arn"] == dlq["QueueArn"]

    assert boto3.client("ssm").get_parameter(Name="/sgwatch/config")["Parameter"]["Value"] == CONFIG
    assert boto3.client("sns").get_topic_attributes(TopicArn=names["TopicArn"])["Attributes"]
    # moto skips AWS::SNS::Subscription; the conditional subscriptions are checked in the template tests.

    granted = role_policy(config["Role"])  # moto keeps inline role policies as text
    assert "sns:Publish" in granted
    assert "ec2:DescribeSecurityGroupRules" in granted
    assert "ec2:RevokeSecurityGroupIngress" not in granted
    assert "dynamodb:BatchWriteItem" in granted

    # Same template, same parameters: nothing to do, and that is not an error.
    again = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={}, dry_run=False, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert again.status == "NO_CHANGES"
    assert f"package already uploaded: s3://sgwatch-artifacts-123456789012-us-east-1/{result.package_key}" in lines
    assert again.outputs["FunctionName"] == names["FunctionName"]

    # Turning remediation on changes only the role; parameters not given keep their values.
    updated = deploy(
        "sgw", TemplateOptions(existing_trail=True, remediation=True), bucket=None,
        package_path=small_package.path, parameters={}, dry_run=False, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert updated.status == "UPDATE_COMPLETE"
    assert updated.changes == ("Modify  FunctionRole (AWS::IAM::Role)",)
    assert boto3.client("ssm").get_parameter(Name="/sgwatch/config")["Parameter"]["Value"] == CONFIG
    # moto updates a role without its inline policies, so the new grant is checked in the template tests.

    gone = delete("sgw", progress=lines.append, timing=fast)
    assert gone.status == "DELETED"
    assert not stack_exists("sgw")
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert boto3.client("sns").list_topics()["Topics"] == []
    assert dynamodb.list_tables()["TableNames"] == []


def test_delete_through_the_cli(aws: str, small_package: PackageResult, cli: Callable[..., Any]) -> None:
    created = cli("deploy", "--stack-name", "sgw", "--package", str(small_package.path), "--existing-trail")
    assert created.returncode == 0, created.stderr
    assert "FunctionName\t" in created.stdout
    assert stack_exists("sgw")
    deleted = cli("deploy", "--delete", "--stack-name", "sgw")
    assert deleted.returncode == 0, deleted.stderr
    assert "stack sgw deleted" in deleted.stderr
    assert not stack_exists("sgw")
    again = cli("deploy", "--delete", "--stack-name", "sgw")
    assert again.returncode == 2
    assert again.stderr == "sgwatch: error: stack 'sgw' does not exist in us-east-1: nothing to delete\n"


def test_member_stack_needs_no_package(aws: str, fast: Timing) -> None:
    bus = "arn:aws:events:us-east-1:111122223333:event-bus/default"
    result = deploy(
        "sgw-member", TemplateOptions(org_member=bus, existing_trail=True), bucket=None, package_path=None,
        parameters={}, dry_run=False, progress=lambda _line: None, timing=fast,
    )  # fmt: skip
    assert result.status == "CREATE_COMPLETE"
    assert result.package_key is None
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    events = boto3.client("events")
    (rule,) = events.list_rules()["Rules"]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == bus
    assert ":role/" in target["RoleArn"]


def test_missing_bucket_and_unknown_parameter_are_deploy_errors(
    aws: str, small_package: PackageResult, fast: Timing
) -> None:
    with pytest.raises(DeployError, match="checking artifact bucket 'nope'"):
        deploy(
            "sgw", TemplateOptions(), bucket="nope", package_path=small_package.path, parameters={},
            dry_run=True, progress=lambda _line: None, timing=fast,
        )  # fmt: skip
    lines: list[str] = []
    with pytest.raises(DeployError, match="unknown stack parameter"):
        deploy(
            "sgw", TemplateOptions(), bucket=None, package_path=None, parameters={"Nope": "1"},
            dry_run=True, progress=lines.append, timing=fast,
        )  # fmt: skip
    assert lines == []  # refused before the grants, the package build and the upload
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert not stack_exists("sgw")


def test_no_credentials_is_a_clear_error(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(DeployError, match="no AWS credentials found"):
        delete("sgw", progress=lambda _line: None, timing=Timing(poll_seconds=0.01, timeout_seconds=1))


def test_an_unknown_profile_is_a_clear_error(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(DeployError, match=r"opening the AWS session: .*no-such-profile"):
        delete("sgw", progress=lambda _line: None, timing=Timing(poll_seconds=0.01, timeout_seconds=1))
