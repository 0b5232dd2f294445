"""Secret references (``env:NAME``, ``ssm:/param``, ``secretsmanager:ARN``) resolved at send time.

A reference is checked when the config is read: one that holds an ARN must hold an ARN of its own service, so
``secretsmanager:arn:aws:ssm:...`` fails at load time, not at the first alert. Resolved values are kept for a
bounded time (``max_age``), so a long-lived process picks up a rotated secret. A resolved value is never logged,
printed or put in an error message; errors name the reference only.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sgwatch.errors import DeliveryError, aws_error
from sgwatch.notify.logjson import emit
from sgwatch.notify.tuning import DEFAULT_MAX_AGE

KINDS = ("env", "ssm", "secretsmanager")
RETRY_STALE = 30.0  # seconds before a failed re-read is tried again (the previous value is used meanwhile)
# What a reference holding an ARN must hold (a secret without its #json_key; a parameter with a selector).
ARN_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "secretsmanager": (
        re.compile(r"^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+$"),
        "arn:<partition>:secretsmanager:<region>:<account>:secret:<name>",
    ),
    "ssm": (
        re.compile(r"^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter/[^:]+(:[^:]+)?$"),
        "arn:<partition>:ssm:<region>:<account>:parameter/<name>",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    """Where a secret comes from. ``kind`` is ``inline`` for a value written in the config itself."""

    kind: str
    ref: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """``env:NAME`` / ``ssm:NAME`` / ``secretsmanager:ARN[#json_key]``; anything else is inline.

        ValueError (naming the reference, never a value) for an empty reference, or one holding an ARN that
        is not its service's (``secretsmanager:arn:aws:ssm:...``).
        """
        head, sep, rest = text.partition(":")
        if not sep or head not in KINDS:
            return cls(kind="inline", ref=text)
        ref = rest.strip()
        if not ref:
            raise ValueError(f"{head}: reference is empty (expected {head}:<name>)")
        if head in ARN_SHAPES:
            target = ref.partition("#")[0] if head == "secretsmanager" else ref
            pattern, expected = ARN_SHAPES[head]
            if target.startswith("arn:") and not pattern.match(target):
                raise ValueError(f"{head}:{target}: not a {head} ARN; give {expected}, or the name alone")
        return cls(kind=head, ref=ref)

    @property
    def is_reference(self) -> bool:
        return self.kind != "inline"

    def describe(self) -> str:
        """Safe to log: the reference, never the value."""
        return "inline value" if self.kind == "inline" else f"{self.kind}:{self.ref}"

    def __str__(self) -> str:
        return self.describe()


class SecretResolver:
    """Resolves references, keeping each value at most ``max_age`` seconds so that a rotated secret is picked up.

    ``client(service, region)`` gives the boto3 client for SSM and Secrets Manager (plain boto3 clients when
    not given); ``monotonic`` is the clock the ages are measured on. When a value is due again but cannot be
    read (throttling, a network error), the last value is kept and the read retried ``RETRY_STALE`` seconds
    later: an alert goes out with the previous secret rather than not at all.
    """

    __slots__ = ("_cache", "_client", "_environ", "_monotonic", "max_age")

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        client: Callable[[str, str | None], Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        max_age: float = DEFAULT_MAX_AGE,
    ) -> None:
        self._environ = environ
        self._client = client or _boto3_client
        self._monotonic = monotonic
        self.max_age = max_age
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}  # (kind, ref) -> (value, due again at)

    def resolve(self, secret: SecretRef) -> str:
        key = (secret.kind, secret.ref)
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        try:
            value = self._fetch(secret)
            if not value:
                raise DeliveryError(f"secret {secret.describe()} is empty: set it to the channel's value")
        except DeliveryError as exc:
            if cached is None:
                raise
            emit(logging.WARNING, "secret_refresh_failed", detail=f"{exc}; the previous value is used meanwhile")
            self._cache[key] = (cached[0], now + min(self.max_age, RETRY_STALE))
            return cached[0]
        self._cache[key] = (value, now + self.max_age)
        return value

    def clear(self) -> None:
        """Forget every value (the next ``resolve`` reads each secret again)."""
        self._cache.clear()

    def _fetch(self, secret: SecretRef) -> str:
        if secret.kind == "inline":
            return secret.ref
        if secret.kind == "env":
            value = self._environ.get(secret.ref)
            if value is None:
                raise DeliveryError(f"secret {secret.describe()}: environment variable {secret.ref} is not set")
            return value
        if secret.kind == "ssm":
            return _fetch_ssm(secret, self._client)
        return _fetch_secretsmanager(secret, self._client)


def _boto3_client(service: str, region: str | None) -> Any:
    """A plain boto3 client (``region`` None: the environment's), marked with sgwatch's user agent."""
    import boto3  # noqa: PLC0415 - heavy: only when a secret is read
    from botocore.config import Config  # noqa: PLC0415

    from sgwatch.runtime.clients import USER_AGENT  # noqa: PLC0415 - keeps this module's import light

    config = Config(user_agent_extra=USER_AGENT)
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


def _client_error(secret: SecretRef, exc: Exception) -> DeliveryError:
    code = aws_error(exc)[0] or type(exc).__name__
    return DeliveryError(f"secret {secret.describe()}: cannot read it ({code}); check the name and IAM access")


def _fetch_ssm(secret: SecretRef, client: Callable[[str, str | None], Any]) -> str:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        reply: Any = client("ssm", None).get_parameter(Name=secret.ref, WithDecryption=True)
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(secret, exc) from exc
    return str(reply["Parameter"]["Value"])


def _fetch_secretsmanager(secret: SecretRef, client: Callable[[str, str | None], Any]) -> str:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    secret_id, _, json_key = secret.ref.partition("#")
    region = secret_id.split(":")[3] if secret_id.startswith("arn:") and secret_id.count(":") >= 6 else None
    try:
        reply: Any = client("secretsmanager", region).get_secret_value(SecretId=secret_id)
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(secret, exc) from exc
    value = reply.get("SecretString")
    if not isinstance(value, str):
        raise DeliveryError(f"secret {secret.describe()}: not a string secret (binary secrets are not supported)")
    if not json_key:
        return value
    try:
        doc = json.loads(value)
    except ValueError:
        raise DeliveryError(f"secret {secret.describe()}: '#{json_key}' given but the secret is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(json_key), str):
        raise DeliveryError(f"secret {secret.describe()}: JSON has no string key {json_key!r}")
    return str(doc[json_key])
