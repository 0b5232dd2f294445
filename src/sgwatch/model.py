"""Shared frozen types. Imports nothing else from sgwatch.

One spelling per concept: ``group_id``, ``rule_id`` (AWS ``sgr-…``), ``finding_id`` (catalog id),
``event_id`` (CloudTrail eventID), ``account_id``.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

_T = TypeVar("_T")


def compact_pickle(cls: type[_T]) -> type[_T]:
    """Pickle a frozen slotted dataclass as the tuple of its field values (apply above ``@dataclass``).

    The state functions ``dataclasses`` gives frozen slotted classes call ``fields()`` for every object: that
    was most of the parent's CPU when ``scan --workers`` receives judgements from its workers.
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    values = operator.attrgetter(*names)
    assign = object.__setattr__

    def __getstate__(self: object) -> tuple[Any, ...]:
        state = values(self)
        return state if len(names) > 1 else (state,)

    def __setstate__(self: object, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            assign(self, name, value)

    cls.__getstate__ = __getstate__  # type: ignore[method-assign]
    cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
    return cls


class Severity(enum.IntEnum):
    """Ordered severity scale: info < low < medium < high < critical."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse ``"high"`` (any case) into ``Severity.HIGH``; ValueError names the allowed values."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            allowed = ", ".join(str(s) for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {allowed})") from None


class Direction(enum.StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


class Action(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    DESCRIPTION_CHANGED = "description_changed"
    CREATED = "created"
    DELETED = "deleted"
    ATTACHED = "attached"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class PeerKind(enum.StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    GROUP = "group"
    PREFIX_LIST = "prefix_list"


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who made the call (CloudTrail ``userIdentity``)."""

    arn: str | None = None
    type: str | None = None  # Root, IAMUser, AssumedRole, FederatedUser, AWSService, ...
    account_id: str | None = None
    principal_id: str | None = None
    user_name: str | None = None  # IAM user name, or the role session name for assumed roles
    session_issuer_arn: str | None = None  # the role behind an assumed-role session
    invoked_by: str | None = None  # e.g. cloudformation.amazonaws.com
    access_key_id: str | None = None
    mfa_authenticated: bool | None = None


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class CloudTrailRecord:
    """One decoded CloudTrail record; request and response stay as raw mappings for normalize/."""

    event_id: str
    event_name: str
    event_source: str
    event_time: datetime  # timezone-aware UTC
    event_version: str | None = None
    event_type: str | None = None
    read_only: bool | None = None
    account_id: str | None = None  # recipientAccountId, else userIdentity.accountId
    region: str | None = None
    actor: Actor = field(default_factory=Actor)
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    request_parameters: Mapping[str, Any] | None = None
    response_elements: Mapping[str, Any] | None = None
    origin: str = ""  # where the record came from: "file.json.gz#12", "sqs:<messageId>", ...

    @property
    def failed(self) -> bool:
        return self.error_code is not None


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class RuleChange:
    """One rule-level change: one rule x one peer, or one group-level event.

    Ports are AWS's ``fromPort``/``toPort`` (for ICMP: type and code, -1 = any); both are None for
    all-traffic (protocol ``"-1"``) rules. ``protocol`` is ``"tcp"``, ``"udp"``, ``"icmp"``, ``"icmpv6"``,
    ``"-1"`` (all traffic), another IANA number as a string, or None when the event carries no rule.
    """

    event_id: str
    event_name: str
    event_time: datetime
    account_id: str | None
    region: str | None
    actor: Actor
    source_ip: str | None
    user_agent: str | None
    outcome: Outcome
    error_code: str | None = None
    error_message: str | None = None
    action: Action
    group_id: str | None = None
    group_name: str | None = None
    vpc_id: str | None = None
    direction: Direction | None = None
    protocol: str | None = None
    from_port: int | None = None
    to_port: int | None = None
    peer: str | None = None  # CIDR as recorded, "sg-…" or "pl-…"
    peer_kind: PeerKind | None = None
    peer_account_id: str | None = None  # owner of a referenced group, when recorded
    rule_id: str | None = None
    description: str | None = None
    target: str | None = None  # ENI or instance id for "attached"
    rule_index: int = 0  # position of this change within its event (stable across runs)
    origin: str = ""

    @property
    def rule_key(self) -> str:
        """Identity of the rule within its event: the AWS rule id, else a canonical description."""
        if self.rule_id:
            return self.rule_id
        parts = (
            self.action,
            self.group_id or self.group_name or "",
            self.direction or "",
            self.protocol or "",
            "" if self.from_port is None else str(self.from_port),
            "" if self.to_port is None else str(self.to_port),
            self.peer or "",
            self.target or "",
        )
        return "|".join(parts)

    @property
    def dedup_key(self) -> tuple[str, str]:
        """(event_id, rule) — one alert, one audit row, one revert per key."""
        return (self.event_id, self.rule_key)

    def covers_port(self, port: int) -> bool:
        """True when this rule's protocol/port range lets ``port`` through (all-traffic covers all)."""
        if self.protocol == "-1":
            return True
        if self.protocol not in ("tcp", "udp") or self.from_port is None or self.to_port is None:
            return False
        if self.from_port == -1 and self.to_port == -1:
            return True
        return self.from_port <= port <= self.to_port


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One catalog finding raised on one change."""

    finding_id: str  # stable UPPER_SNAKE id from the catalog
    title: str
    severity: Severity
    reason: str  # why it fired, with the concrete values


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """A change with the policy's verdict."""

    change: RuleChange
    findings: tuple[Finding, ...]
    severity: Severity
    allowed_by: str | None = None  # allowlist entry that matched ("cidr 10.0.0.0/8: reason (owner)")
    suppressed: bool = False

    @property
    def title(self) -> str:
        top = max(self.findings, key=lambda f: f.severity, default=None)
        return top.title if top else "Security group change"

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(f.finding_id for f in self.findings)


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class GroupInfo:
    """What enrichment learned about the group (all optional: enrichment may fail or be off)."""

    group_id: str
    group_name: str | None = None
    vpc_id: str | None = None
    is_default: bool | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None  # sgwatch:owner tag
    interface_count: int | None = None
    instance_ids: tuple[str, ...] = ()
    exposed_now: bool | None = None  # an interface using the group has a public IP
    rule_direction: Direction | None = None  # from DescribeSecurityGroupRules, for ModifySecurityGroupRules
    prefix_list_cidrs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class RemediationStatus(enum.StrEnum):
    PLANNED = "planned"  # dry run: would have been done
    REVERTED = "reverted"
    ALREADY_REVERTED = "already_reverted"
    RESTORED = "restored"  # a modified rule put back to its previous definition
    SKIPPED = "skipped"
    FAILED = "failed"


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class RevokePlan:
    """Exactly what to undo for one change: by rule id, or by the exact permission from the request."""

    event_id: str
    rule_key: str
    group_id: str
    direction: Direction
    rule_id: str | None = None
    ip_permission: Mapping[str, Any] | None = None  # EC2 IpPermission shape, when no rule id is known
    restore_to: Mapping[str, Any] | None = None  # SecurityGroupRuleRequest, to put a modified rule back
    reason: str = ""


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Remediation:
    """What remediation did (or would do) for one change."""

    plan: RevokePlan | None
    status: RemediationStatus
    dry_run: bool
    detail: str = ""


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One notification: every judged change of one API call that passed the thresholds."""

    event_id: str
    event_name: str
    event_time: datetime
    account_id: str | None
    region: str | None
    actor: Actor
    source_ip: str | None
    user_agent: str | None
    judgements: tuple[Judgement, ...]
    group: GroupInfo | None = None
    enrichment_error: str | None = None
    remediations: tuple[Remediation, ...] = ()

    @property
    def severity(self) -> Severity:
        return max((j.severity for j in self.judgements), default=Severity.INFO)

    @property
    def title(self) -> str:
        top = max(self.judgements, key=lambda j: j.severity, default=None)
        return top.title if top else "Security group change"

    @property
    def alert_id(self) -> str:
        """Stable id of this alert: account + event id."""
        return f"{self.account_id or 'unknown'}:{self.event_id}"


class DeliveryStatus(enum.StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "retryable"  # a single attempt's outcome; never final
    FAILED = "failed"  # permanent, or retries exhausted
    SKIPPED = "skipped"  # filtered, duplicate or folded into a digest


FOLDED_INTO = "folded into "  # starts the Delivery detail of each alert sent inside a digest


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The final outcome of sending one alert to one channel."""

    channel: str  # channel name from the config ("slack", or its `name:`)
    alert_id: str
    status: DeliveryStatus
    attempts: int = 0
    detail: str = ""  # e.g. "HTTP 404 channel_not_found" or "digest of 12 alerts"

    @property
    def folded(self) -> bool:
        """The alert went out inside a digest message (its status is that message's: skipped once it was
        delivered, failed with it)."""
        return self.detail.startswith(FOLDED_INTO)
