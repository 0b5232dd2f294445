"""boto3 clients, created the standard way (so ``AWS_ENDPOINT_URL`` and the region settings apply) and cached.

One instance lives as long as the process (a warm Lambda keeps its clients). boto3 is imported on the
first client, never at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sgwatch import __version__
from sgwatch.errors import ConfigError

USER_AGENT = f"sgwatch/{__version__}"


class AwsClients:
    """``client(service, region)`` cached per (service, region); region None = the environment's region."""

    __slots__ = (
        "_clients",
        "_session",
        "connect_timeout",
        "default_region",
        "max_attempts",
        "max_pool_connections",
        "read_timeout",
    )

    def __init__(
        self,
        *,
        default_region: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
        max_pool_connections: int = 10,
    ) -> None:
        """``default_region``: for clients asked without a region (the edge passes ``AWS_REGION``; None lets
        boto3 resolve it: ``AWS_DEFAULT_REGION``, then the config file). ``max_pool_connections``: HTTP
        connections per client (botocore's default, 10; more for many calls in flight at once)."""
        self.default_region = default_region
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self.max_pool_connections = max_pool_connections
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._session: Any = None  # a boto3 Session (from_session); None: boto3's default session

    @classmethod
    def from_session(cls, session: Any, **options: Any) -> AwsClients:
        """Clients created from ``session`` (a boto3 Session, with its own profile and credentials) instead of
        boto3's default session; ``options`` are the constructor's."""
        clients = cls(**options)
        clients._session = session
        return clients

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.default_region
        key = (service, region)
        if key not in self._clients:
            import boto3  # noqa: PLC0415 - heavy: only when a call is made
            from botocore.config import Config  # noqa: PLC0415
            from botocore.exceptions import NoRegionError  # noqa: PLC0415

            config = Config(
                user_agent_extra=USER_AGENT,  # marks sgwatch's own calls in CloudTrail (loop guard)
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"max_attempts": self.max_attempts, "mode": "standard"},
                max_pool_connections=self.max_pool_connections,
            )
            try:
                create: Any = boto3.client if self._session is None else self._session.client
                self._clients[key] = create(service, region_name=region, config=config)
            except NoRegionError as exc:
                raise ConfigError(f"{service}: no AWS region: set AWS_REGION (or pass --region)") from exc
        return self._clients[key]

    def for_service(self, service: str) -> Callable[[str | None], Any]:
        """``region -> client`` for one service (what the enrich and remediate adapters take)."""
        return lambda region: self.client(service, region)
