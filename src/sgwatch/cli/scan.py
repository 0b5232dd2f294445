"""``sgwatch scan``: judge every security-group change in CloudTrail input."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgwatch.cli.output import log_to_stderr, print_table, warn, write_jsonl
from sgwatch.errors import StoreError
from sgwatch.model import DeliveryStatus, Judgement, Severity
from sgwatch.parallel import Entry, judge_files
from sgwatch.pipeline import ScanStats, Scope, build_alerts
from sgwatch.policy import Policy, load_policy
from sgwatch.settings import Settings, load_settings
from sgwatch.sources import Problem
from sgwatch.sources.files import walk
from sgwatch.sources.s3 import CONCURRENCY as S3_CONCURRENCY
from sgwatch.sources.s3 import iter_s3_objects, parse_s3_url

if TYPE_CHECKING:
    from rich.progress import Progress

    from sgwatch.audit.store import AuditStore
    from sgwatch.notify.config import NotifyConfig

EXIT_DELIVERY = 1
EXIT_INPUT = 2
EXIT_FAIL_ON = 3

SEVERITY_CHOICE = click.Choice([str(s) for s in Severity], case_sensitive=False)


def open_store(store_path: Path | None) -> AuditStore | None:
    """The audit store, opened before any input is read: an unusable path stops the run, not its alerts."""
    if store_path is None:
        return None
    from sgwatch.audit.store import AuditStore  # noqa: PLC0415 - sqlite only when asked for

    return AuditStore.open(store_path)


def record_and_deliver(
    judged: list[Judgement],
    settings: Settings,
    store: AuditStore | None,
    *,
    notify_config: NotifyConfig | None,
    verbose: bool,
) -> bool:
    """Record in the audit store and/or deliver alerts; True when recording or a delivery finally failed.

    A store that fails while recording is reported and the alerts still go out (without the sent ledger).
    """
    failed = False
    if store is not None:
        try:
            added = store.record_judgements(judged)
            warn(f"audit: {added} new changes recorded in {store.path}")
        except StoreError as exc:
            warn(f"audit: nothing recorded: {exc}")
            store, failed = None, True
    if notify_config is None:
        return failed
    from sgwatch.cli.notify import format_delivery_summary  # noqa: PLC0415
    from sgwatch.notify import Notifier  # noqa: PLC0415

    ledger = None
    if store is not None:
        from sgwatch.audit.ledger import SqliteSentLedger  # noqa: PLC0415

        ledger = SqliteSentLedger(store)
    with log_to_stderr("sgwatch.notify", verbose), Notifier(settings, config=notify_config, ledger=ledger) as notifier:
        deliveries = notifier.deliver(build_alerts(judged))
    if store is not None:
        try:
            store.record_deliveries(deliveries)
        except StoreError as exc:
            warn(f"audit: deliveries not recorded: {exc}")
            failed = True
    for line in format_delivery_summary(deliveries):
        warn(line)
    return failed or any(d.status is DeliveryStatus.FAILED for d in deliveries)


def judge_inputs(
    paths: tuple[str, ...],
    policy: Policy,
    *,
    scope: Scope,
    stats: ScanStats,
    workers: int,
    s3_concurrency: int = S3_CONCURRENCY,
) -> Iterator[Judgement | Problem]:
    """Local files and S3 archives, judged on ``workers`` processes, in input order; one change is judged
    once in the whole run, whichever inputs carry it.

    ``s3://`` URLs are listed by the CloudTrail key layout (skipping what ``scope`` excludes) and their objects
    downloaded ``s3_concurrency`` at a time; a URL that is not one raises SourceError before anything is read.
    """
    for path in paths:
        if path.startswith("s3://"):
            parse_s3_url(path)
    return judge_files(_files(paths, scope, s3_concurrency), policy, workers=workers, stats=stats, scope=scope)


class _ArchiveBar:
    """The S3 listing and download progress on a terminal's stderr (sources.s3.ListingProgress)."""

    def __init__(self, bar: Progress, url: str) -> None:
        self.bar = bar
        self.url = url
        self.task = bar.add_task(f"listing {url}", total=None)

    def listed(self, count: int) -> None:
        self.bar.update(self.task, description=f"listing {self.url}: {count} log files")

    def fetching(self, total: int) -> None:
        self.bar.update(self.task, description=f"scanning {self.url}", total=total, completed=0)

    def fetched(self) -> None:
        self.bar.advance(self.task)


def _files(paths: tuple[str, ...], scope: Scope, s3_concurrency: int) -> Iterator[Entry]:
    for path in paths:
        if not path.startswith("s3://"):
            yield from walk([path])
            continue
        archive = functools.partial(
            iter_s3_objects,
            path,
            since=scope.since,
            until=scope.until,
            accounts=scope.accounts,
            regions=scope.regions,
            concurrency=s3_concurrency,
        )
        if not sys.stderr.isatty():
            yield from archive()
            continue
        from rich.console import Console  # noqa: PLC0415 - only on a terminal
        from rich.progress import Progress  # noqa: PLC0415

        with Progress(console=Console(stderr=True), transient=True) as bar:
            yield from archive(progress=_ArchiveBar(bar, path))


def _time_option(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    from sgwatch.audit.query import parse_time  # noqa: PLC0415

    try:
        return parse_time(value, datetime.now(UTC), option)
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"{option}: "), param_hint=option) from None


def _list_option(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _summary(stats: ScanStats, shown: int, threshold: Severity) -> str:
    """``N records, M security-group changes (by severity)``, how many of them are shown when --min-severity
    hides some, rule changes seen again (the same event delivered twice), problems."""
    order = [str(s) for s in sorted(Severity, reverse=True)]
    parts = [f"{stats.by_severity[s]} {s}" for s in order if stats.by_severity.get(s)]
    text = f"{stats.records} records, {stats.changes} security-group changes"
    if parts:
        text += f" ({', '.join(parts)})"
    if shown != stats.changes:
        text += f", {shown} shown (--min-severity {threshold})"
    if stats.duplicates:
        text += f", {stats.duplicates} repeated changes skipped (the same event read more than once)"
    if stats.problems:
        text += f", {stats.problems} problems"
    return text


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl"]),
    help="Output format (default: table on a terminal, else jsonl).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Policy YAML (severities, admin ports, allowlists).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config YAML (notify channels, audit db, ...).",
)
@click.option(
    "--min-severity",
    default="info",
    type=SEVERITY_CHOICE,
    show_default=True,
    help="Only show changes at or above this severity.",
)
@click.option("--fail-on", type=SEVERITY_CHOICE, help="Exit 3 when any change reaches this severity.")
@click.option("--notify", is_flag=True, help="Deliver alerts to the channels in --config (without it nothing is sent).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="Record every change in this SQLite audit store."
)
@click.option("--since", help="Only events at or after this time: ISO 8601 or an age like 7d, 12h.")
@click.option("--until", help="Only events before this time: ISO 8601 or an age like 7d, 12h.")
@click.option("--accounts", multiple=True, help="Only these account ids (repeatable or comma-separated).")
@click.option("--regions", multiple=True, help="Only these regions (repeatable or comma-separated).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes that judge files and S3 objects in parallel, this one included (default: the number of cores).",
)
@click.option(
    "--s3-concurrency",
    type=click.IntRange(min=1),
    default=S3_CONCURRENCY,
    show_default=True,
    help="S3 objects downloaded at once when scanning s3:// archives.",
)
@click.option("--verbose", "-v", is_flag=True, help="Print structured log lines (deliveries, retries) on stderr.")
def scan(
    paths: tuple[str, ...],
    fmt: str | None,
    policy_path: Path | None,
    config_path: Path | None,
    min_severity: str,
    fail_on: str | None,
    notify: bool,
    db_path: Path | None,
    since: str | None,
    until: str | None,
    accounts: tuple[str, ...],
    regions: tuple[str, ...],
    workers: int | None,
    s3_concurrency: int,
    verbose: bool,
) -> None:
    """Scan CloudTrail files, directories, envelopes, stdin (-) or S3 archives (s3://bucket/prefix).

    Reads bare records, CloudTrail log files (plain or .gz), EventBridge, SNS, SQS and CloudWatch Logs
    events, and JSON lines of any of them. Exit codes: 0 ok, 1 a delivery or the audit record failed,
    2 bad input (after processing everything readable), 3 --fail-on met.
    """
    if not paths:
        if sys.stdin.isatty():
            raise click.UsageError("give one or more paths, or - to read stdin")
        paths = ("-",)
    settings = load_settings(config_path)
    policy = load_policy(policy_path or settings.policy_path)
    notify_config = None
    if notify:
        from sgwatch.notify.config import parse_notify  # noqa: PLC0415

        notify_config = parse_notify(settings)  # a bad channel stops the run before any input is read, not after
    threshold = Severity.parse(min_severity)
    fmt = fmt or ("table" if sys.stdout.isatty() else "jsonl")
    store_path = db_path or settings.db_path
    keep_all = notify or store_path is not None
    stats = ScanStats()
    shown: list[Judgement] = []  # the table's rows
    shown_count = 0
    judged: list[Judgement] = []
    worst = Severity.INFO
    scope = Scope(
        since=_time_option(since, "--since"),
        until=_time_option(until, "--until"),
        accounts=_list_option(accounts),
        regions=_list_option(regions),
    )
    store = open_store(store_path)
    try:
        results = judge_inputs(
            paths,
            policy,
            scope=scope,
            stats=stats,
            workers=workers or os.cpu_count() or 1,
            s3_concurrency=s3_concurrency,
        )
        for result in results:
            if isinstance(result, Problem):
                warn(str(result))
                continue
            worst = max(worst, result.severity)
            if keep_all:
                judged.append(result)
            if result.severity < threshold:
                continue
            shown_count += 1
            if fmt == "jsonl":
                write_jsonl(result, sys.stdout)
            else:
                shown.append(result)
        if fmt == "table":  # read by people: in the order things happened (files arrive by delivery time)
            print_table(sorted(shown, key=lambda judgement: judgement.change.event_time))
        warn(_summary(stats, shown_count, threshold))
        exit_code = 0
        if keep_all:
            failed = record_and_deliver(judged, settings, store, notify_config=notify_config, verbose=verbose)
            exit_code = EXIT_DELIVERY if failed else 0
    finally:
        if store is not None:
            store.close()
    if exit_code == 0 and fail_on is not None and stats.changes and worst >= Severity.parse(fail_on):
        exit_code = EXIT_FAIL_ON
    if exit_code == 0 and stats.problems:
        exit_code = EXIT_INPUT
    sys.exit(exit_code)
