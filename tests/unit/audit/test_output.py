"""Terminal output in sgwatch.cli.output: the scan and history tables, JSON lines and CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from types import ModuleType

import pytest
from rich.console import Console

from sgwatch.audit.rows import row_line
from sgwatch.cli.output import judgement_table, write_csv, write_history_table, write_jsonl, write_lines
from sgwatch.model import Action, Actor
from sgwatch.serialize import ROW_KEYS, judgement_row


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return False


def rendered(table: object) -> str:
    out = Terminal()
    Console(file=out, width=240, color_system=None).print(table)
    return out.getvalue()


def test_a_jsonl_line_is_the_row_and_lines_are_written_as_given(sc: ModuleType) -> None:
    judgement = sc.scenario()[3]
    out = io.StringIO()
    write_jsonl(judgement, out)
    assert out.getvalue() == row_line(judgement_row(judgement)) + "\n"
    assert json.loads(out.getvalue()) == judgement_row(judgement)
    stored = ['{"b": 1, "a": "é"}', '{"x": null}']
    out = io.StringIO()
    assert write_lines(iter(stored), out) == 2
    assert out.getvalue() == '{"b": 1, "a": "é"}\n{"x": null}\n'


def test_csv_has_the_row_keys_and_joins_finding_ids(sc: ModuleType) -> None:
    rows = [judgement_row(j) for j in sc.scenario()[2:4]]
    out = io.StringIO()
    assert write_csv(rows, out) == 2
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(got[0]) == ROW_KEYS
    assert [r["findings"] for r in got] == ["INGRESS_WORLD_WEB_PORT", "INGRESS_WORLD_ADMIN_PORT INGRESS_PORT_RANGE"]
    assert got[0]["error_code"] == ""  # null as an empty cell
    # A row another version recorded: the columns it has are filled, a key outside ROW_KEYS is left out.
    other = {"event_id": "ev-old", "recorded_by": "sgwatch 0.9", "severity": "low"}
    out = io.StringIO()
    assert write_csv([other], out) == 1
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["event_id"], row["severity"], row["findings"], row["actor"]) == ("ev-old", "low", "", "")
    assert "recorded_by" not in row


def test_recorded_text_is_shown_literally_in_both_tables(sc: ModuleType) -> None:
    """Names and descriptions come from CloudTrail: rich markup in them is text, not style, and never an error."""
    base = sc.scenario()[3]
    change = replace(base.change, group_id=None, group_name="[/x] [bold]prod", description="[/]open [red]x")
    judgement = replace(base, change=change)
    scan = rendered(judgement_table([judgement]))
    assert "[/x] [bold]prod" in scan
    assert "user/alice (111122223333 eu-west-1)" in scan
    out = Terminal()
    assert write_history_table([judgement], out, "Rules of [/x]") == 1
    assert "Rules of [/x]" in out.getvalue()
    assert "“[/]open [red]x”" in out.getvalue()


def test_both_tables_name_the_actor_the_same_way(sc: ModuleType) -> None:
    judgement = sc.scenario()[5]  # BOB, an assumed role
    nobody = replace(judgement, change=replace(judgement.change, actor=Actor(), action=Action.ADDED))
    scan = rendered(judgement_table([judgement, nobody]))
    out = Terminal()
    write_history_table([judgement, nobody], out, "Recorded changes")
    for text in (scan, out.getvalue()):
        assert "assumed-role/Admin/bob" in text
        assert "arn:aws:sts" not in text
        assert "unknown" in text


def test_a_damaged_recorded_row_is_a_store_error() -> None:
    from sgwatch.cli.audit import _row
    from sgwatch.errors import StoreError

    assert _row('{"event_id": "e"}') == {"event_id": "e"}
    with pytest.raises(StoreError, match="not JSON"):
        _row('{"event_id": ')
    with pytest.raises(StoreError, match="not a JSON object"):
        _row("[1]")


def test_both_tables_word_the_rule_as_ruletext_does(sc: ModuleType) -> None:
    """A group of another account names its owner, a rule named by id only says so, actions read as words."""
    from sgwatch.model import Direction, PeerKind

    base = sc.scenario()[3].change
    cross = replace(base, peer="sg-0bbb", peer_kind=PeerKind.GROUP, peer_account_id="444455556666")
    by_id = replace(base, action=Action.REMOVED, direction=Direction.INGRESS, protocol=None, from_port=None,
                    to_port=None, peer=None, peer_kind=None, rule_id="sgr-0abc")  # fmt: skip
    described = replace(base, action=Action.DESCRIPTION_CHANGED, description="office")
    judgements = [replace(sc.scenario()[3], change=c) for c in (cross, by_id, described)]
    scan = rendered(judgement_table(judgements))
    out = Terminal()
    write_history_table(judgements, out, "Recorded changes")
    for text in (scan, out.getvalue()):
        assert "sg-0bbb (account 444455556666)" in text
        assert "removed ingress rule sgr-0abc" in text.replace(": ", " ")
        assert "description changed" in text
        assert "description_changed" not in text
    assert scan.count("sgr-0abc") == 1  # in the change, not repeated next to the group
