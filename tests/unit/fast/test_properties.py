"""Random Records arrays (SG and other records, decoys in strings, escapes, odd entries, any layout): fast == plain."""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgwatch.normalize.events import SG_EVENT_NAMES
from sgwatch.sources import RawRecord
from sgwatch.sources.fast import _valid_utf8, scan_log

from .conftest import assert_same

NAMES = [
    *SG_EVENT_NAMES,
    "DescribeSecurityGroups",
    "GetObject",
    "AuthorizeDBSecurityGroupIngress",
    "CreateSecurityGroupX",
    "",
]
SOURCES = ["ec2.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "rds.amazonaws.com"]
PIECES = [*'{}[]",:\\/ é\u2028\n\t', "eventName", *SG_EVENT_NAMES, "\\u0041"]
NOISE = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | NOISE,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(NOISE | st.sampled_from(["eventName", "eventSource"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"eventVersion": "1.09", "eventTime": "2026-03-01T10:15:30Z"}
    if draw(st.booleans()):
        out["userAgent"] = draw(NOISE)
    if draw(st.integers(0, 9)):
        out["eventSource"] = draw(st.sampled_from(SOURCES))
    if draw(st.integers(0, 9)):
        out["eventName"] = (
            draw(st.sampled_from(NAMES) | JSON) if draw(st.integers(0, 20)) == 0 else draw(st.sampled_from(NAMES))
        )
    out["eventID"] = f"id-{draw(st.integers(0, 10**6))}"
    if draw(st.booleans()):
        out["requestParameters"] = draw(JSON)
    keys = list(out)
    return {k: out[k] for k in draw(st.permutations(keys))}


ODD = st.one_of(st.integers(), st.none(), NOISE, st.lists(st.integers(), max_size=2))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(st.one_of(records(), records(), records(), ODD), max_size=12),
    indent=st.sampled_from([None, None, 0, 2, "\t", " \r\n"]),
    ensure_ascii=st.booleans(),
    escape=st.sampled_from([None, *SG_EVENT_NAMES]),
    gz=st.booleans(),
)
def test_fast_equals_plain(entries: list[Any], indent: Any, ensure_ascii: bool, escape: str | None, gz: bool) -> None:
    text = json.dumps({"Records": entries}, indent=indent, ensure_ascii=ensure_ascii)
    if escape:  # the name as a JSON escape wherever it is a whole string (the pre-filter must not miss it)
        text = text.replace(f'"{escape}"', f'"\\u{ord(escape[0]):04x}{escape[1:]}"')
    data = text.encode("utf-8", "surrogatepass")
    items = assert_same("-", gzip.compress(data, mtime=0) if gz else data)
    if all(isinstance(entry, dict) for entry in entries):  # a CloudTrail log file: it must not fall back
        assert scan_log(data, "-") is not None
    for item in items:
        if isinstance(item, RawRecord):
            assert item.data.get("eventName") in SG_EVENT_NAMES


UTF8_PIECES = [b"a", b'"', "é".encode(), "€".encode(), "😀".encode(), b"\xed\xa0\x80", b"\xed\xbf\xbf"]
UTF8_PIECES += [b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\x80", b"\xff", b"\xc0\x80", b"\xf4\x90\x80\x80"]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(UTF8_PIECES), max_size=12), chunk=st.integers(1, 9))
def test_the_chunked_utf8_check_agrees_with_decoding_the_whole(pieces: list[bytes], chunk: int) -> None:
    """Whatever the chunk size, a character (or an encoded surrogate) split between chunks is judged as
    ``json`` would judge the whole file: valid exactly when it decodes with ``surrogatepass``."""
    data = b"".join(pieces)
    try:
        data.decode("utf-8", "surrogatepass")
        whole = True
    except UnicodeDecodeError:
        whole = False
    assert _valid_utf8(data, chunk) is whole
