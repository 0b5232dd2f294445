"""Inputs built to fool a pre-filter or a record splitter: the fast read still equals the plain read."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sgwatch.sources import Problem, RawRecord, read_source
from sgwatch.sources.fast import scan_log

from .conftest import assert_same, load_fixture, log_file, write

SSH = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
CREATE = load_fixture("CreateSecurityGroup__vpc")
OTHER = load_fixture("DescribeSecurityGroups__read_only")
POLICY = json.dumps({"Statement": [{"Action": ["ec2:AuthorizeSecurityGroupIngress"], "Effect": "Allow"}]}, indent=2)


def record(base: dict[str, Any], event_id: str, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out["eventID"] = event_id
    out.update(changes)
    return out


def decoys() -> list[dict[str, Any]]:
    """Records that are not SG changes but carry SG event names where a byte search finds them."""
    return [
        record(
            OTHER,
            "d-policy",
            eventSource="iam.amazonaws.com",
            eventName="CreatePolicy",
            requestParameters={"policyDocument": POLICY},
        ),
        record(
            OTHER,
            "d-pattern",
            eventSource="events.amazonaws.com",
            eventName="PutRule",
            requestParameters={
                "eventPattern": json.dumps({"detail": {"eventName": ["AuthorizeSecurityGroupIngress"]}})
            },
        ),
        record(
            OTHER,
            "d-lookup",
            eventSource="cloudtrail.amazonaws.com",
            eventName="LookupEvents",
            requestParameters={
                "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "RevokeSecurityGroupIngress"}]
            },
        ),
        record(
            OTHER,
            "d-nested",
            eventSource="ssm.amazonaws.com",
            eventName="StartAutomationExecution",
            requestParameters={"eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com"},
        ),
        record(
            OTHER,
            "d-agent",
            userAgent='"eventName":"AuthorizeSecurityGroupIngress"}, {"eventName": "CreateSecurityGroup',
        ),
        record(SSH, "d-rds", eventSource="rds.amazonaws.com", eventName="AuthorizeDBSecurityGroupIngress"),
        record(SSH, "d-not-ec2", eventSource="vpc-lattice.amazonaws.com"),
    ]


def mixed() -> list[Any]:
    return [*decoys()[:3], record(SSH, "sg-1"), *decoys()[3:], record(CREATE, "sg-2"), record(OTHER, "plain")]


def fast_ids(items: list[Any]) -> list[str]:
    return [item.data["eventID"] for item in items if isinstance(item, RawRecord)]


LAYOUTS: dict[str, dict[str, Any]] = {
    "minified": {"separators": (",", ":")},
    "default": {},
    "pretty": {"indent": 2},
    "tabs": {"indent": "\t"},
    "ascii-escaped": {"ensure_ascii": True, "indent": 1},
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_decoys_and_layouts(tmp_path: Path, layout: str, gz: bool) -> None:
    data = log_file(mixed(), **LAYOUTS[layout])
    path = write(tmp_path, layout, data, gz=gz)
    assert scan_log(data, str(path)) is not None
    assert fast_ids(assert_same(path)) == ["sg-1", "sg-2"]


def test_crlf_and_records_split_across_lines(tmp_path: Path) -> None:
    pretty = log_file(mixed(), indent=3).decode()
    crlf = pretty.replace("\n", "\r\n")
    token_per_line = json.dumps({"Records": mixed()}, separators=(",\n", "\n:\n"))
    for name, text in (("crlf", crlf), ("tokens", token_per_line), ("leading", "\r\n\t " + crlf + "\n\n")):
        path = write(tmp_path, name, text.encode())
        assert scan_log(text.encode(), name) is not None
        assert fast_ids(assert_same(path)) == ["sg-1", "sg-2"]


def escaped(name: str, upto: int = 1) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in name[:upto]) + name[upto:]


@pytest.mark.parametrize("upto", [1, 9, 29], ids=["first-letter", "prefix", "whole-name"])
def test_unicode_escaped_event_name_is_found(tmp_path: Path, upto: int) -> None:
    text = log_file([record(OTHER, "plain"), record(SSH, "sg-escaped")], separators=(",", ":")).decode()
    text = text.replace(
        '"eventName":"AuthorizeSecurityGroupIngress"', f'"eventName":"{escaped("AuthorizeSecurityGroupIngress", upto)}"'
    )
    assert "\\u0041" in text
    path = write(tmp_path, "escaped", text.encode())
    assert fast_ids(assert_same(path)) == ["sg-escaped"]


def test_escaped_keys_and_source(tmp_path: Path) -> None:
    text = log_file([record(SSH, "sg-keys"), record(CREATE, "sg-source")], separators=(",", ":")).decode()
    text = text.replace(
        '"eventName":"AuthorizeSecurityGroupIngress"', '"event\\u004eame":"AuthorizeSecurityGroupIngress"'
    )
    text = text.replace(
        '"eventSource":"ec2.amazonaws.com","eventName":"CreateSecurityGroup"',
        '"eventSource":"\\u0065c2.amazonaws.com","eventName":"CreateSecurityGroup"',
    )
    path = write(tmp_path, "keys", text.encode())
    assert fast_ids(assert_same(path)) == ["sg-keys", "sg-source"]


def test_duplicate_keys_last_one_wins_as_in_json(tmp_path: Path) -> None:
    first = json.dumps(record(SSH, "dup-1"), separators=(",", ":"))[:-1] + ',"eventName":"GetObject"}'
    second = (
        json.dumps(record(OTHER, "dup-2"), separators=(",", ":"))[:-1]
        + ',"eventName":"CreateSecurityGroup","eventSource":"ec2.amazonaws.com"}'
    )
    data = ('{"Records":[' + first + "," + second + "]}").encode()
    path = write(tmp_path, "dup", data)
    assert fast_ids(assert_same(path)) == ["dup-2"]
    twice = ('{"Records":[' + json.dumps(record(SSH, "gone")) + '],"Records":[' + second + "]}").encode()
    assert fast_ids(assert_same(write(tmp_path, "twice", twice))) == ["dup-2"]


@pytest.mark.parametrize(
    "entries",
    [[], [5], ["x", None], [True, [], {}], [1.5, "AuthorizeSecurityGroupIngress"]],
    ids=["empty", "number", "string-null", "bool-list-object", "float-name-string"],
)
def test_non_object_entries_are_problems_with_their_index(tmp_path: Path, entries: list[Any]) -> None:
    records = [record(SSH, "sg-a"), *entries, record(CREATE, "sg-b")] if entries else []
    path = write(tmp_path, "entries", log_file(records))
    items = assert_same(path)
    problems = [item for item in items if isinstance(item, Problem)]
    assert [p.origin.rsplit("#", 1)[1] for p in problems] == [
        str(i + 1) for i in range(len(entries)) if not isinstance(entries[i], dict)
    ]
    assert fast_ids(items) == (["sg-a", "sg-b"] if entries else [])


@pytest.mark.parametrize(
    "text",
    [
        '{"Records":[{"eventName":"AuthorizeSecurityGroupIngress","x":tru}]}',
        '{"Records":[{"eventName":"GetObject","x":tru},{"eventName":"CreateSecurityGroup"}]}',
        '{"Records":[{"eventName":"CreateSecurityGroup"}',
        '{"Records":[{"eventName":"CreateSecurityGroup"},]}',
        '{"Records":[{"eventName":"CreateSecurityGroup"}]} trailing',
        '{"Records":[{"eventName":"CreateSecurityGroup","n":NaN}]}',
        '{"Records":[{"eventName":"CreateSecurityGroup","s":"\\ud800"}]}',
        '{"Records":[{"eventName":"CreateSecurityGroup","s":"tab\there"}]}',
        '\ufeff{"Records":[]}',
        '{"Records":null}',
        '{"Records":{"eventName":"CreateSecurityGroup"}}',
        '{"Other":1,"Records":[{"eventName":"CreateSecurityGroup","eventSource":"ec2.amazonaws.com"}]}',
        '{"Records":[{"eventName":{"a":1}},{"eventName":["CreateSecurityGroup"]},{"eventName":7}]}',
        "",
        "  \n ",
        "[]",
        '{"Records":[]}\n{"Records":[{"eventName":"CreateSecurityGroup","eventSource":"ec2.amazonaws.com"}]}',
    ],
)
def test_invalid_or_odd_documents(tmp_path: Path, text: str) -> None:
    assert_same(write(tmp_path, "odd", text.encode()))


def test_envelopes_with_records_are_left_to_the_plain_path(tmp_path: Path) -> None:
    sqs = {"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": json.dumps(SSH)}]}
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "n1", "Message": json.dumps(SSH)}}]}
    s3 = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}
    for name, doc in (("sqs", sqs), ("sns", sns), ("s3", s3)):
        data = json.dumps(doc).encode()
        assert scan_log(data, name) is None
        items = assert_same(write(tmp_path, name, data))
        assert items, name


def test_truncated_gzip_is_the_same_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "log", log_file(mixed()), gz=True)
    path.write_bytes(path.read_bytes()[:-300])
    (problem,) = assert_same(path)
    assert isinstance(problem, Problem)
    assert "gzip" in problem.message


def test_corrupt_gzip_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "log", log_file(mixed()), gz=True)
    raw = bytearray(path.read_bytes())
    raw[20:60] = b"\xff" * 40
    path.write_bytes(bytes(raw))
    (problem,) = assert_same(path)
    assert isinstance(problem, Problem)
    assert "gzip" in problem.message


def test_invalid_utf8_is_the_same_problem_on_both_paths(tmp_path: Path) -> None:
    data = log_file([record(OTHER, "a")]).replace(b"Describe", b"Describ\xff")
    path = write(tmp_path, "latin", data)
    plain = list(read_source(path, fast=False))
    assert len(plain) == 1
    assert isinstance(plain[0], Problem)
    assert "not UTF-8" in plain[0].message
    assert scan_log(data, "x") is None
    assert list(read_source(path, fast=True)) == plain


def test_non_ascii_text_stays_on_the_fast_path(tmp_path: Path) -> None:
    records = [record(OTHER, "é", userAgent="café ☕ 😀"), record(SSH, "sg-ü", userAgent="naïve")]
    data = log_file(records, ensure_ascii=False)
    assert scan_log(data, "x") is not None
    assert fast_ids(assert_same(write(tmp_path, "utf8", data))) == ["sg-ü"]


def test_without_msgspec_the_fast_read_is_the_filtered_plain_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sgwatch.sources import fast

    monkeypatch.setitem(sys.modules, "msgspec", None)
    fast._codecs.cache_clear()
    try:
        assert not fast.available()
        data = log_file(mixed())
        assert scan_log(data, "x") is None
        assert fast_ids(assert_same(write(tmp_path, "nomsgspec", data))) == ["sg-1", "sg-2"]
    finally:
        fast._codecs.cache_clear()
