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
    """A CloudTrail record cannot be understood (wrong types, missing required fields)."""


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
