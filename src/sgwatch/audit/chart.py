"""The report's timeline: an inline SVG of changes per day (or week), stacked by severity (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape

from sgwatch.model import Severity

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 34
MAX_BUCKETS = 92


@dataclass(frozen=True, slots=True, kw_only=True)
class Bucket:
    """Changes per severity in one day (or week) starting at ``start``."""

    start: date
    counts: Mapping[Severity, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bucket_days(since: datetime, until: datetime) -> int:
    """Days per bar: 1 up to about three months, else whole weeks, keeping at most ~92 bars."""
    days = (until.astimezone(UTC).date() - since.astimezone(UTC).date()).days + 1
    if days <= MAX_BUCKETS:
        return 1
    return 7 * math.ceil(days / (7 * MAX_BUCKETS))


def bucket_unit(step_days: int) -> str:
    """``day``, ``week`` or ``4 weeks``."""
    if step_days == 1:
        return "day"
    weeks = step_days // 7
    return "week" if weeks == 1 else f"{weeks} weeks"


def buckets(times: Iterable[tuple[datetime, Severity]], since: datetime, until: datetime) -> tuple[Bucket, ...]:
    """Count (time, severity) pairs into consecutive UTC buckets covering [since, until)."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    step = bucket_days(since, until)
    first = since.date()
    last = (until - timedelta(microseconds=1)).date() if until > since else first
    count = (last - first).days // step + 1
    tallies: list[dict[Severity, int]] = [dict.fromkeys(Severity, 0) for _ in range(count)]
    for moment, severity in times:
        if since <= moment < until:
            tallies[(moment.astimezone(UTC).date() - first).days // step][severity] += 1
    return tuple(Bucket(start=first + timedelta(days=i * step), counts=tally) for i, tally in enumerate(tallies))


def nice_ceiling(value: int) -> int:
    """The next 1, 2 or 5 x 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def timeline_svg(series: tuple[Bucket, ...], step_days: int) -> str:
    """Stacked bars (lowest severity at the bottom) with a y axis, date labels and per-bar tooltips."""
    total = sum(b.total for b in series)
    unit = bucket_unit(step_days)
    years = {b.start.year for b in series}
    label_format = "%m-%d" if len(years) <= 1 else "%Y-%m-%d"
    top = nice_ceiling(max((b.total for b in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(series), 1)
    bar_w = max(slot * 0.78, 1.0)
    parts = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' data-total="{total}" data-buckets="{len(series)}" data-unit="{unit}"'
        f' aria-label="Changes per {unit} by severity: {total} in total">'
    ]
    ticks = sorted({0, top // 2, top} if top >= 2 else {0, top})
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    label_every = max(1, math.ceil(len(series) / (10 if len(years) <= 1 else 7)))
    for index, bucket in enumerate(series):
        x = LEFT + index * slot + (slot - bar_w) / 2
        day = bucket.start.isoformat()
        parts.append(f'<g class="bar" data-day="{day}" data-count="{bucket.total}">')
        y = TOP + plot_h
        for severity in Severity:
            n = bucket.counts.get(severity, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect class="sev-{severity}" data-severity="{severity}" data-count="{n}" x="{x:.1f}"'
                f' y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{escape(day)}: {n} {severity}</title></rect>"
            )
        parts.append("</g>")
        if index % label_every == 0:
            label = bucket.start.strftime(label_format)
            cx = LEFT + index * slot + slot / 2
            parts.append(f'<text class="tick" x="{cx:.1f}" y="{HEIGHT - 14}" text-anchor="middle">{label}</text>')
    base = TOP + plot_h
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>')
    if total == 0:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}"'
            ' text-anchor="middle">No changes in this period</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def legend_html() -> str:
    items = "".join(f'<li><span class="swatch sev-{s}" aria-hidden="true"></span>{s}</li>' for s in reversed(Severity))
    return f'<ul class="legend">{items}</ul>'
