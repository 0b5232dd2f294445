"""Finding a candidate's bytes by its address: taken when it can be proven, else the second pass; same result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sgwatch.sources.fast import scan_log

from .conftest import assert_same, fixture_names, load_fixture, write
from .test_adversarial import CREATE, OTHER, SSH, fast_ids, record


def minified(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def document(*records: str, head: str = "") -> bytes:
    return ("{" + head + '"Records":[' + ",".join(records) + "]}").encode()


def first_key(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The same record with ``key`` moved to the front."""
    return {key: data[key], **{k: v for k, v in data.items() if k != key}}


def check(tmp_path: Path, name: str, data: bytes, how: str, expected: list[str]) -> None:
    scan = scan_log(data, name)
    assert scan is not None
    assert scan.how == how
    assert fast_ids(assert_same(write(tmp_path, name, data))) == expected


def test_fixture_records_start_with_event_version() -> None:
    assert next(iter(SSH)) == "eventVersion"  # what CloudTrail writes, and what the locating relies on
    assert next(iter(CREATE)) == "eventVersion"


def test_minified_trail_is_located(tmp_path: Path) -> None:
    records = [minified(record(OTHER, f"o-{i}")) for i in range(5)]
    records[2] = minified(record(SSH, "sg-1"))
    records.append(minified(record(CREATE, "sg-2")))
    check(tmp_path, "plain", document(*records), "located", ["sg-1", "sg-2"])


def test_default_json_dumps_layout_is_located(tmp_path: Path) -> None:
    data = json.dumps({"Records": [record(OTHER, "o"), record(SSH, "sg-1")]}).encode()
    check(tmp_path, "spaces", data, "located", ["sg-1"])


def test_pretty_records_take_the_second_pass(tmp_path: Path) -> None:
    data = json.dumps({"Records": [record(OTHER, "o"), record(SSH, "sg-1")]}, indent=2).encode()
    check(tmp_path, "pretty", data, "spans", ["sg-1"])


def test_nested_record_like_object_before_the_source(tmp_path: Path) -> None:
    """An object opened by ``{"eventVersion"`` inside the record, before eventSource: parsed, too short, refused."""
    inner = {"eventVersion": "1.08", "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com"}
    sneaky = {"eventVersion": "1.08", "eventID": "sg-nested", "userIdentity": {"copy": inner}}
    sneaky.update({k: v for k, v in SSH.items() if k not in sneaky})
    assert list(sneaky).index("eventSource") > list(sneaky).index("userIdentity")
    check(tmp_path, "nested", document(minified(record(OTHER, "o")), minified(sneaky)), "spans", ["sg-nested"])


def test_nested_record_like_object_after_the_source_is_harmless(tmp_path: Path) -> None:
    inner = {"eventVersion": "1.08", "eventName": "CreateSecurityGroup", "eventSource": "ec2.amazonaws.com"}
    data = record(SSH, "sg-after", additionalEventData={"copies": [inner, inner]})
    check(tmp_path, "after", document(minified(record(OTHER, "o")), minified(data)), "located", ["sg-after"])


def test_record_with_another_first_key_is_not_mistaken_for_its_neighbour(tmp_path: Path) -> None:
    moved = first_key(record(SSH, "sg-moved"), "eventID")
    data = document(minified(record(OTHER, "before")), minified(moved), minified(record(OTHER, "after")))
    check(tmp_path, "moved", data, "spans", ["sg-moved"])


def test_document_opened_by_event_version_is_not_taken_for_a_record(tmp_path: Path) -> None:
    moved = first_key(record(CREATE, "sg-first"), "eventSource")
    data = document(minified(moved), head='"eventVersion":"1.08",')
    check(tmp_path, "head", data, "spans", ["sg-first"])


@pytest.mark.parametrize("source", ["5", "null", '{"eventVersion":"x"}', '["ec2.amazonaws.com"]'])
def test_source_that_is_not_a_string(tmp_path: Path, source: str) -> None:
    text = minified(record(SSH, "sg-odd"))
    text = text.replace('"eventSource":"ec2.amazonaws.com"', f'"eventSource":{source}')
    check(tmp_path, "odd-source", document(minified(record(CREATE, "sg-ok")), text), "spans", ["sg-ok"])


def test_duplicate_source_keys(tmp_path: Path) -> None:
    text = minified(record(SSH, "sg-dup"))
    text = text.replace(
        '"eventSource":"ec2.amazonaws.com"', '"eventSource":"s3.amazonaws.com","eventSource":"ec2.amazonaws.com"'
    )
    assert text.count('"eventSource"') == 2
    check(tmp_path, "dup-source", document(minified(record(OTHER, "o")), text), "located", ["sg-dup"])
    flipped = text.replace(
        '"s3.amazonaws.com","eventSource":"ec2.amazonaws.com"', '"ec2.amazonaws.com","eventSource":"x"'
    )
    check(tmp_path, "dup-source-2", document(minified(record(OTHER, "o")), flipped), "located", [])


@pytest.mark.parametrize("size", [7_000, 8_191, 8_192, 40_000, 300_000])
def test_records_larger_than_the_first_window(tmp_path: Path, size: int) -> None:
    big = record(SSH, "sg-big", additionalEventData={"blob": "x" * size})
    data = document(minified(record(OTHER, "o")), minified(big), minified(record(OTHER, "tail")))
    check(tmp_path, "big", data, "located", ["sg-big"])


@pytest.mark.parametrize("shift", range(4))
def test_multibyte_characters_across_the_window_edge(tmp_path: Path, shift: int) -> None:
    big = record(SSH, "sg-wide", additionalEventData={"text": "a" * shift + "\u00e9\u20ac\U0001f512" * 3000})
    data = document(minified(record(OTHER, "o")), json.dumps(big, separators=(",", ":"), ensure_ascii=False))
    assert not data.isascii()
    check(tmp_path, "wide", data, "located", ["sg-wide"])


def test_string_that_mentions_the_record_start(tmp_path: Path) -> None:
    """``{"eventVersion"`` inside a string is written ``{\\"eventVersion\\"``: not a match, so never an anchor."""
    decoy = record(SSH, "sg-text", userAgent='{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com"}')
    check(tmp_path, "text", document(minified(record(OTHER, "o")), minified(decoy)), "located", ["sg-text"])


def test_every_fixture_shape_is_located(tmp_path: Path) -> None:
    data = document(*(minified(load_fixture(name)) for name in fixture_names()))
    scan = scan_log(data, "all")
    assert scan is not None
    assert scan.how == "located"
    assert len(scan.items) >= 30
    assert_same(write(tmp_path, "all", data))
