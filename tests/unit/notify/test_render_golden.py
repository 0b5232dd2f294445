"""Every rendered payload, for every test alert and for a digest, compared with its golden file."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import Alert
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render.documents import sns_publish, webhook_document
from sgwatch.notify.render.email import email_alert, email_digest
from sgwatch.notify.render.pagerduty import pagerduty_alert, pagerduty_digest
from sgwatch.notify.render.slack import slack_alert, slack_digest
from sgwatch.notify.render.teams import teams_alert, teams_digest
from sgwatch.notify.render.text import text_alert, text_digest
from sgwatch.notify.routing import digest_id

CASE_NAMES = ("critical_ssh", "multi_rule", "malicious", "minimal", "icmp_and_created", "legacy_revert", "digest")
ROUTING_KEY = "R0UTINGKEY0000000000000000000000"


def _sns_view(args: dict[str, Any]) -> dict[str, Any]:
    """The publish arguments with the nested JSON decoded, so the golden file is readable."""
    variants = json.loads(args["Message"])
    variants["default"] = json.loads(variants["default"])
    return {**args, "Message": variants}


def _render(fmt: str, message: Alert | Digest) -> list[tuple[str, Any]]:
    if isinstance(message, Alert):
        renders: dict[str, Callable[[], list[tuple[str, Any]]]] = {
            "slack": lambda: [("slack.json", slack_alert(message))],
            "teams": lambda: [("teams.json", teams_alert(message))],
            "pagerduty": lambda: [("pagerduty.json", pagerduty_alert(message, ROUTING_KEY))],
            "webhook": lambda: [("webhook.json", webhook_document(message))],
            "sns": lambda: [("sns.json", _sns_view(sns_publish(message)))],
            "console": lambda: [("console.txt", text_alert(message))],
        }
        if fmt == "email":
            body = email_alert(message)
            return [("email.txt", f"Subject: {body.subject}\n\n{body.text}"), ("email.html", body.html)]
        return renders[fmt]()
    if fmt == "email":
        body = email_digest(message)
        return [("email.txt", f"Subject: {body.subject}\n\n{body.text}"), ("email.html", body.html)]
    digest_renders: dict[str, Callable[[], Any]] = {
        "slack": lambda: slack_digest(message),
        "teams": lambda: teams_digest(message),
        "pagerduty": lambda: pagerduty_digest(message, ROUTING_KEY),
        "webhook": lambda: webhook_document(message),
        "sns": lambda: _sns_view(sns_publish(message)),
        "console": lambda: text_digest(message),
    }
    suffix = "txt" if fmt == "console" else "json"
    return [(f"{fmt}.{suffix}", digest_renders[fmt]())]


@pytest.mark.parametrize("fmt", ["slack", "teams", "pagerduty", "webhook", "sns", "console", "email"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden(case: str, fmt: str, alerts: ModuleType, golden: Callable[[str, Any], None]) -> None:
    if case == "digest":
        members = alerts.burst(12)
        message: Alert | Digest = Digest(digest_id=digest_id(members), alerts=tuple(members))
    else:
        message = alerts.CASES[case]()
    for suffix, value in _render(fmt, message):
        golden(f"{case}.{suffix}", value)


def test_every_case_has_golden_files(alerts: ModuleType) -> None:
    assert set(CASE_NAMES) - {"digest"} == set(alerts.CASES)
