"""The HTML report: counts match the store, chart buckets, escaping, nothing fetched at view time."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from types import ModuleType

import pytest

from sgwatch.audit.chart import bucket_days, bucket_unit, buckets, nice_ceiling
from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.render import render_report
from sgwatch.audit.report import collect_report, top_actors
from sgwatch.audit.store import AuditStore
from sgwatch.model import Action, Outcome, Severity

SINCE = datetime(2024, 4, 25, tzinfo=UTC)
UNTIL = datetime(2024, 5, 25, tzinfo=UTC)


class Page(HTMLParser):
    """Elements by id, data-* attributes, rows per table, and every src/href."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.rows: dict[str, int] = {}
        self.links: list[str] = []
        self.tags: list[str] = []
        self.bars: list[dict[str, str | None]] = []
        self._table: str | None = None
        self._in_body = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if found.get("id"):
            self.by_id[str(found["id"])] = found
        for name in ("src", "href"):
            if found.get(name):
                self.links.append(str(found[name]))
        if tag == "table":
            self._table = found.get("id")
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body and self._table:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        if tag == "g" and found.get("class") == "bar":
            self.bars.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False

    def count(self, element_id: str) -> int:
        return int(self.by_id[element_id]["data-count"] or "")


def report(store: AuditStore) -> tuple[str, Page]:
    data = collect_report(store, SINCE, UNTIL, UNTIL)
    html = render_report(data)
    return html, Page(html)


def test_counts_match_the_store(filled: AuditStore) -> None:
    _, page = report(filled)
    assert page.count("count-changes") == len(list(filled.query(HistoryFilter()))) == 13
    assert {s: page.count(f"count-{s}") for s in Severity} == {
        Severity.CRITICAL: 2, Severity.HIGH: 2, Severity.MEDIUM: 3, Severity.LOW: 3, Severity.INFO: 3
    }  # fmt: skip
    assert page.count("count-actors") == 5
    assert page.count("count-groups") == 3
    assert page.count("count-exposed-groups") == 2
    assert page.count("count-exposed-rules") == 2
    assert page.count("count-remediations") == len(filled.remediations()) == 3
    assert page.count("count-remediations-failed") == 1
    assert page.count("count-remediation-reverted") == 1
    assert page.count("count-remediation-planned") == 1
    assert page.count("count-deliveries") == len(filled.deliveries()) == 4
    assert page.count("count-deliveries-failed") == 1
    assert page.count("count-delivery-delivered") == 2
    assert page.rows == {
        "changes-table": 13,
        "actors-table": 5,
        "exposed-table": 2,
        "remediations-table": 3,
        "deliveries-table": 4,
    }


def test_timeline_has_a_bar_per_day_summing_to_the_changes(filled: AuditStore) -> None:
    _, page = report(filled)
    svg = page.by_id["timeline"]
    assert svg["data-total"] == "13"
    assert svg["data-buckets"] == "30"
    assert svg["data-unit"] == "day"
    per_day = {b["data-day"]: int(b["data-count"] or 0) for b in page.bars}
    assert len(per_day) == 30
    assert sum(per_day.values()) == 13
    assert per_day["2024-05-01"] == 2
    assert per_day["2024-05-02"] == 2


def test_window_limits_changes_but_state_uses_all_history(filled: AuditStore) -> None:
    data = collect_report(filled, datetime(2024, 5, 9, tzinfo=UTC), UNTIL, UNTIL)
    assert [j.change.event_id for j in data.changes] == ["ev-11", "ev-12", "ev-13"]
    assert [g.group_id for g in data.exposed] == ["sg-bastion", "sg-web"]
    web = data.exposed[1].rules[0]
    assert (web.change.event_id, web.change.description) == ("ev-02", "public https")
    assert len(data.remediations) == 3  # recorded 2024-05-20 12:01 .. 12:03
    assert len(data.deliveries) == 4
    early = collect_report(filled, datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 5, 2, 10, 0, tzinfo=UTC), UNTIL)
    assert early.changes == ()
    assert early.remediations == ()
    assert early.deliveries == ()
    assert [g.group_id for g in early.exposed] == ["sg-web"]  # the bastion opens at 10:00, not before


def test_modified_rows_show_before_and_after(filled: AuditStore) -> None:
    html, _ = report(filled)
    row = re.search(r'<tr data-event-id="ev-07".*?</tr>', html, re.S)
    assert row is not None
    assert '<div class="before">ingress tcp/5432 from 203.0.113.0/24</div>ingress tcp/5432 from 198.51.100.7/32' in (
        row.group(0)
    )


def test_everything_is_inline_and_escaped(store: AuditStore, sc: ModuleType) -> None:
    evil = sc.judged(
        sc.change('ev-<script>', "2024-05-03T00:00:00", 'arn:aws:iam::1:user/"><img src=x onerror=alert(1)>',
                  Action.ADDED, "sg-1", ports=(22, 22), peer="0.0.0.0/0", description="</td><script>alert(1)</script>"),
        Severity.HIGH, "X<b>",
    )  # fmt: skip
    evil = replace(evil, change=replace(evil.change, group_name="<svg onload=alert(1)>"))
    store.record_judgements([evil])
    html, page = report(store)
    assert "<script" not in html
    assert "<img" not in html
    assert "onload=alert" not in html.replace("&lt;svg onload=alert(1)&gt;", "")
    assert page.links == []  # no src/href at all: nothing to fetch
    assert "script" not in page.tags
    assert "content=\"default-src 'none'" in html
    assert page.count("count-changes") == 1


def test_empty_period(store: AuditStore) -> None:
    html, page = report(store)
    assert page.count("count-changes") == 0
    assert page.by_id["timeline"]["data-total"] == "0"
    assert "No changes in this period" in html
    assert "changes-table-empty" in page.by_id
    assert "exposed-table-empty" in page.by_id


def test_long_periods_use_weekly_bars() -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    until = since + timedelta(days=365)
    inside = [
        (since, Severity.INFO),
        (since + timedelta(days=10), Severity.HIGH),
        (until - timedelta(seconds=1), Severity.LOW),
    ]
    outside = [(until, Severity.LOW), (since - timedelta(seconds=1), Severity.LOW)]
    series = buckets(inside + outside, since, until)
    assert len(series) == 53
    assert [b.start for b in series[:2]] == [since.date(), since.date() + timedelta(days=7)]
    assert series[1].counts[Severity.HIGH] == 1
    assert series[-1].counts[Severity.LOW] == 1
    assert sum(b.total for b in series) == 3  # [since, until)
    assert bucket_unit(bucket_days(since, until)) == "week"
    decade = buckets(inside, since, since + timedelta(days=3650))
    assert len(decade) <= 92
    assert bucket_unit(bucket_days(since, since + timedelta(days=3650))) == "6 weeks"
    assert sum(b.total for b in decade) == 3
    daily = buckets(inside, since, since + timedelta(days=30))
    assert len(daily) == 30
    assert sum(b.total for b in daily) == 2


def test_nice_ceiling() -> None:
    assert [nice_ceiling(n) for n in (0, 1, 2, 3, 7, 10, 11, 40, 51, 999)] == [1, 1, 2, 5, 10, 10, 20, 50, 100, 1000]


def test_top_actors_order(sc: ModuleType) -> None:
    actors = top_actors(sc.scenario())
    assert [a.actor.rsplit(":", 1)[1] for a in actors] == [
        "user/alice", "assumed-role/ci-deploy/github", "assumed-role/Admin/bob", "user/mallory",
        "assumed-role/sgwatch-remediate/sgwatch",
    ]  # fmt: skip
    alice = actors[0]
    assert (alice.changes, alice.high_or_worse, alice.world_opened, alice.highest) == (4, 2, 2, Severity.CRITICAL)
    assert len(top_actors(sc.scenario(), limit=2)) == 2
    failed = [dataclasses.replace(j, change=dataclasses.replace(j.change, outcome=Outcome.FAILURE,
              error_code="Client.UnauthorizedOperation")) for j in sc.scenario()]  # fmt: skip
    assert [a.world_opened for a in top_actors(failed)] == [0] * 5  # a denied call opened nothing


def test_exposed_note_states_the_thresholds_used(filled: AuditStore) -> None:
    default = render_report(collect_report(filled, SINCE, UNTIL, UNTIL))
    assert "IPv4 ranges of /8 or wider, or public IPv6 ranges of /16 or wider" in default
    narrow = render_report(collect_report(filled, SINCE, UNTIL, UNTIL, world=(24, 48)))
    assert "IPv4 ranges of /24 or wider, or public IPv6 ranges of /48 or wider" in narrow


def test_alerts_sent_inside_a_digest_read_as_delivered_in_a_digest(
    filled: AuditStore, alerts: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """The notifier records them as skipped ("folded into digest:…"); the report must not read as lost alerts."""
    from sgwatch.model import DeliveryStatus
    from sgwatch.notify import deliver_alerts
    from sgwatch.settings import load_settings_text

    config = "notify: [{type: console, stream: stdout}]\ndelivery: {burst: {max_alerts: 1, window: 60}}\n"
    sent = deliver_alerts(alerts.burst(2), load_settings_text(config, "cfg.yaml", environ={}))
    capsys.readouterr()
    folded = [d for d in sent if d.status is DeliveryStatus.SKIPPED]  # as the notifier records them
    assert len(folded) == 2
    filled.record_deliveries(folded)
    html, page = report(filled)
    assert page.count("count-delivery-in_digest") == 2
    assert page.count("count-delivery-skipped") == 1  # the one below its threshold, as before
    assert html.count('data-status="in_digest"') == 2
