"""The CloudTrail event names sgwatch understands (the EventBridge rule and the pre-filter use this list)."""

from __future__ import annotations

RULE_EVENTS: frozenset[str] = frozenset(
    {
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "ModifySecurityGroupRules",
        "UpdateSecurityGroupRuleDescriptionsIngress",
        "UpdateSecurityGroupRuleDescriptionsEgress",
    }
)
GROUP_EVENTS: frozenset[str] = frozenset({"CreateSecurityGroup", "DeleteSecurityGroup"})
GROUP_SET_EVENTS: frozenset[str] = frozenset({"ModifyNetworkInterfaceAttribute", "ModifyInstanceAttribute"})

# Sorted, for templates and docs.
SG_EVENT_NAMES: tuple[str, ...] = tuple(sorted(RULE_EVENTS | GROUP_EVENTS | GROUP_SET_EVENTS))
EVENT_SOURCE = "ec2.amazonaws.com"
