"""Injection stays inert and every format respects its size limits, whatever the event holds."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sgwatch.model import Alert, Severity
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render.documents import SNS_SUBJECT_MAX, sns_publish
from sgwatch.notify.render.email import email_alert
from sgwatch.notify.render.pagerduty import SUMMARY_MAX, dedup_key, pagerduty_alert
from sgwatch.notify.render.slack import TOTAL_TEXT_MAX, escape, fit, slack_alert, slack_digest, text_size
from sgwatch.notify.render.teams import CARD_MAX_BYTES, card_size, teams_alert
from sgwatch.notify.render.text import subject_alert

OUR_LINK = re.compile(
    r"<https://[a-z0-9-]+\.console\.aws\.amazon\.com/ec2/home\?region=[a-z0-9-]+"
    r"#SecurityGroup:groupId=sg-[0-9a-f]+\|[^<>|]*>"
)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def assert_slack_inert(payload: dict[str, Any]) -> None:
    for text in strings(payload):
        rest = OUR_LINK.sub("", text)
        assert "<" not in rest, text
        assert ">" not in rest, text
        assert re.search(r"&(?!amp;|lt;|gt;)", rest) is None, text
    assert "channel" not in set(keys(payload))
    assert "link_names" not in payload


def assert_slack_limits(payload: dict[str, Any]) -> None:
    blocks = payload["blocks"]
    assert payload["text"].strip()
    assert len(payload["text"]) <= 3000
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))


def test_malicious_description_is_neutralized_in_slack(alerts: ModuleType) -> None:
    payload = slack_alert(alerts.malicious())
    assert_slack_inert(payload)
    body = json.dumps(payload)
    assert "<!channel>" not in body
    assert "<@U024BE7LH>" not in body
    assert "<https://evil.example" not in body
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in body
    assert all(t.get("verbatim") is True for t in _text_objects(payload) if t["type"] == "mrkdwn")
    assert payload["unfurl_links"] is False


def _text_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text"):
            yield value
        for item in value.values():
            yield from _text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _text_objects(item)


def test_malicious_values_are_html_escaped_in_email_and_teams(alerts: ModuleType) -> None:
    alert = alerts.malicious()
    body = email_alert(alert)
    assert "<script>" not in body.html
    assert "<!channel>" not in body.html
    assert "<@U024BE7LH>" not in body.html
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in body.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body.html
    card = teams_alert(alert)
    for text in strings(card):
        assert "<" not in text, text
        assert ">" not in text, text
        assert "[click](" not in text, text
        assert "[x](" not in text, text
    assert "\\[click\\](https://evil.example)" in json.dumps(card, ensure_ascii=False).replace("\\\\", "\\")


def test_header_injection_cannot_reach_subjects(alerts: ModuleType) -> None:
    c = alerts.change(group_name="web\r\nBcc: victim@example.com", group_id=None)
    alert = alerts.alert_of(alerts.judgement(c, alerts.SSH_WORLD))
    for subject in (subject_alert(alert), email_alert(alert).subject, sns_publish(alert)["Subject"]):
        assert "\r" not in subject
        assert "\n" not in subject
    sns_subject = sns_publish(alert)["Subject"]
    assert sns_subject.isascii()
    assert len(sns_subject) <= SNS_SUBJECT_MAX


def huge_alert(alerts: ModuleType, rules: int = 80) -> Alert:
    long_text = "x&<y>" * 1200
    judgements = tuple(
        alerts.judgement(
            alerts.change(rule_id=f"sgr-{i:05d}", description=long_text, rule_index=i),
            dataclasses.replace(alerts.SSH_WORLD, reason=long_text),
        )
        for i in range(rules)
    )
    actor = dataclasses.replace(alerts.ACTOR, arn="arn:aws:sts::111122223333:assumed-role/" + "r" * 3000)
    return alerts.alert_of(*judgements, actor=actor, user_agent="ua " * 2000)


def test_slack_limits_truncate_visibly(alerts: ModuleType) -> None:
    payload = slack_alert(huge_alert(alerts))
    assert_slack_limits(payload)
    assert_slack_inert(payload)
    assert len(payload["blocks"]) <= 50
    assert text_size(payload["blocks"]) <= TOTAL_TEXT_MAX  # the head takes most: 7 kB of actor and user agent
    body = json.dumps(payload, ensure_ascii=False)
    assert "more rule(s) not shown (truncated)" in body
    assert "… (truncated)" in body


def test_slack_messages_stay_under_the_total_text_slack_accepts(alerts: ModuleType) -> None:
    """Block by block within the limits, and under ~12k characters in all, which Slack reportedly enforces."""
    judgements = [alerts.judgement(alerts.change(rule_id=f"sgr-{i:05d}", description="d" * 255, rule_index=i))
                  for i in range(60)]  # fmt: skip
    payload = slack_alert(alerts.alert_of(*judgements))
    assert_slack_limits(payload)
    assert text_size(payload["blocks"]) <= TOTAL_TEXT_MAX
    shown = json.dumps(payload).count("sgr-")
    assert 15 <= shown < 60
    assert f"{60 - shown} more rule(s) not shown (truncated)" in json.dumps(payload)
    digest = slack_digest(Digest(digest_id="digest:0123456789abcdef", alerts=tuple(alerts.burst(500))))
    assert text_size(digest["blocks"]) <= TOTAL_TEXT_MAX
    assert "more alert(s) not shown (truncated)" in json.dumps(digest)


def test_slack_long_title_fits_the_header(alerts: ModuleType) -> None:
    top = dataclasses.replace(alerts.SSH_WORLD, title="Very long finding title " * 20)
    payload = slack_alert(alerts.alert_of(alerts.judgement(alerts.change(), top)))
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    assert header.endswith("… (truncated)")


def test_teams_card_stays_under_28_kb(alerts: ModuleType) -> None:
    card = teams_alert(huge_alert(alerts))
    assert card_size(card) <= CARD_MAX_BYTES < 28 * 1024
    assert "more rule(s) not shown (truncated)" in json.dumps(card)
    assert card["type"] == "message"
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_pagerduty_summary_and_dedup_key_limits(alerts: ModuleType) -> None:
    alert = huge_alert(alerts)
    event = pagerduty_alert(alert, "key")
    assert len(event["payload"]["summary"]) <= SUMMARY_MAX
    assert len(event["dedup_key"]) <= 255
    assert event["event_action"] == "trigger"


def test_pagerduty_dedup_key_follows_account_event_and_rules(alerts: ModuleType) -> None:
    one = alerts.critical_ssh()
    assert dedup_key(one) == "sgwatch:111122223333:0f1e2d3c-aaaa-bbbb-cccc-000000000001:sgr-0aaa1111bbbb2222c"
    multi = alerts.multi_rule()
    fewer = dataclasses.replace(multi, judgements=multi.judgements[:2])
    assert dedup_key(multi) == dedup_key(dataclasses.replace(multi, judgements=multi.judgements[::-1]))
    assert dedup_key(multi) != dedup_key(fewer)
    assert dedup_key(dataclasses.replace(one, account_id="999999999999")) != dedup_key(one)


def test_pagerduty_severity_mapping(alerts: ModuleType) -> None:
    expected = {
        Severity.CRITICAL: "critical",
        Severity.HIGH: "error",
        Severity.MEDIUM: "warning",
        Severity.LOW: "info",
        Severity.INFO: "info",
    }
    for severity, name in expected.items():
        alert = alerts.alert_of(alerts.judgement(alerts.change(), alerts.SSH_WORLD, severity=severity))
        assert pagerduty_alert(alert, "k")["payload"]["severity"] == name


def test_sns_message_has_json_default_text_email_and_short_sms(alerts: ModuleType) -> None:
    args = sns_publish(alerts.critical_ssh())
    variants = json.loads(args["Message"])
    assert args["MessageStructure"] == "json"
    assert json.loads(variants["default"])["data"]["alert_id"] == "111122223333:0f1e2d3c-aaaa-bbbb-cccc-000000000001"
    assert variants["email"].startswith("CRITICAL: Admin or database port open to the world")
    assert len(variants["sms"]) <= 140
    assert args["MessageAttributes"]["severity"]["StringValue"] == "critical"


unsafe_text = st.text(alphabet=st.sampled_from(list("<>&|!@#:/[]()*_~`\\ \n\tabcU012é—")), max_size=400)


@settings(max_examples=150, deadline=None)
@given(description=unsafe_text, user_agent=unsafe_text, group_name=unsafe_text, session=unsafe_text)
def test_any_event_text_stays_inert_in_slack(
    alerts: ModuleType, description: str, user_agent: str, group_name: str, session: str
) -> None:
    actor = dataclasses.replace(alerts.ACTOR, arn=f"arn:aws:sts::111122223333:assumed-role/Admin/{session}")
    c = alerts.change(description=description, group_name=group_name or None, actor=actor, user_agent=user_agent)
    payload = slack_alert(alerts.alert_of(alerts.judgement(c, alerts.SSH_WORLD), user_agent=user_agent))
    assert_slack_inert(payload)
    assert_slack_limits(payload)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("<>&ab")), max_size=200), limit=st.integers(20, 120))
def test_fit_never_splits_an_entity(text: str, limit: int) -> None:
    out = fit(escape(text), limit)
    assert len(out) <= limit
    assert re.search(r"&(?!amp;|lt;|gt;)", out) is None
    assert "<" not in out
    assert ">" not in out
