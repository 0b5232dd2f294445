"""CloudTrailRecord -> RuleChange(s): one per rule x peer, or one per group-level event.

Failed calls become attempts (``outcome: failure``): one per rule the request names, else one per event.
Records of other services, read-only calls and attribute changes that do not touch security groups yield
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sgwatch.model import Action, CloudTrailRecord, Direction, Outcome, PeerKind, RuleChange
from sgwatch.normalize.events import EVENT_SOURCE, SG_EVENT_NAMES
from sgwatch.normalize.permissions import Rule, merge, pair, permission_rules, request_rules, response_rules
from sgwatch.normalize.values import MAPPING, Where, items, rule_ports, string, type_name

_RULE_CALLS: dict[str, tuple[Action, Direction]] = {
    "AuthorizeSecurityGroupIngress": (Action.ADDED, Direction.INGRESS),
    "AuthorizeSecurityGroupEgress": (Action.ADDED, Direction.EGRESS),
    "RevokeSecurityGroupIngress": (Action.REMOVED, Direction.INGRESS),
    "RevokeSecurityGroupEgress": (Action.REMOVED, Direction.EGRESS),
    "UpdateSecurityGroupRuleDescriptionsIngress": (Action.DESCRIPTION_CHANGED, Direction.INGRESS),
    "UpdateSecurityGroupRuleDescriptionsEgress": (Action.DESCRIPTION_CHANGED, Direction.EGRESS),
}
_REQ = "$.requestParameters"


class _Builder:
    """Makes RuleChanges that share the record's common fields, numbering them in order."""

    def __init__(self, record: CloudTrailRecord) -> None:
        self.record = record
        self.changes: list[RuleChange] = []

    def add(self, action: Action, **fields: Any) -> None:
        r = self.record
        common: dict[str, Any] = {
            "outcome": Outcome.FAILURE if r.failed else Outcome.SUCCESS,
            "error_code": r.error_code,
            "error_message": r.error_message,
        }
        common.update(fields)
        self.changes.append(
            RuleChange(
                event_id=r.event_id,
                event_name=r.event_name,
                event_time=r.event_time,
                account_id=r.account_id,
                region=r.region,
                actor=r.actor,
                source_ip=r.source_ip,
                user_agent=r.user_agent,
                action=action,
                rule_index=len(self.changes),
                origin=r.origin,
                **common,
            )
        )

    def add_rule(
        self, action: Action, rule: Rule, group_id: str | None, group_name: str | None, not_applied: bool = False
    ) -> None:
        """One change for ``rule``; ``not_applied``: the call succeeded but AWS reported the rule as unknown."""
        extra: dict[str, Any] = {}
        if not_applied:
            extra = {
                "outcome": Outcome.FAILURE,
                "error_code": UNKNOWN_PERMISSION,
                "error_message": "the call succeeded but AWS reported this permission as unknown: nothing changed",
            }
        self.add(
            action,
            **extra,
            group_id=rule.group_id or group_id,
            group_name=group_name,
            direction=rule.direction,
            protocol=rule.protocol,
            from_port=rule.from_port,
            to_port=rule.to_port,
            peer=rule.peer,
            peer_kind=rule.peer_kind,
            peer_account_id=rule.peer_account_id,
            rule_id=rule.rule_id,
            description=rule.description,
        )


def _rule_ids(params: Mapping[str, Any], key: str, where: Where) -> list[tuple[str | None, str | None]]:
    """``securityGroupRuleIds`` / ``securityGroupRuleDescriptions``: (rule id, description) pairs."""
    value = params.get(key)
    if isinstance(value, MAPPING) and isinstance(value.get("items"), list):
        value = value["items"]
    if value is None or value == {}:
        return []
    if not isinstance(value, list):
        raise where.error(f"{_REQ}.{key}", f"expected a list, got {type_name(value)}")
    out: list[tuple[str | None, str | None]] = []
    for index, entry in enumerate(value):
        path = f"{_REQ}.{key}[{index}]"
        if isinstance(entry, str):
            out.append((entry, None))
        elif isinstance(entry, MAPPING):
            rule_id = string(entry, "securityGroupRuleId", path, where) or string(
                entry, "SecurityGroupRuleId", path, where
            )
            description = string(entry, "description", path, where) or string(entry, "Description", path, where)
            out.append((rule_id, description))
        else:
            raise where.error(path, f"expected a rule id, got {type_name(entry)}")
    return out


def _rule_call(record: CloudTrailRecord, params: Mapping[str, Any], where: Where, out: _Builder) -> None:
    """Authorize/Revoke/UpdateSecurityGroupRuleDescriptions, Ingress and Egress."""
    action, direction = _RULE_CALLS[record.event_name]
    group_id = string(params, "groupId", _REQ, where)
    group_name = string(params, "groupName", _REQ, where)
    rules = request_rules(params, direction, where)
    for rule_id, description in _rule_ids(params, "securityGroupRuleIds", where) + _rule_ids(
        params, "securityGroupRuleDescriptions", where
    ):
        rules.append(Rule(direction=direction, rule_id=rule_id, description=description))
    unknown: list[Rule] = []
    if not record.failed:
        response = record.response_elements
        responded = response_rules(response, "securityGroupRuleSet", where)
        if responded is None:
            responded = response_rules(response, "revokedSecurityGroupRuleSet", where)
        rules = merge(rules, responded)
        if response is not None and action is Action.REMOVED:
            base = "$.responseElements.unknownIpPermissionSet"
            unknown = permission_rules(response.get("unknownIpPermissionSet"), direction, base, where)
    if not rules:
        out.add(action, group_id=group_id, group_name=group_name, direction=direction)
        return
    # The call succeeded, but AWS did not know the rules named in unknownIpPermissionSet: nothing was removed.
    not_applied, _ = pair(rules, unknown)
    for rule, unknown_entry in zip(rules, not_applied, strict=True):
        out.add_rule(action, rule, group_id, group_name, not_applied=unknown_entry is not None)


UNKNOWN_PERMISSION = "unknownIpPermissionSet"


def _modify_rules(record: CloudTrailRecord, params: Mapping[str, Any], where: Where, out: _Builder) -> None:
    """ModifySecurityGroupRules: the new definition of each rule; the event carries no direction."""
    base = f"{_REQ}.ModifySecurityGroupRulesRequest"
    request = params.get("ModifySecurityGroupRulesRequest", params)
    if not isinstance(request, MAPPING):
        raise where.error(base, f"expected an object, got {type_name(request)}")
    group_id = string(request, "GroupId", base, where) or string(request, "groupId", base, where)
    raw_rules = request.get("SecurityGroupRule")
    if isinstance(raw_rules, MAPPING) and "items" not in raw_rules:
        raw_rules = [raw_rules]  # one rule is recorded as an object, several as a list
    entries = items(raw_rules, f"{base}.SecurityGroupRule", where)
    if not entries:
        out.add(Action.MODIFIED, group_id=group_id)
        return
    for index, entry in enumerate(entries):
        path = f"{base}.SecurityGroupRule[{index}]"
        rule_id = string(entry, "SecurityGroupRuleId", path, where)
        spec = entry.get("SecurityGroupRule") or {}
        if not isinstance(spec, MAPPING):
            raise where.error(f"{path}.SecurityGroupRule", f"expected an object, got {type_name(spec)}")
        spath = f"{path}.SecurityGroupRule"
        proto, from_port, to_port = rule_ports(spec, spath, where, ("IpProtocol", "FromPort", "ToPort"))
        peer, kind = None, None
        for key, peer_kind in (
            ("CidrIpv4", PeerKind.IPV4),
            ("CidrIpv6", PeerKind.IPV6),
            ("PrefixListId", PeerKind.PREFIX_LIST),
            ("ReferencedGroupId", PeerKind.GROUP),
        ):
            value = string(spec, key, spath, where)
            if value is not None:
                peer, kind = value, peer_kind
                break
        out.add(
            Action.MODIFIED,
            group_id=group_id,
            protocol=proto,
            from_port=from_port,
            to_port=to_port,
            peer=peer,
            peer_kind=kind,
            rule_id=rule_id,
            description=string(spec, "Description", spath, where),
        )


def _create_group(record: CloudTrailRecord, params: Mapping[str, Any], where: Where, out: _Builder) -> None:
    response = record.response_elements or {}
    out.add(
        Action.CREATED,
        group_id=string(response, "groupId", "$.responseElements", where),
        group_name=string(params, "groupName", _REQ, where),
        vpc_id=string(params, "vpcId", _REQ, where),
        description=string(params, "groupDescription", _REQ, where),
    )


def _delete_group(record: CloudTrailRecord, params: Mapping[str, Any], where: Where, out: _Builder) -> None:
    out.add(
        Action.DELETED,
        group_id=string(params, "groupId", _REQ, where),
        group_name=string(params, "groupName", _REQ, where),
    )


def _group_set(record: CloudTrailRecord, params: Mapping[str, Any], where: Where, out: _Builder) -> None:
    """ModifyNetworkInterfaceAttribute / ModifyInstanceAttribute with ``groupSet``: one line per group."""
    if "groupSet" not in params:
        return  # another attribute (sourceDestCheck, disableApiTermination, ...): not a security-group change
    target_key = "networkInterfaceId" if record.event_name == "ModifyNetworkInterfaceAttribute" else "instanceId"
    target = string(params, target_key, _REQ, where)
    groups = items(params.get("groupSet"), f"{_REQ}.groupSet", where)
    for index, entry in enumerate(groups):
        out.add(
            Action.ATTACHED,
            group_id=string(entry, "groupId", f"{_REQ}.groupSet.items[{index}]", where),
            target=target,
        )
    if not groups:
        out.add(Action.ATTACHED, target=target)


_HANDLERS: dict[str, Callable[[CloudTrailRecord, Mapping[str, Any], Where, _Builder], None]] = {
    **dict.fromkeys(_RULE_CALLS, _rule_call),
    "ModifySecurityGroupRules": _modify_rules,
    "CreateSecurityGroup": _create_group,
    "DeleteSecurityGroup": _delete_group,
    "ModifyNetworkInterfaceAttribute": _group_set,
    "ModifyInstanceAttribute": _group_set,
}
assert set(_HANDLERS) == set(SG_EVENT_NAMES)


def normalize(record: CloudTrailRecord) -> tuple[RuleChange, ...]:
    """Every rule-level change in one record (empty for records that do not change security groups)."""
    if record.event_source != EVENT_SOURCE or record.read_only is True:
        return ()
    handler = _HANDLERS.get(record.event_name)
    if handler is None:
        return ()
    out = _Builder(record)
    handler(record, record.request_parameters or {}, Where(record.origin, record.event_id), out)
    return tuple(out.changes)
