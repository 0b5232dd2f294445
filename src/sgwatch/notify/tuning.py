"""The ``delivery:`` section: retries, backoff, timeouts, secret refresh, per-destination rate limits and the
burst guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sgwatch.errors import ConfigError
from sgwatch.notify.fields import BurstGuard, RateLimit, get_int, get_number, parse_burst, parse_rate
from sgwatch.yamlsrc import Node, check_keys

DELIVERY_KEYS = (
    "max_attempts",
    "backoff_base",
    "backoff_max",
    "retry_after_max",
    "deadline",
    "timeout",
    "secret_max_age",
    "rate_limits",
    "burst",
)
DEFAULT_MAX_AGE = 300.0  # seconds a resolved secret is used before it is read again (rotation)
RATE_LIMITED_TYPES = ("slack", "teams", "pagerduty", "email", "sns", "webhook", "console")

# Slack incoming webhooks: 1 message per second; PagerDuty Events API: 120 events per minute per key;
# Teams webhooks throttle above a few requests per second.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        "slack": RateLimit(count=1, period=1.0),
        "pagerduty": RateLimit(count=120, period=60.0),
        "teams": RateLimit(count=4, period=1.0),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryConfig:
    """How hard to try. Times are seconds."""

    max_attempts: int = 5  # per message per channel, the first attempt included
    backoff_base: float = 1.0  # first retry waits about this long, doubling each time
    backoff_max: float = 30.0  # cap on one backoff wait
    retry_after_max: float = 120.0  # cap on a server's Retry-After
    deadline: float = 300.0  # no retry starts later than this after delivery began
    timeout: float = 10.0  # one HTTP/SMTP request
    secret_max_age: float = DEFAULT_MAX_AGE  # a resolved secret is read again after this long (rotation)
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    burst: BurstGuard | None = field(default_factory=lambda: BurstGuard(max_alerts=10, window=60.0))


DEFAULTS = DeliveryConfig()


def parse_delivery(node: Node | None) -> DeliveryConfig:
    """Validate ``delivery:``; every key is optional."""
    if node is None:
        return DeliveryConfig()
    what = "delivery"
    check_keys(node, DELIVERY_KEYS, what, ConfigError)
    rate_limits: dict[str, RateLimit] = dict(DEFAULT_RATE_LIMITS)
    raw_rates = node.get("rate_limits")
    if raw_rates is not None:
        if not isinstance(raw_rates, Node):
            raise ConfigError(
                f"{node.where('rate_limits')}: {what}: rate_limits: expected a mapping of channel type to rate"
            )
        check_keys(raw_rates, RATE_LIMITED_TYPES, f"{what}: rate_limits", ConfigError)
        for kind in raw_rates:
            rate = parse_rate(raw_rates, kind, f"{what}: rate_limits")
            if rate is None:
                rate_limits.pop(kind, None)
            else:
                rate_limits[kind] = rate
    backoff_base = get_number(node, "backoff_base", what, DEFAULTS.backoff_base)
    backoff_max = get_number(node, "backoff_max", what, max(DEFAULTS.backoff_max, backoff_base))
    if backoff_max < backoff_base:
        raise ConfigError(
            f"{node.where('backoff_max')}: {what}: backoff_max ({backoff_max:g}) is below backoff_base "
            f"({backoff_base:g}); raise backoff_max"
        )
    return DeliveryConfig(
        max_attempts=get_int(node, "max_attempts", what, DEFAULTS.max_attempts, minimum=1, maximum=100),
        backoff_base=backoff_base,
        backoff_max=backoff_max,
        retry_after_max=get_number(node, "retry_after_max", what, DEFAULTS.retry_after_max),
        deadline=get_number(node, "deadline", what, DEFAULTS.deadline),
        timeout=get_number(node, "timeout", what, DEFAULTS.timeout, minimum=0.01),
        secret_max_age=get_number(node, "secret_max_age", what, DEFAULTS.secret_max_age),
        rate_limits=rate_limits,
        burst=parse_burst(node, "burst", what) if "burst" in node else DEFAULTS.burst,
    )
