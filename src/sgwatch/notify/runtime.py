"""What adapters share: secrets, the HTTP client, AWS clients, the clock."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from sgwatch.errors import DeliveryError
from sgwatch.notify.clock import Clock
from sgwatch.notify.config import ChannelConfig, http_scheme
from sgwatch.notify.logjson import emit
from sgwatch.notify.secretref import SecretRef, SecretResolver
from sgwatch.notify.transport import HttpClient
from sgwatch.notify.tuning import DEFAULT_MAX_AGE
from sgwatch.runtime.clients import USER_AGENT

SECRET_ATTEMPTS = 3  # tries per SSM / Secrets Manager read (a failed read stops the channel for the batch)


class Runtime:
    """Resources shared by the channels: created lazily, kept while their owner lives, closed once.

    A one-shot delivery closes it at the end of the run; a ``Notifier`` keeps it across batches, so the HTTP
    connections, the AWS clients and the resolved secrets (at most ``secret_max_age`` seconds) are reused.
    After ``close`` everything is created again on first use.
    """

    __slots__ = ("_aws", "_warned", "clock", "http", "secrets", "timeout")

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        clock: Clock,
        timeout: float,
        secret_max_age: float = DEFAULT_MAX_AGE,
    ) -> None:
        self.clock = clock
        self.timeout = timeout
        self.secrets = SecretResolver(
            environ,
            client=lambda service, region: self.aws_client(service, region, attempts=SECRET_ATTEMPTS),
            monotonic=clock.monotonic,
            max_age=secret_max_age,
        )
        self.http = HttpClient(timeout)
        self._aws: dict[tuple[str, str | None, int], Any] = {}
        self._warned: set[str] = set()

    def resolve_url(self, channel: str, ref: SecretRef) -> str:
        """A channel URL from its reference; must be http(s). Warns once per channel when not https."""
        url = self.secrets.resolve(ref).strip()
        try:
            scheme = http_scheme(url)
        except ValueError as exc:
            raise DeliveryError(
                f"channel {channel}: {ref.describe()} does not hold a valid http(s) URL (it cannot be parsed; "
                "check the host part, e.g. a '[' without ']'); fix the value"
            ) from exc
        if scheme is None:
            raise DeliveryError(f"channel {channel}: {ref.describe()} does not hold an http(s) URL")
        if scheme != "https" and channel not in self._warned:
            self._warned.add(channel)
            emit(logging.WARNING, "insecure_url", channel=channel, detail="destination URL is not https")
        return url

    def aws_client(self, service: str, region: str | None, *, attempts: int = 1) -> Any:
        """A boto3 client with the run's timeout and ``attempts`` tries per call (1: the delivery engine
        retries sends itself; secret reads use botocore's standard retries)."""
        key = (service, region, attempts)
        if key not in self._aws:
            import boto3  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415

            config = Config(
                user_agent_extra=USER_AGENT,  # marks sgwatch's own calls in CloudTrail
                connect_timeout=self.timeout,
                read_timeout=self.timeout,
                retries={"total_max_attempts": attempts, "mode": "standard"},
            )
            self._aws[key] = boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]
        return self._aws[key]

    def close(self) -> None:
        """Close the HTTP connections and the AWS clients and forget the secrets; safe to call twice."""
        self.http.close()
        clients = list(self._aws.values())
        self._aws.clear()
        for client in clients:
            client.close()
        self.secrets.clear()


def fingerprint(kind: str, secret_value: str) -> str:
    """A rate-limit key for a destination that does not reveal it."""
    return f"{kind}:{hashlib.sha256(secret_value.encode()).hexdigest()[:16]}"


C = TypeVar("C", bound=ChannelConfig)


class ChannelSender(Generic[C]):
    """What every channel adapter shares: its validated config, the run's resources, and its name."""

    def __init__(self, config: C, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime

    @property
    def name(self) -> str:
        return self.config.name
