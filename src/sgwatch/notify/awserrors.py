"""botocore failures as delivery attempts (used by the SNS and SES adapters)."""

from __future__ import annotations

from sgwatch.errors import aws_error
from sgwatch.notify.outcome import Attempt, Permanent, Retryable

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
    }
)
CHANNEL_WIDE = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "NotFound",
        "NotFoundException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "KMSDisabledException",
        "KMSNotFoundException",
        "KMSAccessDeniedException",
        "InvalidSecurity",
        "EndpointDisabled",
    }
)


def aws_attempt(exc: Exception) -> Attempt:
    """Classify a ``ClientError`` or a ``BotoCoreError`` raised by one AWS call."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, NoCredentialsError  # noqa: PLC0415

    if isinstance(exc, ClientError):
        code, message = aws_error(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        reason = f"{code}: {message}" if message else code
        if code in THROTTLING or status >= 500 or status == 429:
            return Retryable(reason=reason)
        return Permanent(reason=reason, channel_wide=code in CHANNEL_WIDE)
    if isinstance(exc, NoCredentialsError):
        return Permanent(reason="no AWS credentials found", channel_wide=True)
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return Retryable(reason=f"connection error ({type(exc).__name__})")
    return Permanent(reason=f"{type(exc).__name__}: {exc}")
