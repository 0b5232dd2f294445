"""The ``notify:`` section: a list of channels, each with a type, its settings, a threshold and filters.

Parsing is eager and positional: every mistake is reported as ``config.yaml:12: notify[1] (pager): …``.
Secrets stay references (``SecretRef``) until a message is actually sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sgwatch.errors import ConfigError
from sgwatch.model import Severity
from sgwatch.notify.fields import (
    BurstGuard,
    RateLimit,
    get_bool,
    get_int,
    get_str,
    get_str_list,
    parse_burst,
    parse_rate,
)
from sgwatch.notify.secretref import SecretRef
from sgwatch.notify.tuning import DeliveryConfig, parse_delivery
from sgwatch.settings import Settings
from sgwatch.yamlsrc import Node, check_keys, fail

CHANNEL_TYPES = ("slack", "teams", "pagerduty", "email", "sns", "webhook", "console")
COMMON_KEYS = ("type", "name", "min_severity", "accounts", "regions", "findings", "rate_limit", "burst")
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "slack": ("url", "webhook_url"),
    "teams": ("url", "webhook_url"),
    "webhook": ("url", "webhook_url", "secret"),
    "pagerduty": ("routing_key", "url"),
    "email": (
        "transport",
        "from",
        "to",
        "subject_prefix",
        "host",
        "port",
        "starttls",
        "ssl",
        "username",
        "password",
        "ca_file",
        "region",
    ),
    "sns": ("topic_arn", "region"),
    "console": ("stream",),
}
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelConfig:
    """What every channel has: identity, threshold, filters, pacing."""

    name: str
    type: str
    min_severity: Severity = Severity.HIGH
    accounts: tuple[str, ...] = ()  # empty = every account
    regions: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()  # only judgements raising one of these finding ids
    rate_limit: RateLimit | None = None
    burst: BurstGuard | None = None
    where: str = ""  # file:line of the entry


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackConfig(ChannelConfig):
    url: SecretRef


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamsConfig(ChannelConfig):
    url: SecretRef


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookConfig(ChannelConfig):
    url: SecretRef
    secret: SecretRef | None = None  # whsec_…: sign per Standard Webhooks


@dataclass(frozen=True, slots=True, kw_only=True)
class PagerDutyConfig(ChannelConfig):
    routing_key: SecretRef
    url: str = PAGERDUTY_EVENTS_URL


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailConfig(ChannelConfig):
    transport: str  # smtp | ses
    sender: str
    recipients: tuple[str, ...]
    subject_prefix: str = "[sgwatch]"
    host: str | None = None
    port: int = 587
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465)
    username: SecretRef | None = None
    password: SecretRef | None = None
    ca_file: Path | None = None  # extra CA bundle for a private relay
    region: str | None = None  # SES region


@dataclass(frozen=True, slots=True, kw_only=True)
class SnsConfig(ChannelConfig):
    topic_arn: SecretRef
    region: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleConfig(ChannelConfig):
    stream: str = "stderr"


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyConfig:
    channels: tuple[ChannelConfig, ...]
    delivery: DeliveryConfig


def parse_notify(settings: Settings) -> NotifyConfig:
    """Channels and delivery tuning from Settings; a console channel when none is configured."""
    delivery = parse_delivery(settings.delivery)
    channels: list[ChannelConfig] = []
    seen: dict[str, str] = {}
    for index, node in enumerate(settings.notify):
        channel = parse_channel(node, index, delivery)
        if channel.name in seen:
            fail(
                node,
                "name" if "name" in node else "type",
                f"notify[{index}]: channel name {channel.name!r} is already used at {seen[channel.name]}; "
                "give each channel a unique 'name:'",
                ConfigError,
            )
        seen[channel.name] = channel.where
        channels.append(channel)
    if not channels:
        channels.append(
            ConsoleConfig(
                name="console",
                type="console",
                min_severity=Severity.HIGH,
                rate_limit=delivery.rate_limits.get("console"),
                burst=delivery.burst,
                where=settings.source,
            )
        )
    return NotifyConfig(channels=tuple(channels), delivery=delivery)


def parse_channel(node: Node, index: int, delivery: DeliveryConfig) -> ChannelConfig:
    """One ``notify:`` entry."""
    kind = node.get("type")
    if kind not in CHANNEL_TYPES:
        where = node.where("type") if "type" in node else node.where()
        raise ConfigError(f"{where}: notify[{index}]: type: expected one of {', '.join(CHANNEL_TYPES)}, got {kind!r}")
    name = get_str(node, "name", f"notify[{index}]") or kind
    what = f"notify[{index}] ({name})"
    check_keys(node, COMMON_KEYS + TYPE_KEYS[kind], what, ConfigError)
    common: dict[str, Any] = {
        "name": name,
        "type": kind,
        "min_severity": _severity(node, what),
        "accounts": tuple(_checked(node, "accounts", what, _ACCOUNT, "12-digit account ids (quote them)")),
        "regions": tuple(_checked(node, "regions", what, _REGION, "AWS region names like eu-west-1")),
        "findings": _finding_ids(node, what),
        "rate_limit": parse_rate(node, "rate_limit", what) if "rate_limit" in node else delivery.rate_limits.get(kind),
        "burst": parse_burst(node, "burst", what) if "burst" in node else delivery.burst,
        "where": node.where(),
    }
    if kind in ("slack", "teams", "webhook"):
        url = _url_secret(node, what)
        if kind == "slack":
            return SlackConfig(**common, url=url)
        if kind == "teams":
            return TeamsConfig(**common, url=url)
        return WebhookConfig(**common, url=url, secret=_webhook_secret(node, what))
    if kind == "pagerduty":
        events_url = get_str(node, "url", what) or PAGERDUTY_EVENTS_URL
        _check_url(node, "url", what, events_url)
        return PagerDutyConfig(**common, routing_key=_secret(node, "routing_key", what, required=True), url=events_url)
    if kind == "email":
        return _email(node, what, common)
    if kind == "sns":
        topic = _secret(node, "topic_arn", what, required=True)
        if not topic.is_reference and not _SNS_ARN.match(topic.ref):
            fail(
                node,
                "topic_arn",
                f"{what}: topic_arn: expected arn:aws:sns:<region>:<account>:<topic>, got {topic.ref!r}",
                ConfigError,
            )
        return SnsConfig(**common, topic_arn=topic, region=_region(node, what))
    stream = get_str(node, "stream", what) or "stderr"
    if stream not in ("stderr", "stdout"):
        fail(node, "stream", f"{what}: stream: expected stderr or stdout, got {stream!r}", ConfigError)
    return ConsoleConfig(**common, stream=stream)


def _severity(node: Node, what: str) -> Severity:
    value = node.get("min_severity", "high")
    try:
        return Severity.parse(value) if isinstance(value, str) else Severity.parse(repr(value))
    except ValueError as exc:
        raise ConfigError(f"{node.where('min_severity')}: {what}: min_severity: {exc}") from None


def _checked(node: Node, key: str, what: str, pattern: re.Pattern[str], expected: str) -> list[str]:
    values = list(get_str_list(node, key, what))
    for value in values:
        if not pattern.match(value):
            fail(node, key, f"{what}: {key}: {value!r} is not valid (expected {expected})", ConfigError)
    return values


def _finding_ids(node: Node, what: str) -> tuple[str, ...]:
    """Finding ids from the catalog (``sgwatch explain --list``); a typo would silently filter everything out."""
    from sgwatch.policy.catalog import load_catalog  # noqa: PLC0415 - read the catalog only when filters are used

    values = get_str_list(node, "findings", what)
    catalog = load_catalog()
    for value in values:
        if value not in catalog:
            fail(
                node,
                "findings",
                f"{what}: findings: unknown finding id {value!r} (see `sgwatch explain --list`)",
                ConfigError,
            )
    return tuple(values)


def _region(node: Node, what: str) -> str | None:
    region = get_str(node, "region", what)
    if region is not None and not _REGION.match(region):
        fail(node, "region", f"{what}: region: {region!r} is not an AWS region name", ConfigError)
    return region


def _secret(node: Node, key: str, what: str, *, required: bool = False) -> SecretRef:
    text = get_str(node, key, what, required=required)
    if text is None:
        return SecretRef(kind="inline", ref="")
    try:
        return SecretRef.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{node.where(key)}: {what}: {key}: {exc}") from None


def http_scheme(url: str) -> str | None:
    """``"http"`` or ``"https"`` when ``url`` is an http(s) URL with a host (where a channel may post), else None.

    The one rule for destination URLs, at config load and for a secret-held URL at run time. Raises ValueError
    when the URL cannot be parsed at all; its message never quotes the URL (the host may be secret).
    """
    try:
        parts = urlsplit(url)
        scheme, hostname = parts.scheme, parts.hostname
    except ValueError:  # "Invalid IPv6 URL" and the like; their text may quote the (secret) host
        raise ValueError("cannot be parsed as a URL") from None
    return scheme if scheme in ("http", "https") and hostname else None


def _check_url(node: Node, key: str, what: str, url: str) -> None:
    try:
        scheme = http_scheme(url)
    except ValueError:
        raise ConfigError(
            f"{node.where(key)}: {what}: {key}: cannot be parsed as a URL (check the host part, e.g. a '[' "
            "without ']'); expected an http(s) URL or a secret reference (env:NAME, ssm:/name, secretsmanager:ARN)"
        ) from None
    if scheme is None:
        fail(
            node,
            key,
            f"{what}: {key}: expected an http(s) URL or a secret reference (env:NAME, ssm:/name, secretsmanager:ARN)",
            ConfigError,
        )


def _url_secret(node: Node, what: str) -> SecretRef:
    keys = [key for key in ("url", "webhook_url") if key in node]
    if len(keys) != 1:
        fail(node, keys[-1] if keys else None, f"{what}: give exactly one of url or webhook_url", ConfigError)
    secret = _secret(node, keys[0], what, required=True)
    if not secret.is_reference:
        _check_url(node, keys[0], what, secret.ref)
    return secret


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError says what is wrong (never the value)."""
    if not secret.startswith("whsec_"):
        raise ValueError("a webhook secret must start with 'whsec_' followed by base64")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after 'whsec_' is not valid base64") from None
    if len(key) < 16:
        raise ValueError("a webhook secret must hold at least 16 bytes (24 base64 characters)")
    return key


def _webhook_secret(node: Node, what: str) -> SecretRef | None:
    if "secret" not in node:
        return None
    secret = _secret(node, "secret", what, required=True)
    if not secret.is_reference:
        try:
            webhook_key(secret.ref)
        except ValueError as exc:
            raise ConfigError(f"{node.where('secret')}: {what}: secret: {exc}") from None
    return secret


def _email(node: Node, what: str, common: dict[str, Any]) -> EmailConfig:
    transport = get_str(node, "transport", what) or "smtp"
    if transport not in ("smtp", "ses"):
        fail(node, "transport", f"{what}: transport: expected smtp or ses, got {transport!r}", ConfigError)
    sender = get_str(node, "from", what, required=True) or ""
    recipients = get_str_list(node, "to", what)
    if not recipients:
        fail(node, "to" if "to" in node else None, f"{what}: 'to' needs at least one address", ConfigError)
    for address in (sender, *recipients):
        if not _ADDRESS.match(address.rpartition("<")[2].rstrip(">")):
            fail(
                node, "from" if address == sender else "to", f"{what}: {address!r} is not an email address", ConfigError
            )
    subject_prefix = node.get("subject_prefix", "[sgwatch]")
    if not isinstance(subject_prefix, str) or "\n" in subject_prefix or "\r" in subject_prefix:
        fail(node, "subject_prefix", f"{what}: subject_prefix: expected one line of text", ConfigError)
    if transport == "ses":
        for key in ("host", "port", "starttls", "ssl", "username", "password", "ca_file"):
            if key in node:
                fail(node, key, f"{what}: {key}: only for transport: smtp", ConfigError)
        return EmailConfig(
            **common,
            transport="ses",
            sender=sender,
            recipients=recipients,
            subject_prefix=subject_prefix,
            region=_region(node, what),
        )
    if "region" in node:
        fail(node, "region", f"{what}: region: only for transport: ses", ConfigError)
    ca_text = get_str(node, "ca_file", what)
    ca_file = None
    if ca_text is not None:
        ca_file = Path(ca_text).expanduser()
        if not ca_file.is_absolute():
            ca_file = Path(node.source).parent / ca_file
        if not ca_file.is_file():
            fail(
                node,
                "ca_file",
                f"{what}: ca_file: {str(ca_file)!r} is not an existing file "
                "(give the path of a PEM CA bundle, absolute or relative to this file)",
                ConfigError,
            )
    host = get_str(node, "host", what, required=True)
    use_ssl = get_bool(node, "ssl", what, False)
    starttls = get_bool(node, "starttls", what, not use_ssl)
    if use_ssl and starttls:
        fail(node, "starttls", f"{what}: choose one of ssl: true (implicit TLS) or starttls: true", ConfigError)
    port = get_int(node, "port", what, 465 if use_ssl else (587 if starttls else 25), minimum=1, maximum=65535)
    username = _secret(node, "username", what) if "username" in node else None
    password = _secret(node, "password", what) if "password" in node else None
    if (username is None) != (password is None):
        fail(
            node,
            "username" if username else "password",
            f"{what}: give both username and password, or neither",
            ConfigError,
        )
    return EmailConfig(
        **common,
        transport="smtp",
        sender=sender,
        recipients=recipients,
        subject_prefix=subject_prefix,
        host=host,
        port=port,
        starttls=starttls,
        ssl=use_ssl,
        username=username,
        password=password,
        ca_file=ca_file,
    )
