"""Least-privilege IAM roles: the function's, CloudTrail's (for its log group) and the member forwarder's.

Every action is spelled out (no wildcards). Resources are the stack's own, except the EC2 read actions,
which do not support resource-level permissions and therefore need ``"*"``, and the optional grants (secrets,
SES identities, SNS topics, KMS keys), which name exactly the ARNs their parameters list
(sgwatch.deploy.grants). The function's grants are the calls its code makes (derived from the source by
tests/unit/deploy/test_iam_actions.py), plus the KMS use that Secrets Manager, SSM and SNS make on its behalf
with customer-managed keys, allowed only through those services.
"""

from __future__ import annotations

from sgwatch.deploy.cfn import Json, get_att, policy_document, ref, service_principal, stack_arn, statement
from sgwatch.deploy.grants import grant_statements

# Read-only calls the enrichment stage makes (describe the group, its rules and interfaces; prefix-list entries).
ENRICH_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeNetworkInterfaces",
    "ec2:GetManagedPrefixListEntries",
)
# Calls the remediation stage makes (revoke what an event added; restore a modified rule).
REMEDIATE_ACTIONS: tuple[str, ...] = (
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",
)
# Calls Lambda makes with the role: the SQS event source mapping polls the queue; the runtime writes the logs.
QUEUE_ACTIONS: tuple[str, ...] = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
LOG_ACTIONS: tuple[str, ...] = ("logs:CreateLogStream", "logs:PutLogEvents")
# The sent ledger: read what a channel received, record what it accepted.
LEDGER_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:BatchWriteItem")


def _role(description: str, service: str, policy_name: str, *statements: Json) -> Json:
    """A role that ``service`` assumes, with one inline policy."""
    trust = statement("TrustService", ["sts:AssumeRole"], None, principal=service_principal(service))
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": description,
            "AssumeRolePolicyDocument": policy_document(trust),
            "Policies": [{"PolicyName": policy_name, "PolicyDocument": policy_document(*statements)}],
        },
    }


def function_role(*, remediation: bool) -> Json:
    """The Lambda function's execution role."""
    statements = [
        statement("WriteOwnLogs", list(LOG_ACTIONS), get_att("FunctionLogGroup", "Arn")),
        statement("ConsumeQueue", list(QUEUE_ACTIONS), get_att("Queue", "Arn")),
        statement("DescribeForEnrichment", list(ENRICH_ACTIONS), "*"),
        statement("PublishAlerts", ["sns:Publish"], ref("AlertTopic")),
        statement("UseSentLedger", list(LEDGER_ACTIONS), get_att("SentLedgerTable", "Arn")),
        statement("ReadConfig", ["ssm:GetParameter"], stack_arn("ssm", "parameter${ConfigParameterName}")),
        *grant_statements(),
    ]
    if remediation:
        statements.append(
            statement("RevertSecurityGroupChanges", list(REMEDIATE_ACTIONS), stack_arn("ec2", "security-group/*"))
        )
    return _role(
        "sgwatch function: read its queue and config, describe security groups, publish alerts",
        "lambda",
        "sgwatch-function",
        *statements,
    )


def trail_logs_role() -> Json:
    """The role CloudTrail assumes to deliver events to its CloudWatch Logs group (CIS 4.x metric filters)."""
    return _role(
        "CloudTrail delivery to the trail's CloudWatch Logs group",
        "cloudtrail",
        "cloudtrail-to-logs",
        statement(
            "DeliverTrailEvents", list(LOG_ACTIONS), stack_arn("logs", "log-group:${TrailLogGroup}:log-stream:*")
        ),
    )


def forwarder_role() -> Json:
    """The role EventBridge assumes in a member account to put events on the central bus."""
    return _role(
        "Forward security-group change events to the central sgwatch event bus",
        "events",
        "put-central-bus",
        statement("PutCentralBus", ["events:PutEvents"], ref("CentralEventBusArn")),
    )
