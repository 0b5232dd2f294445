"""The boto3 adapter of the enrichment port: Describe* calls, ClientError translated to EnrichError here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sgwatch.enrich.facts import GroupFacts, InterfaceFacts, RuleFacts
from sgwatch.errors import EnrichError, aws_error
from sgwatch.model import Direction, PeerKind

_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_NOT_FOUND = frozenset(
    {
        "InvalidGroup.NotFound",
        "InvalidGroupId.NotFound",
        "InvalidSecurityGroupRuleId.NotFound",
        "InvalidPrefixListID.NotFound",
        "InvalidPrefixListId.NotFound",
    }
)


def _protocol(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return _PROTOCOL_NAMES.get(text, text)


def rule_facts(entry: Mapping[str, Any]) -> RuleFacts:
    """One ``SecurityGroupRules`` entry of DescribeSecurityGroupRules."""
    protocol = _protocol(entry.get("IpProtocol"))
    from_port, to_port = entry.get("FromPort"), entry.get("ToPort")
    if protocol == "-1":
        from_port = to_port = None
    peer: str | None = None
    kind: PeerKind | None = None
    referenced = entry.get("ReferencedGroupInfo") or {}
    for value, peer_kind in (
        (entry.get("CidrIpv4"), PeerKind.IPV4),
        (entry.get("CidrIpv6"), PeerKind.IPV6),
        (entry.get("PrefixListId"), PeerKind.PREFIX_LIST),
        (referenced.get("GroupId"), PeerKind.GROUP),
    ):
        if value:
            peer, kind = str(value), peer_kind
            break
    return RuleFacts(
        rule_id=str(entry["SecurityGroupRuleId"]),
        group_id=entry.get("GroupId"),
        direction=Direction.EGRESS if entry.get("IsEgress") else Direction.INGRESS,
        protocol=protocol,
        from_port=None if from_port is None else int(from_port),
        to_port=None if to_port is None else int(to_port),
        peer=peer,
        peer_kind=kind,
        description=entry.get("Description") or None,
    )


def interface_facts(entry: Mapping[str, Any]) -> InterfaceFacts:
    """One ``NetworkInterfaces`` entry of DescribeNetworkInterfaces."""
    public = (entry.get("Association") or {}).get("PublicIp")
    if not public:
        v6 = [a.get("Ipv6Address") for a in entry.get("Ipv6Addresses") or () if a.get("Ipv6Address")]
        public = v6[0] if v6 else None
    return InterfaceFacts(
        interface_id=str(entry.get("NetworkInterfaceId", "")),
        instance_id=(entry.get("Attachment") or {}).get("InstanceId"),
        public_ip=public,
    )


class Boto3Describer:
    """``Ec2Describer`` over boto3 EC2 clients (``client_for(region)``, created and cached by the caller)."""

    __slots__ = ("_client_for",)

    def __init__(self, client_for: Callable[[str | None], Any]) -> None:
        self._client_for = client_for

    def _call(self, region: str | None, operation: str, subject: str, **kwargs: Any) -> Mapping[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only when enriching

        try:
            response: Mapping[str, Any] = getattr(self._client_for(region), operation)(**kwargs)
        except ClientError as exc:
            code, message = aws_error(exc)
            if code in _NOT_FOUND:
                return None
            raise EnrichError(f"{region or 'default region'}: {operation} {subject}: {code}: {message}") from exc
        except BotoCoreError as exc:
            raise EnrichError(f"{region or 'default region'}: {operation} {subject}: {exc}") from exc
        return response

    def _pages(self, region: str | None, operation: str, subject: str, key: str, **kwargs: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            response = self._call(region, operation, subject, **kwargs, **({"NextToken": token} if token else {}))
            if response is None:
                return
            yield from response.get(key) or ()
            token = response.get("NextToken")
            if not token:
                return

    def group(self, region: str | None, group_id: str) -> GroupFacts | None:
        response = self._call(region, "describe_security_groups", group_id, GroupIds=[group_id])
        groups = (response or {}).get("SecurityGroups") or []
        if not groups:
            return None
        raw = groups[0]
        return GroupFacts(
            group_id=str(raw.get("GroupId", group_id)),
            group_name=raw.get("GroupName"),
            vpc_id=raw.get("VpcId"),
            tags={str(t["Key"]): str(t.get("Value", "")) for t in raw.get("Tags") or () if "Key" in t},
        )

    def rule(self, region: str | None, rule_id: str) -> RuleFacts | None:
        response = self._call(region, "describe_security_group_rules", rule_id, SecurityGroupRuleIds=[rule_id])
        rules = [r for r in (response or {}).get("SecurityGroupRules") or () if r.get("SecurityGroupRuleId") == rule_id]
        return rule_facts(rules[0]) if rules else None

    def interfaces(self, region: str | None, group_id: str) -> tuple[InterfaceFacts, ...]:
        pages = self._pages(
            region,
            "describe_network_interfaces",
            group_id,
            "NetworkInterfaces",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
        )
        return tuple(interface_facts(entry) for entry in pages)

    def prefix_list_cidrs(self, region: str | None, prefix_list_id: str) -> tuple[str, ...] | None:
        response = self._call(
            region, "get_managed_prefix_list_entries", prefix_list_id, PrefixListId=prefix_list_id, MaxResults=100
        )
        if response is None:
            return None
        cidrs = [str(e["Cidr"]) for e in response.get("Entries") or () if e.get("Cidr")]
        token = response.get("NextToken")
        while token:
            page = self._call(
                region,
                "get_managed_prefix_list_entries",
                prefix_list_id,
                PrefixListId=prefix_list_id,
                MaxResults=100,
                NextToken=token,
            )
            cidrs += [str(e["Cidr"]) for e in (page or {}).get("Entries") or () if e.get("Cidr")]
            token = (page or {}).get("NextToken")
        return tuple(cidrs)
