"""Organization-wide watching: member accounts (and other regions) forward the same events to a central bus.

The central stack listens on its region's default event bus; with an organization id it also lets every
account of that organization put events there. Each member account (or region) runs the small forwarder
template, usually as a StackSet.
"""

from __future__ import annotations

import re

from sgwatch.deploy import iam
from sgwatch.deploy.cfn import Fragment, get_att, not_empty, output, ref, statement, sub
from sgwatch.deploy.pipeline import event_bus_arn, event_rule
from sgwatch.errors import DeployError

EVENT_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._\-/]+$")


def check_bus_arn(arn: str) -> str:
    """Return ``arn`` when it is an EventBridge event-bus ARN, else raise DeployError saying what is expected."""
    if not EVENT_BUS_ARN.match(arn):
        raise DeployError(
            f"--org-member {arn!r}: expected the central event bus ARN, "
            "e.g. arn:aws:events:us-east-1:123456789012:event-bus/default (the central stack's EventBusArn output)"
        )
    return arn


def bus_policy_fragment() -> Fragment:
    """Central stack: when OrganizationId is set, let the organization's accounts put events on the default bus."""
    return Fragment(
        parameters={
            "OrganizationId": {
                "Type": "String",
                "Description": "AWS Organizations id (o-...) whose accounts may forward events here (empty: none)",
                "Default": "",
                "AllowedPattern": "^(o-[a-z0-9]{10,32})?$",
            }
        },
        conditions={"HasOrganizationId": not_empty("OrganizationId")},
        resources={
            "OrganizationBusPolicy": {
                "Type": "AWS::Events::EventBusPolicy",
                "Condition": "HasOrganizationId",
                "Properties": {
                    "EventBusName": "default",
                    "StatementId": sub("${AWS::StackName}-organization"),
                    "Statement": statement(
                        "OrganizationForwardsSecurityGroupEvents",
                        ["events:PutEvents"],
                        event_bus_arn(),
                        principal="*",
                        condition={"StringEquals": {"aws:PrincipalOrgID": ref("OrganizationId")}},
                    ),
                },
            }
        },
    )


def forwarder_fragment(central_bus_arn: str) -> Fragment:
    """Member stack: the same rule as the central one, targeting the central bus through a role."""
    return Fragment(
        parameters={
            "CentralEventBusArn": {
                "Type": "String",
                "Description": "ARN of the central sgwatch event bus (the central stack's EventBusArn output)",
                "Default": check_bus_arn(central_bus_arn),
                "AllowedPattern": EVENT_BUS_ARN.pattern,
            }
        },
        resources={
            "ForwarderRole": iam.forwarder_role(),
            "ForwardRule": event_rule(
                "Forward security-group changes to the central sgwatch event bus",
                {
                    "Id": "sgwatch-central-bus",
                    "Arn": ref("CentralEventBusArn"),
                    "RoleArn": get_att("ForwarderRole", "Arn"),
                },
            ),
        },
        outputs={
            "RuleName": output("The forwarding EventBridge rule", ref("ForwardRule")),
            "ForwarderRoleArn": output(
                "The role EventBridge uses to reach the central bus", get_att("ForwarderRole", "Arn")
            ),
        },
    )
