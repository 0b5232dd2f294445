"""One adapter per configured channel; an adapter's module is imported only when a channel uses it."""

from __future__ import annotations

import importlib

from sgwatch.notify.config import ChannelConfig
from sgwatch.notify.outcome import Sender
from sgwatch.notify.runtime import Runtime

ADAPTERS: dict[str, str] = {
    "slack": "sgwatch.notify.slack:SlackSender",
    "teams": "sgwatch.notify.teams:TeamsSender",
    "pagerduty": "sgwatch.notify.pagerduty:PagerDutySender",
    "webhook": "sgwatch.notify.webhook:WebhookSender",
    "email": "sgwatch.notify.email:EmailSender",
    "sns": "sgwatch.notify.sns:SnsSender",
    "console": "sgwatch.notify.console:ConsoleSender",
}


def make_sender(config: ChannelConfig, runtime: Runtime) -> Sender:
    """The adapter for ``config``."""
    module_name, _, class_name = ADAPTERS[config.type].partition(":")
    adapter = getattr(importlib.import_module(module_name), class_name)
    sender: Sender = adapter(config, runtime)
    return sender
