"""Error hierarchy: one root, one subclass per stage. Messages say what, where, and what to do."""

from __future__ import annotations


class SgwatchError(Exception):
    """Root of every expected sgwatch error; the CLI prints it as one line and exits 2."""


class ConfigError(SgwatchError):
    """The settings or config file is invalid or cannot be read."""


class PolicyError(SgwatchError):
    """The policy file is invalid or names an unknown finding."""


class SourceError(SgwatchError):
    """An input (file, envelope, queue message, S3 object) cannot be read or unwrapped."""


class DecodeError(SgwatchError):
    """A CloudTrail record cannot be understood (wrong types, missing required fields).

    ``record`` names it (its origin, and its eventID when it has one); ``detail`` says what is wrong where.
    """

    def __init__(self, record: str, detail: str) -> None:
        super().__init__(f"{record}: {detail}")
        self.record = record
        self.detail = detail


class EnrichError(SgwatchError):
    """Describing the group or its interfaces failed."""


class DeliveryError(SgwatchError):
    """A notification could not be delivered to a channel."""


class RemediationError(SgwatchError):
    """Reverting a rule failed."""


class StoreError(SgwatchError):
    """The audit store cannot be opened, migrated or written."""


class DeployError(SgwatchError):
    """Building, packaging or deploying the AWS pipeline failed."""


def aws_error(exc: BaseException, limit: int | None = 200) -> tuple[str, str]:
    """(code, message) of a botocore ClientError: the message on one line, cut at ``limit`` characters.

    Anything else (a BotoCoreError, a timeout) gives ``("", str(exc))``. Pure: reads ``exc.response`` only.
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", str(exc)
    error = response.get("Error", {})
    message = " ".join(str(error.get("Message", "")).split())
    return str(error.get("Code", "Unknown")), message if limit is None else message[:limit]


def aws_error_text(exc: BaseException, limit: int | None = 200) -> str:
    """``Code: message`` for a botocore ClientError, ``str(exc)`` for anything else."""
    code, message = aws_error(exc, limit)
    return f"{code}: {message}" if code else message
