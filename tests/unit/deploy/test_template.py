"""The CloudFormation template: goldens, rendering, the event pattern, least-privilege IAM and the pieces the issue names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from sgwatch.deploy.template import TemplateOptions, build_template, render_template
from sgwatch.errors import DeployError
from sgwatch.lambda_handler import LEDGER_TABLE_ENV
from sgwatch.normalize.events import SG_EVENT_NAMES

Variant = tuple[str, TemplateOptions]
CIS_4_10 = (
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
)
GRANT_PARAMETERS = ("SecretArns", "SecretParameterArns", "SesIdentityArns", "SnsTopicArns", "KmsKeyArns")
REVERT_ACTIONS = {"ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules"}


def resources_of(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in doc["Resources"].items() if r["Type"] == kind}


def role_statements(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every role; a conditional one (``Fn::If``) as the statement it adds when it holds."""
    for name, role in resources_of(doc, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for stmt in policy["PolicyDocument"]["Statement"]:
                yield name, stmt["Fn::If"][1] if "Fn::If" in stmt else stmt


def actions(stmt: dict[str, Any]) -> list[str]:
    value = stmt["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_golden_templates(variant: Variant, golden_json: Callable[[str, Any], None]) -> None:
    name, options = variant
    golden_json(f"template_{name}.json", build_template(options))


def test_golden_yaml_rendering(golden_text: Callable[[str, str], None]) -> None:
    golden_text("template_default.yaml", render_template(build_template(TemplateOptions()), "yaml"))


def test_renderings_round_trip_and_are_deterministic(variant: Variant) -> None:
    _, options = variant
    doc = build_template(options)
    as_yaml = render_template(doc, "yaml")
    as_json = render_template(doc, "json")
    assert yaml.safe_load(as_yaml) == doc
    assert json.loads(as_json) == doc
    assert render_template(build_template(options), "yaml") == as_yaml
    assert not re.search(r"(^|\s)!\w", as_yaml), "YAML tags"
    assert not re.search(r"[&*]id\d", as_yaml), "YAML anchors/aliases"
    assert list(doc)[:2] == ["AWSTemplateFormatVersion", "Description"]
    assert len(as_json.encode()) < 51200, "TemplateBody limit of CreateChangeSet"


def test_unknown_format_is_a_deploy_error() -> None:
    with pytest.raises(DeployError, match="unknown template format 'toml'"):
        render_template(build_template(TemplateOptions()), "toml")


def test_rule_pattern_lists_exactly_the_sg_event_names(variant: Variant) -> None:
    _, options = variant
    rules = resources_of(build_template(options), "AWS::Events::Rule")
    assert len(rules) == 1
    pattern = next(iter(rules.values()))["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.ec2"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventSource"] == ["ec2.amazonaws.com"]
    names = pattern["detail"]["eventName"]
    assert names == list(SG_EVENT_NAMES)
    assert len(set(names)) == len(names)
    for name in ("ModifySecurityGroupRules", "ModifyNetworkInterfaceAttribute", "ModifyInstanceAttribute"):
        assert name in names


def test_iam_has_no_wildcard_action_and_star_resource_only_for_describe(variant: Variant) -> None:
    _, options = variant
    statements = list(role_statements(build_template(options)))
    assert statements
    for role, stmt in statements:
        assert stmt["Effect"] == "Allow"
        for action in actions(stmt):
            assert "*" not in action, f"{role}: wildcard action {action}"
        if stmt["Resource"] == "*":
            assert all(a.startswith(("ec2:Describe", "ec2:GetManagedPrefixListEntries")) for a in actions(stmt)), (
                f"{role}: Resource * for {actions(stmt)}"
            )


def test_revoke_permissions_only_with_remediation(central: Variant) -> None:
    _, options = central
    granted = {a for _, stmt in role_statements(build_template(options)) for a in actions(stmt)}
    if options.remediation:
        assert granted >= REVERT_ACTIONS
    else:
        assert not granted & REVERT_ACTIONS
        assert not any("Revoke" in a or a.startswith("ec2:Modify") for a in granted)


def test_function_role_is_scoped_to_the_stacks_resources() -> None:
    doc = build_template(TemplateOptions(remediation=True))
    by_sid = {stmt["Sid"]: stmt for role, stmt in role_statements(doc) if role == "FunctionRole"}
    assert by_sid["WriteOwnLogs"]["Resource"] == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}
    assert set(actions(by_sid["ConsumeQueue"])) >= {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    assert by_sid["ConsumeQueue"]["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    # Which actions each statement grants: test_iam_actions.py (exactly the calls the code makes).
    assert by_sid["DescribeForEnrichment"]["Resource"] == "*"
    assert all(a.startswith("ec2:") for a in actions(by_sid["DescribeForEnrichment"]))
    assert actions(by_sid["PublishAlerts"]) == ["sns:Publish"]
    assert by_sid["PublishAlerts"]["Resource"] == {"Ref": "AlertTopic"}
    assert actions(by_sid["ReadConfig"]) == ["ssm:GetParameter"]
    assert by_sid["ReadConfig"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ConfigParameterName}"
    }
    assert by_sid["RevertSecurityGroupChanges"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*"
    }
    assert actions(by_sid["UseSentLedger"]) == ["dynamodb:Query", "dynamodb:BatchWriteItem"]
    assert by_sid["UseSentLedger"]["Resource"] == {"Fn::GetAtt": ["SentLedgerTable", "Arn"]}
    granted = {a for _, stmt in role_statements(doc) for a in actions(stmt) if a.startswith("dynamodb:")}
    assert granted == {"dynamodb:Query", "dynamodb:BatchWriteItem"}


def test_optional_grants_default_to_none_and_only_the_central_stack_has_them(variant: Variant) -> None:
    _, options = variant
    doc = build_template(options)
    if options.org_member is not None:
        assert not set(GRANT_PARAMETERS) & set(doc["Parameters"])
        return
    for name in GRANT_PARAMETERS:
        assert (doc["Parameters"][name]["Type"], doc["Parameters"][name]["Default"]) == ("CommaDelimitedList", "")
    by_sid = {stmt["Sid"]: stmt for role, stmt in role_statements(doc) if role == "FunctionRole"}
    assert by_sid["ReadSecrets"]["Resource"] == {"Ref": "SecretArns"}
    assert by_sid["ReadSecretParameters"]["Resource"] == {"Ref": "SecretParameterArns"}
    assert by_sid["SendEmailThroughSes"]["Resource"] == {"Ref": "SesIdentityArns"}
    assert by_sid["PublishToChannelTopics"] == {
        "Sid": "PublishToChannelTopics",
        "Effect": "Allow",
        "Action": "sns:Publish",
        "Resource": {"Ref": "SnsTopicArns"},
    }
    kms = by_sid["UseCustomerManagedKeys"]  # its exact text is pinned as test_iam_actions.KMS_ON_BEHALF
    assert (kms["Action"], kms["Resource"]) == (["kms:Decrypt", "kms:GenerateDataKey"], {"Ref": "KmsKeyArns"})
    via = [value["Fn::Sub"] for value in kms["Condition"]["StringEquals"]["kms:ViaService"]]
    assert [v.partition(".")[0] for v in via] == ["secretsmanager", "ssm", "sns"]


def test_sent_ledger_table_is_passed_to_the_function() -> None:
    res = build_template(TemplateOptions())["Resources"]
    table = res["SentLedgerTable"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Delete", "Delete")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "rule_key", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("rule_key", "S"),
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    variables = res["Function"]["Properties"]["Environment"]["Variables"]
    assert variables[LEDGER_TABLE_ENV] == {"Ref": "SentLedgerTable"}  # the name the handler reads


def test_lambda_function_queue_and_config() -> None:
    doc = build_template(TemplateOptions())
    res = doc["Resources"]
    fn = res["Function"]["Properties"]
    assert fn["Runtime"] == "python3.12"
    assert fn["Handler"] == "sgwatch.lambda_handler.handler"
    assert fn["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert fn["Environment"]["Variables"]["SGWATCH_CONFIG"] == {"Fn::Sub": "ssm:${ConfigParameterName}"}
    assert fn["ReservedConcurrentExecutions"]["Fn::If"][1] == {"Ref": "ReservedConcurrency"}
    assert fn["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert res["FunctionLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert doc["Parameters"]["ConfigParameterName"]["Default"].startswith("/")
    esm = res["FunctionEventSource"]["Properties"]
    assert esm["EventSourceArn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = res["Queue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * fn["Timeout"]
    rule = res["EventRule"]["Properties"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    policy = res["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"}
    assert policy["Action"] == "sqs:SendMessage"
    assert policy["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["EventRule", "Arn"]}}}
    param = res["ConfigParameter"]["Properties"]
    assert param["Name"] == {"Ref": "ConfigParameterName"}
    assert param["Value"] == {"Ref": "ConfigYaml"}
    for key in ("QueueUrl", "FunctionName", "TopicArn", "RuleName", "DeadLetterQueueUrl", "EventBusArn"):
        assert key in doc["Outputs"]


def test_topic_subscriptions_are_optional_and_alarms_go_to_the_topic() -> None:
    doc = build_template(TemplateOptions())
    subs = resources_of(doc, "AWS::SNS::Subscription")
    assert {s["Properties"]["Protocol"] for s in subs.values()} == {"email", "sms", "https"}
    for sub in subs.values():
        assert sub["Condition"] in doc["Conditions"]
        assert doc["Parameters"][sub["Properties"]["Endpoint"]["Ref"]]["Default"] == ""
    alarms = resources_of(doc, "AWS::CloudWatch::Alarm")
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()}
    assert metrics == {("AWS/Lambda", "Errors"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_trail_bucket_and_exact_cloudtrail_bucket_policy() -> None:
    res = build_template(TemplateOptions())["Resources"]
    trail = res["Trail"]["Properties"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IsLogging"] is True
    assert trail["KMSKeyId"]["Fn::If"][0] == "UseTrailKms"
    assert res["Trail"]["DependsOn"] == ["TrailBucketPolicy"]
    bucket = res["TrailBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    acl, write, tls = res["TrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    trail_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/${AWS::StackName}-trail"
    }
    assert trail["TrailName"] == {"Fn::Sub": "${AWS::StackName}-trail"}
    assert acl == {
        "Sid": "AWSCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": {"Fn::GetAtt": ["TrailBucket", "Arn"]},
        "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
    }
    assert write == {
        "Sid": "AWSCloudTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": {"Fn::Sub": "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"},
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}},
    }
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key = res["TrailKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert res["TrailKey"]["Condition"] == "UseTrailKms"


def test_existing_trail_leaves_the_trail_out() -> None:
    doc = build_template(TemplateOptions(existing_trail=True))
    kinds = {r["Type"] for r in doc["Resources"].values()}
    assert not kinds & {"AWS::CloudTrail::Trail", "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::KMS::Key"}
    assert "TrailEncryption" not in doc["Parameters"]


def test_cis_alarm_exact_pattern_on_the_trails_log_group() -> None:
    res = build_template(TemplateOptions(cis_alarm=True))["Resources"]
    flt = res["CisSecurityGroupMetricFilter"]["Properties"]
    assert flt["FilterPattern"] == CIS_4_10
    assert flt["LogGroupName"] == {"Ref": "TrailLogGroup"}
    trail = res["Trail"]["Properties"]
    assert trail["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": ["TrailLogGroup", "Arn"]}
    assert trail["CloudWatchLogsRoleArn"] == {"Fn::GetAtt": ["TrailLogsRole", "Arn"]}
    metric = flt["MetricTransformations"][0]
    alarm = res["CisSecurityGroupAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (metric["MetricNamespace"], metric["MetricName"])
    existing = build_template(TemplateOptions(cis_alarm=True, existing_trail=True))
    assert existing["Resources"]["CisSecurityGroupMetricFilter"]["Properties"]["LogGroupName"] == {
        "Ref": "TrailLogGroupName"
    }
    assert "CisSecurityGroupMetricFilter" not in build_template(TemplateOptions())["Resources"]


def test_central_stack_offers_an_organization_bus_policy() -> None:
    doc = build_template(TemplateOptions())
    policy = doc["Resources"]["OrganizationBusPolicy"]
    assert policy["Condition"] == "HasOrganizationId"
    assert policy["Properties"]["Statement"]["Action"] == "events:PutEvents"
    assert policy["Properties"]["Statement"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    }


def test_member_template_forwards_to_the_central_bus(member: Variant, central_bus: str) -> None:
    _, options = member
    doc = build_template(options)
    kinds = {r["Type"] for r in doc["Resources"].values()}
    assert "AWS::Lambda::Function" not in kinds
    assert "AWS::SQS::Queue" not in kinds
    assert doc["Parameters"]["CentralEventBusArn"]["Default"] == central_bus
    target = doc["Resources"]["ForwardRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Ref": "CentralEventBusArn"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ForwarderRole", "Arn"]}
    (role, stmt), *rest = list(role_statements(doc))
    assert not [r for r, _ in rest if r == "ForwarderRole"]
    assert (role, actions(stmt), stmt["Resource"]) == (
        "ForwarderRole",
        ["events:PutEvents"],
        {"Ref": "CentralEventBusArn"},
    )
    assert ("AWS::CloudTrail::Trail" in kinds) is not options.existing_trail


@pytest.mark.parametrize("arn", ["", "arn:aws:sqs:us-east-1:111122223333:queue", "event-bus/default"])
def test_member_template_rejects_a_non_bus_arn(arn: str) -> None:
    with pytest.raises(DeployError, match="expected the central event bus ARN"):
        build_template(TemplateOptions(org_member=arn))


def test_member_template_rejects_central_only_options(central_bus: str) -> None:
    with pytest.raises(DeployError, match="--remediation and --cis-alarm belong to the central stack"):
        build_template(TemplateOptions(org_member=central_bus, remediation=True))
