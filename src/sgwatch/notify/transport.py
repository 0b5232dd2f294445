"""HTTP for the webhook-style channels: one pooled httpx client, replies classified into attempts.

httpx is imported on first use, never at import time. Error texts never contain the URL (it can be secret).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sgwatch.notify.outcome import Attempt, Delivered, Permanent, Retryable
from sgwatch.notify.retry import parse_retry_after

if TYPE_CHECKING:
    import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CHANNEL_WIDE_STATUS = frozenset({401, 403, 404, 410})  # the destination itself is wrong or gone
REASON_MAX = 200
USER_AGENT = "sgwatch-notify"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]  # lower-case names
    text: str


class HttpClient:
    """A lazily created ``httpx.Client`` shared by every HTTP channel, kept open between runs by a ``Notifier``.

    Idle connections are kept for httpx's keep-alive expiry (5 s) and dropped when the server closed them.
    After a connection error or a timeout the whole pool is dropped (``reset``): the retry, and the next
    batch, start on fresh connections rather than on another stale one.
    """

    __slots__ = ("_client", "_timeout")

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def _get(self) -> httpx.Client:
        if self._client is None:
            import httpx  # noqa: PLC0415

            self._client = httpx.Client(
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                headers={"user-agent": USER_AGENT},
                trust_env=False,
            )
        return self._client

    def post(self, url: str, content: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST; httpx errors propagate (``post_attempt`` classifies them)."""
        response = self._get().post(url, content=content, headers=dict(headers))
        return HttpReply(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            text=response.text[:4096],
        )

    def close(self) -> None:
        """Close every connection; the next ``post`` opens new ones."""
        if self._client is not None:
            client, self._client = self._client, None
            client.close()

    def reset(self) -> None:
        """Drop the pool after a failed request (a stale connection is rarely alone)."""
        self.close()


def short_body(text: str) -> str:
    """A reply body reduced to one short line for a reason string."""
    line = " ".join(text.split())
    return line if len(line) <= REASON_MAX else line[: REASON_MAX - 1] + "…"


def body_text(reply: HttpReply) -> str:
    return short_body(reply.text)


def classify(
    reply: HttpReply,
    now: datetime,
    body_reason: Callable[[HttpReply], str] = body_text,
    channel_wide_bodies: frozenset[str] = frozenset(),
) -> Attempt:
    """2xx delivered; 408/425/429/5xx retryable (with Retry-After); other statuses permanent, with the reason.

    A permanent failure is channel-wide (later messages are not tried) for 401/403/404/410, or when the
    reason given in the body is one of ``channel_wide_bodies`` (a service's own "this webhook is gone").
    """
    reason = f"HTTP {reply.status}"
    detail = body_reason(reply)
    if detail:
        reason += f" {detail}"
    if 200 <= reply.status < 300:
        return Delivered(detail=reason)
    if reply.status in RETRYABLE_STATUS or reply.status >= 500:
        return Retryable(reason=reason, retry_after=parse_retry_after(reply.headers.get("retry-after"), now))
    if 300 <= reply.status < 400:
        return Permanent(reason=f"{reason} (redirect not followed; configure the final URL)", channel_wide=True)
    return Permanent(reason=reason, channel_wide=reply.status in CHANNEL_WIDE_STATUS or detail in channel_wide_bodies)


def post_attempt(
    http: HttpClient,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    *,
    now: Callable[[], datetime],
    body_reason: Callable[[HttpReply], str] = body_text,
    channel_wide_bodies: frozenset[str] = frozenset(),
) -> Attempt:
    """One POST as an Attempt: timeouts and connection errors are retryable (the rest: see ``classify``)."""
    import httpx  # noqa: PLC0415

    try:
        reply = http.post(url, content, headers)
    except httpx.TimeoutException as exc:
        http.reset()
        return Retryable(reason=f"timeout ({type(exc).__name__})")
    except httpx.TransportError as exc:
        http.reset()
        return Retryable(reason=f"connection error ({type(exc).__name__}: {_scrub(str(exc), url)})")
    except httpx.InvalidURL:
        return Permanent(reason="invalid destination URL", channel_wide=True)
    return classify(reply, now(), body_reason, channel_wide_bodies)


def _scrub(text: str, url: str) -> str:
    """Remove the URL (and its host) from an exception text."""
    host = urlsplit(url).hostname or ""
    text = text.replace(url, "<url>")
    return short_body(text.replace(host, "<host>") if host else text)
