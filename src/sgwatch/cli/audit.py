"""``sgwatch history`` and ``sgwatch report``: thin commands over sgwatch.audit."""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgwatch.errors import ConfigError, StoreError
from sgwatch.model import Action, RuleChange, Severity

if TYPE_CHECKING:
    from sgwatch.settings import Settings

_TIME_HELP = "ISO 8601 (2024-05-01, 2024-05-01T10:00:00Z), a relative age (7d, 12h, 30m, 2w) or 'now'"


@functools.cache
def _settings(config: Path) -> Settings:
    """The config file's settings, read once per run (the store path and the policy both come from it)."""
    from sgwatch.settings import load_settings  # noqa: PLC0415

    return load_settings(config)


def _db_path(db: Path | None, config: Path | None) -> Path:
    """--db, else the config file's audit.db, else the default under the user's data folder."""
    if db is not None:
        path = db
    else:
        from sgwatch.audit.store import default_db_path  # noqa: PLC0415

        configured = _settings(config).db_path if config is not None else None
        path = configured or default_db_path()
    if not path.exists():
        raise StoreError(f"{path}: no audit database here; record one with `sgwatch scan --db {path}` first")
    return path


def _time(value: str | None, option: str, now: datetime) -> datetime | None:
    from sgwatch.audit.query import parse_time  # noqa: PLC0415

    if value is None:
        return None
    try:
        return parse_time(value, now, option)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


_db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Audit database (default: the config's audit.db, else audit.sqlite in the user data folder).",
)
_config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="sgwatch config file; its audit.db is used when --db is not given, its policy when --policy is not.",
)
_policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Policy YAML whose `world` thresholds say what is open to the world (default: the config's policy).",
)


def _world(policy_path: Path | None, config: Path | None) -> tuple[int, int]:
    """The (IPv4, IPv6) prefixes that count as "the world": --policy, else the config's policy, else /8 and /16."""
    from sgwatch.policy import load_policy  # noqa: PLC0415

    path = policy_path or (_settings(config).policy_path if config is not None else None)
    policy = load_policy(path)
    return (policy.world_ipv4_prefix, policy.world_ipv6_prefix)


def _row(line: str) -> dict[str, object]:
    """One recorded row's JSON as a dict; a damaged row is a StoreError, not a traceback."""
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise StoreError(f"a recorded change row is not JSON ({exc}): restore the audit file from a backup") from exc
    if not isinstance(row, dict):
        raise StoreError("a recorded change row is not a JSON object: restore the audit file from a backup")
    return row


@click.command()
@_db_option
@_config_option
@_policy_option
@click.option("--group", "group_id", metavar="SG_ID", help="Only changes to this group (sg-…).")
@click.option("--at", metavar="TIME", help=f"Show reconstructed rules at this time instead of changes: {_TIME_HELP}.")
@click.option("--actor", metavar="PATTERN", help="Glob over the actor ARN, case-insensitive (e.g. '*alice*').")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Rules whose port range (or all-traffic protocol) covers this port."
)
@click.option("--peer", metavar="CIDR", help="Rules whose peer overlaps this CIDR (or is this sg-…/pl-… id).")
@click.option(
    "--world",
    is_flag=True,
    help="Only ingress rules open to the world (public /8 or wider, IPv6 /16, or the policy's `world`).",
)
@click.option(
    "--action",
    "actions",
    multiple=True,
    type=click.Choice([str(a) for a in Action]),
    help="Only these actions (repeatable), e.g. --action added.",
)
@click.option(
    "--severity",
    type=click.Choice([str(s) for s in Severity], case_sensitive=False),
    help="At least this severity.",
)
@click.option("--since", metavar="TIME", help=f"Changes at or after: {_TIME_HELP}.")
@click.option("--until", metavar="TIME", help=f"Changes before: {_TIME_HELP}.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True,
    help="table for people; jsonl/csv print each change's `scan --format jsonl` row as recorded when judged.",
)  # fmt: skip
def history(
    db: Path | None,
    config: Path | None,
    policy_path: Path | None,
    group_id: str | None,
    at: str | None,
    actor: str | None,
    port: int | None,
    peer: str | None,
    world: bool,
    actions: tuple[str, ...],
    severity: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
) -> None:
    """Query recorded changes, or a group's rules at a time (--group sg-… --at TIME).

    Who opened port 22 to the world in the last 30 days:

    \b
        sgwatch history --port 22 --world --action added --since 30d
    """
    from sgwatch.audit.query import HistoryFilter, change_matches, parse_peer  # noqa: PLC0415
    from sgwatch.audit.rows import row_line  # noqa: PLC0415
    from sgwatch.audit.state import DEFAULT_WORLD, Replay, replay  # noqa: PLC0415
    from sgwatch.audit.store import AuditStore  # noqa: PLC0415
    from sgwatch.cli.output import write_csv, write_history_table, write_lines  # noqa: PLC0415
    from sgwatch.serialize import judgement_row  # noqa: PLC0415

    now = datetime.now(UTC)
    try:
        peer_value = None if peer is None else parse_peer(peer)
    except ValueError as exc:
        raise ConfigError(f"--{exc}") from exc
    filters = HistoryFilter(
        group_id=group_id,
        actor=actor,
        port=port,
        peer=peer_value,
        world=world,
        world_prefixes=_world(policy_path, config) if world else DEFAULT_WORLD,
        actions=tuple(Action(a) for a in actions),
        min_severity=None if severity is None else Severity.parse(severity),
        since=_time(since, "--since", now),
        until=_time(until, "--until", now),
    )
    at_time = _time(at, "--at", now)
    if at_time is not None and (since or until):
        raise ConfigError("--at shows the rules at one time; it cannot be combined with --since/--until")
    with AuditStore.open(_db_path(db, config)) as store:
        if at_time is not None:
            groups = (group_id,) if group_id else store.group_ids()
            rules = [
                j
                for gid in groups
                for j in store.group_state(gid, at_time)
                if change_matches(j.change, filters)
                and (filters.min_severity is None or j.severity >= filters.min_severity)
            ]
            title = f"Rules of {group_id or 'every group'} at {at_time:%Y-%m-%d %H:%M:%S} UTC"
            judgements = iter(rules)
            lines = (row_line(judgement_row(j)) for j in rules)  # reconstructed rules: no recorded line
        else:
            title = "Recorded changes"
            judgements = store.query(filters)
            lines = (r.row_json for r in store.records(filters))  # each change as it was judged, verbatim
        out = sys.stdout
        if fmt == "jsonl":
            write_lines(lines, out)
        elif fmt == "csv":
            write_csv(map(_row, lines), out)
        else:
            # Replayed once, when the first modified row needs it: the rows' groups, up to the rows' end (a
            # rule's "before" depends only on earlier changes of its own group).
            replayed: list[Replay] = []
            trail = HistoryFilter(group_id=filters.group_id, until=filters.until)

            def before(change: RuleChange) -> RuleChange | None:
                if at_time is not None or change.action != Action.MODIFIED:
                    return None
                if not replayed:
                    replayed.append(replay(store.query(trail)))
                return replayed[0].before.get(change.dedup_key)

            write_history_table(judgements, out, title, before=before, state=at_time is not None)


@click.command()
@_db_option
@_config_option
@_policy_option
@click.option("--since", metavar="TIME", default="30d", show_default=True, help=f"Period start: {_TIME_HELP}.")
@click.option("--until", metavar="TIME", default="now", show_default=True, help=f"Period end: {_TIME_HELP}.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write the HTML file ('-' for stdout).",
)
def report(db: Path | None, config: Path | None, policy_path: Path | None, since: str, until: str, out: Path) -> None:
    """Write one self-contained HTML report: timeline, top actors, exposed groups, outcomes, every change."""
    from sgwatch.audit.render import render_report  # noqa: PLC0415
    from sgwatch.audit.report import collect_report  # noqa: PLC0415
    from sgwatch.audit.store import AuditStore  # noqa: PLC0415

    now = datetime.now(UTC)
    start, end = _time(since, "--since", now), _time(until, "--until", now)
    if start is None or end is None:  # both options have defaults; only an explicit empty value lands here
        raise ConfigError("--since and --until need a time")
    if start >= end:
        raise ConfigError(f"--since ({start:%Y-%m-%d %H:%M}) must be before --until ({end:%Y-%m-%d %H:%M})")
    with AuditStore.open(_db_path(db, config)) as store:
        data = collect_report(store, start, end, now, world=_world(policy_path, config))
    html = render_report(data)
    if str(out) == "-":
        sys.stdout.write(html)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{out}: cannot write the report ({exc.strerror}); pass --out with a writable path"
            ) from exc
    click.echo(
        f"{out}: {len(data.changes)} change(s), {len(data.exposed)} exposed group(s), "
        f"{len(data.remediations)} remediation(s), {len(data.deliveries)} notification(s)",
        err=True,
    )
