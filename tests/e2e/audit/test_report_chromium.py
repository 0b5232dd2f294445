"""The report in headless Chromium: the DOM it builds, screenshots at desktop and phone widths, and print."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from itertools import accumulate
from pathlib import Path

import pytest

from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.store import AuditStore

pytestmark = pytest.mark.e2e

Browse = Callable[..., subprocess.CompletedProcess[str]]
Run = Callable[..., subprocess.CompletedProcess[str]]
CRITICAL = (0x8E, 0x1B, 0x1B)  # --critical in report.css
MEDIUM = (0xE0, 0xA1, 0x00)  # --medium


class Dom(HTMLParser):
    """Counts by element id, rows per table, tags seen, chart bars."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.rows: Counter[str] = Counter()
        self.tags: Counter[str] = Counter()
        self.bars: list[dict[str, str | None]] = []
        self._table: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags[tag] += 1
        if found.get("id"):
            self.by_id[str(found["id"])] = found
        if tag == "table":
            self._table = found.get("id")
        if tag == "tr" and self._table and (found.get("data-event-id") or found.get("data-actor")
                                            or found.get("data-channel") or found.get("data-group-id")):  # fmt: skip
            self.rows[self._table] += 1
        if tag == "g" and found.get("class") == "bar":
            self.bars.append(found)

    def count(self, element_id: str) -> int:
        return int(self.by_id[element_id]["data-count"] or "")


def _unfilter(kind: int, line: bytearray, previous: bytes, channels: int) -> bytearray:
    """Undo one PNG scanline filter (RFC 2083 section 6)."""
    if kind == 0:
        return line
    if kind == 2:  # Up: bytewise add without carries, on the whole line at once
        n = len(line)
        a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
        low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
        return bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(n, "big"))
    if kind == 1:  # Sub: a running sum per channel
        for c in range(channels):
            line[c::channels] = bytes(v & 0xFF for v in accumulate(line[c::channels]))
        return line
    for i in range(len(line)):  # Average and Paeth
        left = line[i - channels] if i >= channels else 0
        up, up_left = previous[i], previous[i - channels] if i >= channels else 0
        if kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        else:
            p = left + up - up_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
    return line


RGB = tuple[int, int, int]


def png_pixels(path: Path) -> tuple[int, int, Counter[RGB], list[set[RGB]]]:
    """Width, height, colour histogram and colours per row of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytes(stride)
    colours: Counter[RGB] = Counter()
    rows: list[set[RGB]] = []
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        pixels = list(zip(line[0::channels], line[1::channels], line[2::channels], strict=True))
        colours.update(pixels)
        rows.append(set(pixels))
        previous = bytes(line)
    return width, height, colours, rows


def longest_run(rows: list[set[RGB]], colour: RGB) -> int:
    """The tallest stretch of consecutive rows that contain ``colour``."""
    best = current = 0
    for row in rows:
        current = current + 1 if colour in row else 0
        best = max(best, current)
    return best


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, audit_db: Path, run: Run) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = run("report", "--db", str(audit_db), "--since", "2024-04-25", "--until", "2024-05-25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_dom_counts_match_the_store(browse: Browse, report_file: Path, audit_db: Path) -> None:
    dom = Dom(browse(report_file, "--dump-dom").stdout)
    with AuditStore.open(audit_db) as store:
        counts = {
            "changes": len(list(store.query(HistoryFilter()))),
            "remediations": len(store.remediations()),
            "deliveries": len(store.deliveries()),
        }
    assert dom.tags["svg"] >= 1
    assert "timeline" in dom.by_id
    assert dom.tags["rect"] == len([b for b in dom.bars if b["data-count"] != "0"]) + 1  # + 1 rect per severity
    assert sum(int(b["data-count"] or 0) for b in dom.bars) == counts["changes"]
    assert dom.count("count-changes") == counts["changes"]
    assert dom.count("count-remediations") == counts["remediations"]
    assert dom.count("count-deliveries") == counts["deliveries"]
    assert dom.count("count-exposed-groups") == 2
    assert dom.rows["changes-table"] == counts["changes"]
    assert dom.rows["remediations-table"] == counts["remediations"]
    assert dom.rows["deliveries-table"] == counts["deliveries"]
    assert dom.tags["script"] == 0


def test_screenshots_at_desktop_and_phone_width(browse: Browse, report_file: Path, tmp_path: Path) -> None:
    for name, width in (("desktop", 1200), ("phone", 400)):
        shot = tmp_path / f"{name}.png"
        browse(report_file, f"--screenshot={shot}", width=width, height=1600)
        got_width, got_height, colours, rows = png_pixels(shot)
        assert (got_width, got_height) == (width, 1600)
        # The chart's bars are painted in their severity colours: the critical day is one bar well over 100 px
        # tall, the medium ones half that (badges and numbers in those colours are under 30 px).
        tall = {colour: longest_run(rows, colour) for colour in (CRITICAL, MEDIUM)}
        assert tall[CRITICAL] > 100, f"{name}: no critical bar in the chart"
        assert tall[MEDIUM] > 50, f"{name}: no medium bars in the chart"
        assert len(colours) > 50  # text, not a blank page


def test_prints_to_a_few_landscape_pages(browse: Browse, report_file: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    browse(report_file, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 1 <= pages <= 6
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert box is not None
    assert float(box.group(1)) > float(box.group(2))  # A4 landscape
