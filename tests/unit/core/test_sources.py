"""Envelopes and files: every way a record arrives unwraps to the same record, with an origin."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sgwatch.sources import Problem, RawRecord, S3ObjectRef, read_paths, read_source, unwrap

from .conftest import FIXTURES, GOLDEN, load_fixture

ENVELOPES = sorted(p for p in (FIXTURES / "envelopes").iterdir() if p.is_file())


def summary(items: list[object]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for item in items:
        if isinstance(item, RawRecord):
            out.append({"record": item.data.get("eventID"), "origin": item.origin, "item_id": item.item_id})
        elif isinstance(item, S3ObjectRef):
            out.append({"s3": f"s3://{item.bucket}/{item.key}", "origin": item.origin})
        else:
            assert isinstance(item, Problem)
            out.append({"problem": item.message, "origin": item.origin})
    return out


@pytest.mark.parametrize("path", ENVELOPES, ids=[p.name for p in ENVELOPES])
def test_envelope_golden(path: Path, golden_file: Callable[[Path, Any], None]) -> None:
    items = list(read_source(path, fast=False))  # every record, not only the security-group candidates
    assert not [i for i in items if isinstance(i, Problem)]
    rows = summary(items)
    for row in rows:
        row["origin"] = str(row["origin"]).replace(str(FIXTURES), "<fixtures>")
    golden_file(GOLDEN / "envelopes" / f"{path.name}.json", rows)


def test_invalid_utf8_is_a_problem(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"Records": [{"eventName": "caf\xe9"}]}')
    (problem,) = list(read_source(bad, fast=False))
    assert isinstance(problem, Problem)
    assert "not UTF-8" in problem.message
    assert list(read_source(bad)) == [problem]


def test_every_envelope_yields_the_record_unchanged() -> None:
    ssh = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    for name in ("eventbridge.json", "cloudwatch_logs.json", "records.jsonl"):
        records = [i for i in read_source(FIXTURES / "envelopes" / name) if isinstance(i, RawRecord)]
        assert records[0].data == ssh, name


def test_sqs_items_carry_message_ids_even_through_sns() -> None:
    records = [i for i in read_source(FIXTURES / "envelopes" / "sqs_lambda.json") if isinstance(i, RawRecord)]
    assert [r.item_id for r in records] == [
        "059f36b4-87a3-44ab-83d2-661975830a7d",
        "2e1424d4-f796-459a-8184-9c92662be6da",
    ]
    assert records[1].data == load_fixture("RevokeSecurityGroupIngress__items")


def test_cloudwatch_control_message_yields_nothing() -> None:
    assert list(read_source(FIXTURES / "envelopes" / "cloudwatch_logs_control.json")) == []


def test_s3_notification_key_is_url_decoded() -> None:
    doc = {
        "Records": [
            {"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "AWSLogs/a+b%3Dc.json.gz"}}}
        ]
    }
    (ref,) = list(unwrap(doc, "event"))
    assert isinstance(ref, S3ObjectRef)
    assert ref.key == "AWSLogs/a b=c.json.gz"


def test_unknown_shape_names_its_keys() -> None:
    (problem,) = list(read_source(FIXTURES / "bad" / "unknown_shape.json"))
    assert isinstance(problem, Problem)
    assert "unknown shape" in problem.message
    assert "hello" in problem.message


def test_s3_test_event_is_nothing_to_read_and_nothing_wrong() -> None:
    """S3 sends it once when a notification is set up (directly, or as an SQS message body)."""
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-03-01T12:00:00.000Z",
                  "Bucket": "trail-logs", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3"}  # fmt: skip
    assert list(unwrap(test_event, "test")) == []
    sqs = {"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": json.dumps(test_event)}]}
    assert list(unwrap(sqs, "batch")) == []
    assert [type(i).__name__ for i in unwrap({**test_event, "Service": "Other"}, "x")] == ["Problem"]


def test_truncated_gzip_is_one_problem() -> None:
    (problem,) = list(read_source(FIXTURES / "bad" / "truncated.json.gz"))
    assert isinstance(problem, Problem)
    assert "gzip" in problem.message
    assert problem.origin.endswith("truncated.json.gz")


def test_invalid_json_is_one_problem() -> None:
    (problem,) = list(read_source(FIXTURES / "bad" / "invalid.json"))
    assert isinstance(problem, Problem)
    assert "invalid JSON" in problem.message


def test_bad_line_in_jsonl_does_not_stop_the_others() -> None:
    items = list(read_source(FIXTURES / "bad" / "mixed.jsonl"))
    records = [i for i in items if isinstance(i, RawRecord)]
    problems = [i for i in items if isinstance(i, Problem)]
    assert len(records) == 3
    assert [p.origin.rsplit(":", 1)[-1] for p in problems] == ["2"]


def test_non_object_record_in_log_file_is_a_problem_with_index() -> None:
    items = list(read_source(FIXTURES / "bad" / "wrong_types.json"))
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.origin.rsplit("#", 1)[-1] for p in problems] == ["2"]


def test_stdin_and_directories(tmp_path: Path) -> None:
    record = load_fixture("CreateSecurityGroup__vpc")
    stdin = io.BytesIO(json.dumps(record).encode())
    (item,) = list(read_paths(["-"], stdin=stdin))
    assert isinstance(item, RawRecord)
    assert item.origin == "-"
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "one.json").write_text(json.dumps(record))
    (nested / "ignored.txt").write_text("not scanned")
    items = list(read_paths([str(tmp_path), str(tmp_path / "missing.json")]))
    assert isinstance(items[0], RawRecord)
    assert isinstance(items[1], Problem)
    assert "no such file" in items[1].message


def test_empty_directory_is_reported(tmp_path: Path) -> None:
    (item,) = list(read_paths([str(tmp_path)]))
    assert isinstance(item, Problem)
    assert "holds no" in item.message


DEEP = "[" * 100_000 + "]" * 100_000  # deeper than json follows: RecursionError inside the parser


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_json_nested_too_deeply_is_a_problem_and_the_rest_goes_on(tmp_path: Path, fast: bool) -> None:
    ssh = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    deep_record = json.dumps({**ssh, "eventID": "deep"})[:-1] + f', "x": {DEEP}}}'
    (tmp_path / "a-log.json").write_text('{"Records": [' + deep_record + "]}")
    (tmp_path / "b-lines.jsonl").write_text(f'{{"a": {DEEP}}}\n' + json.dumps(ssh) + "\n")
    sqs = {"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": f'{{"a": {DEEP}}}'}]}
    (tmp_path / "c-sqs.json").write_text(json.dumps(sqs))
    items = list(read_paths([str(tmp_path)], fast=fast))
    problems = [(Path(p.origin).name, p.message) for p in items if isinstance(p, Problem)]
    assert problems == [
        ("a-log.json", "invalid JSON: nested too deeply to read"),
        ("b-lines.jsonl:1", "invalid JSON line: nested too deeply to read"),
        ("c-sqs.json#sqs:m-1", "SQS message body is not valid JSON: nested too deeply to read"),
    ]
    assert [i.data for i in items if isinstance(i, RawRecord)] == [ssh]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_json_lines_come_out_in_line_order_problems_included(tmp_path: Path, fast: bool) -> None:
    ssh = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    lines = ["{bad", json.dumps({**ssh, "eventID": "two"}), "", "{also bad", '{"foo": 1}', json.dumps(ssh)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    items = list(read_paths([str(tmp_path / "a.jsonl")], fast=fast))
    where = [(Path(i.origin).name, type(i).__name__) for i in items]
    assert where == [
        ("a.jsonl:1", "Problem"),
        ("a.jsonl:2", "RawRecord"),
        ("a.jsonl:4", "Problem"),
        ("a.jsonl:5", "Problem"),
        ("a.jsonl:6", "RawRecord"),
    ]
    assert "invalid JSON line" in items[2].message
    assert "unknown shape" in items[3].message


def test_a_file_of_broken_lines_is_one_broken_document(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"Records": [\n{"eventVersion": \n')
    (item,) = list(read_paths([str(tmp_path / "a.json")]))
    assert isinstance(item, Problem)
    assert (Path(item.origin).name, item.message.split(":")[0]) == ("a.json", "invalid JSON")
