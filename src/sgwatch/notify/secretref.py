"""Secret references (``env:NAME``, ``ssm:/param``, ``secretsmanager:ARN``) resolved at send time.

A resolved value is never logged, printed or put in an error message; errors name the reference only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sgwatch.errors import DeliveryError

KINDS = ("env", "ssm", "secretsmanager")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    """Where a secret comes from. ``kind`` is ``inline`` for a value written in the config itself."""

    kind: str
    ref: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """``env:NAME`` / ``ssm:NAME`` / ``secretsmanager:ARN[#json_key]``; anything else is inline."""
        head, sep, rest = text.partition(":")
        if sep and head in KINDS:
            if not rest.strip():
                raise ValueError(f"{head}: reference is empty (expected {head}:<name>)")
            return cls(kind=head, ref=rest.strip())
        return cls(kind="inline", ref=text)

    @property
    def is_reference(self) -> bool:
        return self.kind != "inline"

    def describe(self) -> str:
        """Safe to log: the reference, never the value."""
        return "inline value" if self.kind == "inline" else f"{self.kind}:{self.ref}"

    def __str__(self) -> str:
        return self.describe()


class SecretResolver:
    """Resolves references once per run (cache), using boto3 lazily for SSM and Secrets Manager."""

    __slots__ = ("_cache", "_environ")

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._cache: dict[tuple[str, str], str] = {}

    def resolve(self, secret: SecretRef) -> str:
        key = (secret.kind, secret.ref)
        if key not in self._cache:
            value = self._fetch(secret)
            if not value:
                raise DeliveryError(f"secret {secret.describe()} is empty: set it to the channel's value")
            self._cache[key] = value
        return self._cache[key]

    def _fetch(self, secret: SecretRef) -> str:
        if secret.kind == "inline":
            return secret.ref
        if secret.kind == "env":
            value = self._environ.get(secret.ref)
            if value is None:
                raise DeliveryError(f"secret {secret.describe()}: environment variable {secret.ref} is not set")
            return value
        if secret.kind == "ssm":
            return _fetch_ssm(secret)
        return _fetch_secretsmanager(secret)


def _client_error(secret: SecretRef, exc: Exception) -> DeliveryError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return DeliveryError(f"secret {secret.describe()}: cannot read it ({code}); check the name and IAM access")


def _fetch_ssm(secret: SecretRef) -> str:
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        reply: Any = boto3.client("ssm").get_parameter(Name=secret.ref, WithDecryption=True)
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(secret, exc) from exc
    return str(reply["Parameter"]["Value"])


def _fetch_secretsmanager(secret: SecretRef) -> str:
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    secret_id, _, json_key = secret.ref.partition("#")
    region = secret_id.split(":")[3] if secret_id.startswith("arn:") and secret_id.count(":") >= 6 else None
    try:
        client = boto3.client("secretsmanager", region_name=region) if region else boto3.client("secretsmanager")
        reply: Any = client.get_secret_value(SecretId=secret_id)
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
