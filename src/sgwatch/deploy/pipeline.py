"""The event path: EventBridge rule -> SQS queue (with a dead-letter queue) -> Lambda function, and its config.

The queue sits between the rule and the function so bursts and outages lose nothing: the function reports
per-record failures (``ReportBatchItemFailures``), failed records are retried, and what keeps failing ends
in the dead-letter queue, where an alarm fires. Events EventBridge cannot deliver land there too. The
function remembers what each channel already received in a DynamoDB table (the sent ledger), so a record
delivered twice, to any container, notifies once.
"""

from __future__ import annotations

from sgwatch.deploy import iam
from sgwatch.deploy.cfn import (
    NO_VALUE,
    Fragment,
    Json,
    get_att,
    if_,
    not_empty,
    output,
    policy_document,
    ref,
    service_principal,
    stack_arn,
    statement,
    sub,
)
from sgwatch.normalize.events import EVENT_SOURCE, SG_EVENT_NAMES

HANDLER = "sgwatch.lambda_handler.handler"
LAMBDA_PYTHON = "3.12"  # the Lambda runtime; the package's wheels are resolved for the same version
RUNTIME = f"python{LAMBDA_PYTHON}"
FUNCTION_TIMEOUT_SECONDS = 60
DEFAULT_CONFIG_PARAMETER = "/sgwatch/config"
DEFAULT_CONFIG_YAML = "enrich: true"
TOPIC_ENV = "SGWATCH_SNS_TOPIC_ARN"  # the function's variable holding the stack's topic (granted sns:Publish)
CONFIG_ENV = "SGWATCH_CONFIG"
LEDGER_ENV = "SGWATCH_LEDGER_TABLE"
FUNCTION_ENV = (CONFIG_ENV, TOPIC_ENV, LEDGER_ENV)  # every variable the stack gives the function
# Values CloudWatch Logs accepts for RetentionInDays.
RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def event_pattern() -> Json:
    """The EventBridge pattern for every security-group change sgwatch understands."""
    return {
        "source": ["aws.ec2"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": [EVENT_SOURCE], "eventName": list(SG_EVENT_NAMES)},
    }


def event_rule(description: str, target: Json) -> Json:
    """An enabled EventBridge rule matching ``event_pattern()``, with one target."""
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Description": description,
            "State": "ENABLED",
            "EventPattern": event_pattern(),
            "Targets": [target],
        },
    }


def event_bus_arn() -> Json:
    """The stack region's default event bus: the central rule listens there, member accounts forward there."""
    return stack_arn("events", "event-bus/default")


def log_group() -> Json:
    """A CloudWatch Logs group kept for the ``LogRetentionDays`` parameter."""
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": ref("LogRetentionDays")}}


def _parameters() -> Json:
    return {
        "CodeBucket": {
            "Type": "String",
            "Description": "S3 bucket holding the Lambda package (sgwatch package; sgwatch deploy uploads it)",
            "MinLength": 3,
        },
        "CodeKey": {
            "Type": "String",
            "Description": "S3 key of the Lambda package zip",
            "MinLength": 1,
        },
        "ConfigParameterName": {
            "Type": "String",
            "Description": "Name of the SSM parameter holding the sgwatch YAML config (starts with /)",
            "Default": DEFAULT_CONFIG_PARAMETER,
            "AllowedPattern": "^/[a-zA-Z0-9_.\\-/]+$",
        },
        "ConfigYaml": {
            "Type": "String",
            "Description": "The sgwatch YAML config (channels, policy, remediation) stored in the SSM parameter",
            "Default": DEFAULT_CONFIG_YAML,
            "NoEcho": True,
            "MinLength": 1,
        },
        "ReservedConcurrency": {
            "Type": "Number",
            "Description": "Reserved concurrent executions for the function (0 leaves it unreserved)",
            "Default": 5,
            "MinValue": 0,
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Description": "Retention of the CloudWatch Logs groups this stack creates, in days",
            "Default": 90,
            "AllowedValues": list(RETENTION_DAYS),
        },
    }


def _queues() -> Json:
    return {
        "DeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        },
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                # Six times the function timeout, as Lambda recommends for SQS event sources.
                "VisibilityTimeout": 6 * FUNCTION_TIMEOUT_SECONDS,
                "MessageRetentionPeriod": 345600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": get_att("DeadLetterQueue", "Arn"),
                    "maxReceiveCount": 5,
                },
            },
        },
        "QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref("Queue"), ref("DeadLetterQueue")],
                "PolicyDocument": policy_document(
                    *(
                        statement(
                            f"EventRuleSendsTo{name}",
                            ["sqs:SendMessage"],
                            get_att(name, "Arn"),
                            principal=service_principal("events"),
                            condition={"ArnEquals": {"aws:SourceArn": get_att("EventRule", "Arn")}},
                        )
                        for name in ("Queue", "DeadLetterQueue")
                    )
                ),
            },
        },
    }


def _rule() -> Json:
    return event_rule(
        "Security-group changes recorded by CloudTrail, for sgwatch",
        {
            "Id": "sgwatch-queue",
            "Arn": get_att("Queue", "Arn"),
            "DeadLetterConfig": {"Arn": get_att("DeadLetterQueue", "Arn")},
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
        },
    )


def _ledger_table() -> Json:
    """The sent ledger: one item per (channel#alert, rule), expired by TTL after 30 days."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Delete",  # a ledger, not a record: losing it risks a repeated alert, never a lost one
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "rule_key", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "rule_key", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    }


def _function() -> Json:
    return {
        "SentLedgerTable": _ledger_table(),
        "FunctionLogGroup": log_group(),
        "ConfigParameter": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": ref("ConfigParameterName"),
                "Description": "sgwatch config (YAML), read by the function at start",
                "Type": "String",
                "Tier": "Intelligent-Tiering",
                "Value": ref("ConfigYaml"),
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Description": "sgwatch: alert on (and optionally revert) security-group changes",
                "Runtime": RUNTIME,
                "Handler": HANDLER,
                "Architectures": ["x86_64"],
                "Code": {"S3Bucket": ref("CodeBucket"), "S3Key": ref("CodeKey")},
                "Role": get_att("FunctionRole", "Arn"),
                "MemorySize": 512,
                "Timeout": FUNCTION_TIMEOUT_SECONDS,
                "ReservedConcurrentExecutions": if_("HasReservedConcurrency", ref("ReservedConcurrency"), NO_VALUE),
                "Environment": {
                    "Variables": {
                        CONFIG_ENV: sub("ssm:${ConfigParameterName}"),
                        TOPIC_ENV: ref("AlertTopic"),
                        LEDGER_ENV: ref("SentLedgerTable"),
                    }
                },
                "LoggingConfig": {"LogGroup": ref("FunctionLogGroup"), "LogFormat": "Text"},
            },
        },
        "FunctionEventSource": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": get_att("Queue", "Arn"),
                "FunctionName": ref("Function"),
                "BatchSize": 10,
                "Enabled": True,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        },
    }


def pipeline_fragment(*, remediation: bool) -> Fragment:
    """Rule, queues, config parameter, function and its role."""
    resources: Json = {
        **_queues(),
        "EventRule": _rule(),
        **_function(),
        "FunctionRole": iam.function_role(remediation=remediation),
    }
    return Fragment(
        parameters=_parameters(),
        conditions={"HasReservedConcurrency": not_empty("ReservedConcurrency", empty="0")},
        resources=resources,
        outputs={
            "FunctionName": output("The sgwatch Lambda function", ref("Function")),
            "FunctionLogGroupName": output("The function's CloudWatch Logs group", ref("FunctionLogGroup")),
            "QueueUrl": output("The queue the rule feeds and the function reads", ref("Queue")),
            "QueueArn": output("ARN of the queue", get_att("Queue", "Arn")),
            "DeadLetterQueueUrl": output("Events that could not be processed", ref("DeadLetterQueue")),
            "RuleName": output("The EventBridge rule", ref("EventRule")),
            "SentLedgerTableName": output(
                "The DynamoDB sent ledger (what each channel received)", ref("SentLedgerTable")
            ),
            "ConfigParameterName": output("The SSM parameter holding the config", ref("ConfigParameter")),
            "EventBusArn": output("The event bus the rule listens on (member accounts forward here)", event_bus_arn()),
        },
    )
