"""Fan-out and alarms: the SNS topic (with optional subscriptions), the health alarms and the CIS 4.10 alarm."""

from __future__ import annotations

from typing import Any

from sgwatch.deploy.cfn import Fragment, Json, get_att, not_empty, output, ref

# CIS AWS Foundations Benchmark 4.10: "Ensure a log metric filter and alarm exist for security group changes".
CIS_SECURITY_GROUP_PATTERN = (
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
)
CIS_NAMESPACE = "sgwatch/CIS"
CIS_METRIC = "SecurityGroupEventCount"

# parameter -> (protocol, description)
_SUBSCRIPTIONS: dict[str, tuple[str, str]] = {
    "AlertEmail": ("email", "E-mail address subscribed to the alert topic (empty: none)"),
    "AlertSms": (
        "sms",
        "Phone number (E.164, e.g. +15551234567) subscribed to the alert topic (empty: none)",
    ),
    "AlertHttpsEndpoint": (
        "https",
        "HTTPS endpoint subscribed to the alert topic, e.g. a PagerDuty CloudWatch integration URL (empty: none)",
    ),
}


def _alarm(description: str, metric: Json, *, threshold: int = 1) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            **metric,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlertTopic")],
        },
    }


def topic_fragment() -> Fragment:
    """The SNS topic and one conditional subscription per channel parameter."""
    parameters: Json = {}
    conditions: Json = {}
    resources: Json = {"AlertTopic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "sgwatch"}}}
    for name, (protocol, description) in _SUBSCRIPTIONS.items():
        parameters[name] = {"Type": "String", "Description": description, "Default": ""}
        conditions[f"Has{name}"] = not_empty(name)
        resources[f"{name}Subscription"] = {
            "Type": "AWS::SNS::Subscription",
            "Condition": f"Has{name}",
            "Properties": {"TopicArn": ref("AlertTopic"), "Protocol": protocol, "Endpoint": ref(name)},
        }
    return Fragment(
        parameters=parameters,
        conditions=conditions,
        resources=resources,
        outputs={"TopicArn": output("SNS topic for alerts and alarms (fan-out)", ref("AlertTopic"))},
    )


def health_alarms_fragment() -> Fragment:
    """Alarms on function errors and on dead-letter queue depth, both to the topic."""
    return Fragment(
        resources={
            "FunctionErrorsAlarm": _alarm(
                "sgwatch function errors: alerts may be delayed; see the function's log group",
                {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": ref("Function")}],
                    "Statistic": "Sum",
                },
            ),
            "DeadLetterQueueAlarm": _alarm(
                "sgwatch dead-letter queue holds events that were not processed: inspect and redrive them",
                {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": get_att("DeadLetterQueue", "QueueName")}],
                    "Statistic": "Maximum",
                },
            ),
        }
    )


def cis_alarm_fragment(log_group_name: Any) -> Fragment:
    """The CIS 4.10 metric filter on the trail's log group, and its alarm."""
    return Fragment(
        resources={
            "CisSecurityGroupMetricFilter": {
                "Type": "AWS::Logs::MetricFilter",
                "Properties": {
                    "LogGroupName": log_group_name,
                    "FilterPattern": CIS_SECURITY_GROUP_PATTERN,
                    "MetricTransformations": [
                        {"MetricNamespace": CIS_NAMESPACE, "MetricName": CIS_METRIC, "MetricValue": "1"}
                    ],
                },
            },
            "CisSecurityGroupAlarm": _alarm(
                "CIS 4.10: a security group was changed",
                {"Namespace": CIS_NAMESPACE, "MetricName": CIS_METRIC, "Statistic": "Sum"},
            ),
        }
    )
