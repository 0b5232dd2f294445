"""The audit store: round trips, idempotent re-ingest, remediation and delivery records, group state."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.report import collect_report
from sgwatch.audit.state import exposes_world
from sgwatch.audit.store import AuditStore, default_db_path
from sgwatch.cli.output import write_jsonl
from sgwatch.errors import StoreError
from sgwatch.model import (
    Action,
    Direction,
    Judgement,
    Remediation,
    RemediationStatus,
    RevokePlan,
    Severity,
)
from sgwatch.serialize import ROW_KEYS, judgement_row


def recorded(store: AuditStore) -> tuple[int, int, int, int]:
    """What the store gives back: changes, their findings, deliveries and remediations."""
    judgements = list(store.query(HistoryFilter()))
    findings = sum(len(j.findings) for j in judgements)
    return (len(judgements), findings, len(store.deliveries()), len(store.remediations()))


def test_query_gives_back_what_was_recorded(filled: AuditStore, sc: ModuleType) -> None:
    recorded = sorted(sc.scenario(), key=lambda j: (j.change.event_time, j.change.event_id, j.change.rule_index))
    got = list(filled.query(HistoryFilter()))
    assert [judgement_row(j) for j in got] == [judgement_row(j) for j in recorded]
    for mine, theirs in zip(got, recorded, strict=True):
        assert mine.findings == theirs.findings  # titles, severities and reasons survive
        assert mine.change.rule_key == theirs.change.rule_key
        assert mine.change.origin == theirs.change.origin
        assert mine.change.vpc_id == theirs.change.vpc_id
        assert mine.change.error_message == theirs.change.error_message
        assert mine.change.rule_index == theirs.change.rule_index
        assert mine.change.actor.arn == theirs.change.actor.arn


def test_stored_columns_and_row_json(filled: AuditStore, clock: object) -> None:
    with closing(sqlite3.connect(filled.path)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM changes WHERE event_id = 'ev-03' AND rule_index = 1").fetchone()
    assert set(ROW_KEYS) <= set(row.keys())
    assert row["rule_key"] == "sgr-b2"
    assert row["event_time"] == "2024-05-02T10:00:00.000000Z"
    assert row["recorded_at"] == "2024-05-20T12:00:00.000000Z"
    assert row["origin"] == "fixture.json#ev-03"
    assert json.loads(row["findings"]) == ["INGRESS_WORLD_ADMIN_PORT"]
    assert row["severity"] == "critical"
    assert row["severity_rank"] == 4
    doc = json.loads(row["row_json"])
    assert list(doc) == list(ROW_KEYS)
    assert doc["event_time"] == "2024-05-02T10:00:00Z"


def test_row_json_is_the_scan_line_and_comes_back_verbatim(filled: AuditStore, sc: ModuleType) -> None:
    scan_lines = {}
    for judgement in sc.scenario():
        out = io.StringIO()
        write_jsonl(judgement, out)  # what `scan --format jsonl` printed for it
        scan_lines[judgement.change.dedup_key] = out.getvalue()
    got = list(filled.records(HistoryFilter()))
    assert len(got) == 13
    for record in got:
        assert record.row_json + "\n" == scan_lines[record.judgement.change.dedup_key]
    with_world = [r.judgement.change.event_id for r in filled.records(HistoryFilter(world=True))]
    assert with_world == [j.change.event_id for j in filled.query(HistoryFilter(world=True))]


def test_records_give_the_row_as_recorded_not_as_rebuilt(db_path: Path, sc: ModuleType) -> None:
    """A row another version recorded (here: other key order, an extra key) is handed out as it is."""
    first = sc.scenario()[1]  # ev-01, the group's creation
    row = {**judgement_row(first), "event_id": "ev-old", "event_time": "2024-04-01T00:00:00Z"}
    older = json.dumps({"recorded_by": "sgwatch 0.9", **dict(reversed(row.items()))})
    with AuditStore.open(db_path) as store:
        store.record_judgements([first])
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO changes (event_id, rule_key, event_name, event_time, outcome, action, group_id, severity,"
            " severity_rank, findings, row_json, recorded_at) VALUES ('ev-old', 'sgr-old', 'CreateSecurityGroup',"
            " '2024-04-01T00:00:00.000000Z', 'success', 'created', 'sg-web', 'info', 0, '[]', ?,"
            " '2024-04-01T00:01:00.000000Z')",
            (older,),
        )
    with AuditStore.open(db_path) as store:
        got = list(store.records(HistoryFilter()))
    assert [r.judgement.change.event_id for r in got] == ["ev-old", "ev-01"]
    assert got[0].row_json == older
    assert json.loads(got[1].row_json) == judgement_row(first)


def test_a_finding_linked_to_another_change_is_refused(filled: AuditStore, sc: ModuleType) -> None:
    with closing(sqlite3.connect(filled.path)) as conn, conn:
        change_id = conn.execute("SELECT id FROM changes WHERE event_id = 'ev-13'").fetchone()[0]
        conn.execute(
            "INSERT INTO findings (change_id, event_id, rule_key, position, finding_id, title, severity, reason)"
            " VALUES (?, 'ev-03', 'sgr-b1', 5, 'INGRESS_WORLD_ADMIN_PORT', 'x', 'critical', 'x')",
            (change_id,),
        )
    assert len(list(filled.query(HistoryFilter(until=sc.at("2024-05-12T00:00:00"))))) == 12  # the others read
    with pytest.raises(StoreError, match=r"audit\.sqlite: finding row \d+ \(INGRESS_WORLD_ADMIN_PORT\) is linked to"
                       r" the change of event ev-13 rule sgr-db3 but names event ev-03 rule sgr-b1"):  # fmt: skip
        list(filled.query(HistoryFilter()))


def test_reingest_adds_nothing(filled: AuditStore, sc: ModuleType) -> None:
    before = recorded(filled)
    assert before == (13, 9, 4, 3)
    assert filled.record_judgements(sc.scenario()) == 0
    assert filled.record_judgements(list(sc.scenario())[:3]) == 0
    assert recorded(filled) == before
    # Across a reopen too, and a batch mixing old and new rows only adds the new one.
    filled.close()
    with AuditStore.open(filled.path) as again:
        extra = replace(sc.scenario()[3], change=replace(sc.scenario()[3].change, event_id="ev-99"))
        assert len(extra.findings) == 2
        assert again.record_judgements([*sc.scenario(), extra, extra]) == 1
        changes, findings, *_ = recorded(again)
        assert (changes, findings) == (before[0] + 1, before[1] + 2)


def test_rows_without_rule_id_are_keyed_by_their_shape(store: AuditStore, sc: ModuleType) -> None:
    base = sc.judged(sc.change("ev-x", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(22, 22),
                               peer="0.0.0.0/0"), Severity.HIGH)  # fmt: skip
    other_peer = replace(base, change=replace(base.change, peer="10.0.0.0/8", rule_index=1))
    assert store.record_judgements([base, other_peer, base]) == 2


def test_deliveries_and_remediations_are_recorded(filled: AuditStore, sc: ModuleType) -> None:
    deliveries = filled.deliveries()
    assert [d.delivery for d in deliveries] == list(sc.deliveries())
    remediations = filled.remediations()
    assert [(r.rule_key, r.status, r.dry_run) for r in remediations] == [
        ("sgr-db2", RemediationStatus.PLANNED, True),
        ("sgr-b1", RemediationStatus.FAILED, False),
        ("sgr-b1", RemediationStatus.REVERTED, False),
    ]
    assert remediations[0].plan is not None
    assert remediations[0].plan["rule_id"] == "sgr-db2"
    assert remediations[0].plan["direction"] == "ingress"
    # Time windows are [since, until).
    first = remediations[0].at
    assert len(filled.remediations(since=first + timedelta(seconds=1))) == 2
    assert len(filled.remediations(until=first)) == 0


def test_executed_remediation_ignores_dry_runs_and_failures(store: AuditStore, sc: ModuleType) -> None:
    rule = sc.scenario()[3].change
    plan = RevokePlan(
        event_id=rule.event_id, rule_key=rule.rule_key, group_id="sg-bastion", direction=Direction.INGRESS
    )
    assert not store.executed_remediation(rule.event_id, rule.rule_key)
    for status in RemediationStatus:
        store.record_remediation(rule, Remediation(plan=plan, status=status, dry_run=True))
    store.record_remediation(rule, Remediation(plan=plan, status=RemediationStatus.FAILED, dry_run=False))
    store.record_remediation(rule, Remediation(plan=None, status=RemediationStatus.SKIPPED, dry_run=False))
    assert not store.executed_remediation(rule.event_id, rule.rule_key)
    for status in (RemediationStatus.REVERTED, RemediationStatus.RESTORED, RemediationStatus.ALREADY_REVERTED):
        other = replace(rule, event_id=f"done-{status}")
        store.record_remediation(other, Remediation(plan=plan, status=status, dry_run=False))
        assert store.executed_remediation(other.event_id, rule.rule_key)
        assert not store.executed_remediation(other.event_id, "another-rule")


def test_group_state_over_time(filled: AuditStore, sc: ModuleType) -> None:
    def state(group: str, when: str | None) -> list[tuple[str | None, str | None, str | None]]:
        at = None if when is None else sc.at(when)
        rules = (j.change for j in filled.group_state(group, at))
        return sorted((r.rule_id, r.peer, r.description) for r in rules)

    assert state("sg-bastion", "2024-05-01T00:00:00") == []
    assert state("sg-bastion", "2024-05-02T10:00:00") == [("sgr-b1", "0.0.0.0/0", None), ("sgr-b2", "::/0", None)]
    assert state("sg-bastion", None) == [("sgr-b2", "::/0", None)]  # 20-25 removed by shape
    assert state("sg-db", "2024-05-05T14:59:59") == [("sgr-db1", "10.0.0.0/8", None),
                                                     ("sgr-db2", "203.0.113.0/24", None)]  # fmt: skip
    assert state("sg-db", "2024-05-05T15:00:00") == [("sgr-db1", "10.0.0.0/8", None),
                                                     ("sgr-db2", "198.51.100.7/32", None)]  # fmt: skip
    modified = next(j.change for j in filled.group_state("sg-db") if j.change.rule_id == "sgr-db2")
    assert modified.direction == Direction.INGRESS  # filled in from the rule it replaced
    assert modified.event_id == "ev-07"
    # The failed call added nothing; the description change kept the rule attributed to its add.
    web = {j.change.rule_id: j.change for j in filled.group_state("sg-web")}
    assert set(web) == {"sgr-web443", "sgr-webeg", "sgr-web8080"}
    assert web["sgr-web443"].description == "public https"
    assert web["sgr-web443"].event_id == "ev-02"
    assert filled.group_state("sg-nothing") == ()
    assert filled.group_ids() == ("sg-bastion", "sg-db", "sg-web")


def test_group_state_keeps_the_defining_verdict(filled: AuditStore) -> None:
    state = {j.change.rule_id: j for j in filled.group_state("sg-bastion")}
    assert state["sgr-b2"].severity == Severity.CRITICAL
    assert state["sgr-b2"].finding_ids == ("INGRESS_WORLD_ADMIN_PORT",)


def test_rule_before_a_modify(filled: AuditStore, sc: ModuleType) -> None:
    before = filled.rule_before("sg-db", "sgr-db2", sc.at("2024-05-05T15:00:00"))
    assert before is not None
    assert (before.peer, before.event_id, before.direction) == ("203.0.113.0/24", "ev-06", Direction.INGRESS)
    after = filled.rule_before("sg-db", "sgr-db2", sc.at("2024-05-05T15:00:01"))
    assert after is not None
    assert after.peer == "198.51.100.7/32"
    assert filled.rule_before("sg-db", "sgr-db2", sc.at("2024-05-04T08:30:00")) is None  # not yet added
    assert filled.rule_before("sg-bastion", "sgr-b1", sc.at("2024-06-01T00:00:00")) is None  # removed
    assert filled.rule_before("sg-db", "sgr-nope", sc.at("2024-06-01T00:00:00")) is None


SECOND = "2024-05-02T10:00:00"


def world_ssh(sc: ModuleType, event_name: str, event_id: str, when: str = SECOND) -> Judgement:
    (change,) = sc.from_cloudtrail(event_name, event_id, when, sc.permission("tcp", (22, 22), "0.0.0.0/0"))
    if change.action is Action.REMOVED:
        return sc.judged(change, Severity.INFO, "RULE_REMOVED")
    return sc.judged(change, Severity.CRITICAL, "WORLD_ADMIN_PORT_INGRESS")


def world_open(store: AuditStore, sc: ModuleType, when: str | None = None) -> dict[str, list[str]]:
    """What history --at (--world) and the report's exposed groups say is open to the world: rule -> event."""
    at = None if when is None else sc.at(when)
    state = [j.change.event_id for j in store.group_state("sg-1", at)]
    world = [j.change.event_id for j in store.group_state("sg-1", at) if exposes_world(j.change)]
    until = (at or sc.at("2024-06-01T00:00:00")) + timedelta(seconds=1)
    report = collect_report(store, sc.at("2024-05-01T00:00:00"), until, until)
    return {"state": state, "world": world, "exposed": [j.change.event_id for g in report.exposed for j in g.rules]}


@pytest.mark.parametrize(("add_id", "revoke_id"), [("ffff-add", "0000-revoke"), ("0000-add", "ffff-revoke")])
def test_same_second_add_then_revoke_is_closed(store: AuditStore, sc: ModuleType, add_id: str, revoke_id: str) -> None:
    """Opened and revoked within one second (a revert, Terraform): the recorded order decides, not the event id."""
    add = world_ssh(sc, "AuthorizeSecurityGroupIngress", add_id)
    revoke = world_ssh(sc, "RevokeSecurityGroupIngress", revoke_id)
    assert store.record_judgements([add, revoke]) == 2
    closed: dict[str, list[str]] = {"state": [], "world": [], "exposed": []}
    assert world_open(store, sc) == world_open(store, sc, SECOND) == closed
    assert [j.change.event_id for j in store.query(HistoryFilter())] == [add_id, revoke_id]
    assert store.record_judgements([revoke, add]) == 0  # a re-scan in another order: first recordings stand
    assert world_open(store, sc) == closed
    assert [j.change.event_id for j in store.query(HistoryFilter())] == [add_id, revoke_id]
    reopened = world_ssh(sc, "AuthorizeSecurityGroupIngress", "8888-again")  # opened again in that second
    assert store.record_judgements([reopened]) == 1
    assert world_open(store, sc) == {"state": ["8888-again"], "world": ["8888-again"], "exposed": ["8888-again"]}


@pytest.mark.parametrize(("add_id", "revoke_id"), [("ffff-add", "0000-revoke"), ("0000-add", "ffff-revoke")])
def test_same_second_revoke_then_add_is_open(store: AuditStore, sc: ModuleType, add_id: str, revoke_id: str) -> None:
    earlier = world_ssh(sc, "AuthorizeSecurityGroupIngress", "5555-earlier", "2024-05-02T09:59:59")
    revoke = world_ssh(sc, "RevokeSecurityGroupIngress", revoke_id)
    add = world_ssh(sc, "AuthorizeSecurityGroupIngress", add_id)
    store.record_judgements([revoke, add])
    store.record_judgements([earlier])  # an older file scanned after: its time still comes first
    opened = {"state": [add_id], "world": [add_id], "exposed": [add_id]}
    assert world_open(store, sc) == world_open(store, sc, SECOND) == opened
    assert world_open(store, sc, "2024-05-02T09:59:59")["state"] == ["5555-earlier"]
    assert [j.change.event_id for j in store.query(HistoryFilter())] == ["5555-earlier", revoke_id, add_id]


def test_rules_of_one_event_read_in_rule_order_whatever_the_recording_order(store: AuditStore, sc: ModuleType) -> None:
    first, second = sc.scenario()[3:5]  # ev-03's two rules, rule_index 0 and 1
    later = replace(sc.scenario()[0], change=replace(sc.scenario()[0].change, event_time=first.change.event_time))
    store.record_judgements([second, later])
    store.record_judgements([first])  # the event's other rule, recorded after another event of the same second
    got = [(j.change.event_id, j.change.rule_index) for j in store.query(HistoryFilter())]
    assert got == [("ev-03", 0), ("ev-03", 1), ("ev-13", 0)]


def test_default_db_path_is_under_the_user_data_folder() -> None:
    path = default_db_path()
    assert path.name == "audit.sqlite"
    assert path.parent.name == "sgwatch"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(13)), split=st.integers(min_value=0, max_value=13))
def test_ingest_order_and_batching_do_not_matter(
    tmp_path_factory: pytest.TempPathFactory, sc: ModuleType, order: list[int], split: int
) -> None:
    items = [sc.scenario()[i] for i in order]
    path = tmp_path_factory.mktemp("perm") / "audit.sqlite"
    with AuditStore.open(path) as store:
        assert store.record_judgements(items[:split]) + store.record_judgements(items) == 13
        got = [judgement_row(j) for j in store.query(HistoryFilter())]
        states = {g: [j.change for j in store.group_state(g)] for g in store.group_ids()}
    expected = sorted(sc.scenario(), key=lambda j: (j.change.event_time, j.change.event_id, j.change.rule_index))
    assert got == [judgement_row(j) for j in expected]
    assert {g: sorted(r.rule_id or "" for r in rules) for g, rules in states.items()} == {
        "sg-bastion": ["sgr-b2"],
        "sg-db": ["sgr-db1", "sgr-db2", "sgr-db3"],
        "sg-web": ["sgr-web443", "sgr-web8080", "sgr-webeg"],
    }


@pytest.mark.parametrize("modify_id", ["0000-modify", "ffff-modify"])
def test_rule_before_a_modify_in_the_same_second_as_the_add(store: AuditStore, sc: ModuleType, modify_id: str) -> None:
    """Added and modified within one second: the definition before the modify is the add's, recorded or not."""
    add = sc.judged(sc.change("8888-add", SECOND, sc.ALICE, Action.ADDED, "sg-1", ports=(5432, 5432),
                              peer="10.0.0.0/8", rule_id="sgr-1"), Severity.LOW, "RULE_ADDED")  # fmt: skip
    modify = sc.judged(sc.change(modify_id, SECOND, sc.ALICE, Action.MODIFIED, "sg-1",
                                 event_name="ModifySecurityGroupRules", direction=None, ports=(5432, 5432),
                                 peer="0.0.0.0/0", rule_id="sgr-1"), Severity.HIGH, "RULE_MODIFIED")  # fmt: skip
    assert store.record_judgements([add]) == 1
    at = sc.at(SECOND)
    assert store.rule_before("sg-1", "sgr-1", at) is None  # strictly before the second: nothing
    for recorded in (False, True):  # judged before it is recorded, and on a later delivery
        before = store.rule_before("sg-1", "sgr-1", at, event_id=modify_id)
        assert before is not None
        assert (before.event_id, before.peer) == ("8888-add", "10.0.0.0/8"), recorded
        store.record_judgements([modify])
    later = sc.judged(sc.change("7777-later", SECOND, sc.ALICE, Action.MODIFIED, "sg-1",
                                event_name="ModifySecurityGroupRules", direction=None, ports=(5432, 5432),
                                peer="192.0.2.0/24", rule_id="sgr-1"), Severity.HIGH, "RULE_MODIFIED")  # fmt: skip
    assert store.record_judgements([later]) == 1
    before_later = store.rule_before("sg-1", "sgr-1", at, event_id="7777-later")
    assert before_later is not None
    assert before_later.peer == "0.0.0.0/0"  # recorded after the first modify: it sees that one
