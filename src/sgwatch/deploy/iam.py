"""Least-privilege IAM roles: the function's, CloudTrail's (for its log group) and the member forwarder's.

Every action is spelled out (no wildcards). Resources are the stack's own, except the EC2 Describe
actions, which do not support resource-level permissions and therefore need ``"*"``.
"""

from __future__ import annotations

from sgwatch.deploy.cfn import Json, assume_role_policy, get_att, policy_document, ref, statement, sub

# Read-only calls the enrichment stage makes (describe the group, its rules, interfaces and prefix lists).
ENRICH_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries",
)
# Calls the remediation stage makes (revoke what an event added; restore a modified rule).
REMEDIATE_ACTIONS: tuple[str, ...] = (
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",
)
QUEUE_ACTIONS: tuple[str, ...] = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
LOG_ACTIONS: tuple[str, ...] = ("logs:CreateLogStream", "logs:PutLogEvents")
# The sent ledger: read what a channel received, record what it accepted.
LEDGER_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:BatchWriteItem")


def function_role(*, remediation: bool) -> Json:
    """The Lambda function's execution role."""
    statements = [
        statement("WriteOwnLogs", list(LOG_ACTIONS), get_att("FunctionLogGroup", "Arn")),
        statement("ConsumeQueue", list(QUEUE_ACTIONS), get_att("Queue", "Arn")),
        statement("DescribeForEnrichment", list(ENRICH_ACTIONS), "*"),
        statement("PublishAlerts", ["sns:Publish"], ref("AlertTopic")),
        statement("UseSentLedger", list(LEDGER_ACTIONS), get_att("SentLedgerTable", "Arn")),
        statement(
            "ReadConfig",
            ["ssm:GetParameter"],
            sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ConfigParameterName}"),
        ),
    ]
    if remediation:
        statements.append(
            statement(
                "RevertSecurityGroupChanges",
                list(REMEDIATE_ACTIONS),
                sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*"),
            )
        )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "sgwatch function: read its queue and config, describe security groups, publish alerts",
            "AssumeRolePolicyDocument": assume_role_policy("lambda"),
            "Policies": [{"PolicyName": "sgwatch-function", "PolicyDocument": policy_document(*statements)}],
        },
    }


def trail_logs_role() -> Json:
    """The role CloudTrail assumes to deliver events to its CloudWatch Logs group (CIS 4.x metric filters)."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "CloudTrail delivery to the trail's CloudWatch Logs group",
            "AssumeRolePolicyDocument": assume_role_policy("cloudtrail"),
            "Policies": [
                {
                    "PolicyName": "cloudtrail-to-logs",
                    "PolicyDocument": policy_document(
                        statement(
                            "DeliverTrailEvents",
                            list(LOG_ACTIONS),
                            sub(
                                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                ":log-group:${TrailLogGroup}:log-stream:*"
                            ),
                        )
                    ),
                }
            ],
        },
    }


def forwarder_role() -> Json:
    """The role EventBridge assumes in a member account to put events on the central bus."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Forward security-group change events to the central sgwatch event bus",
            "AssumeRolePolicyDocument": assume_role_policy("events"),
            "Policies": [
                {
                    "PolicyName": "put-central-bus",
                    "PolicyDocument": policy_document(
                        statement("PutCentralBus", ["events:PutEvents"], ref("CentralEventBusArn"))
                    ),
                }
            ],
        },
    }
