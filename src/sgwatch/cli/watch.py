"""``sgwatch watch``: run the same pipeline as the Lambda function from a queue or from LookupEvents."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click

EXIT_FAILURES = 1


def _install_stop(stop: threading.Event) -> None:
    """SIGTERM / SIGINT: finish the current batch, then exit; a second SIGINT interrupts at once."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        click.echo(f"sgwatch: {signal.Signals(signum).name}: stopping after the current batch", err=True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def _default_checkpoint(region: str | None) -> Path:
    import platformdirs  # noqa: PLC0415

    name = f"lookup-events-{region}.json" if region else "lookup-events.json"
    return Path(platformdirs.user_data_dir("sgwatch")) / name


@click.command()
@click.option("--sqs-queue-url", metavar="URL", help="Long-poll this SQS queue (the one the EventBridge rule feeds).")
@click.option("--lookup-events", is_flag=True, help="Poll CloudTrail LookupEvents instead (no infrastructure needed).")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config YAML (notify, remediate, audit)."
)
@click.option("--policy", "policy_path", type=click.Path(path_type=Path), help="Policy YAML (overrides the config's).")
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="Record everything in this SQLite audit store.")
@click.option(
    "--enrich/--no-enrich", default=None, help="Describe groups and interfaces (default: the config's enrich)."
)
@click.option("--region", help="AWS region of the queue / of LookupEvents (default: AWS_REGION).")
@click.option(
    "--wait-time", default=20, show_default=True, type=click.IntRange(0, 20), help="SQS long-poll wait, seconds."
)
@click.option(
    "--max-messages", default=10, show_default=True, type=click.IntRange(1, 10), help="SQS messages per receive."
)
@click.option(
    "--visibility-timeout", type=click.IntRange(0, 43200), help="SQS visibility timeout for received messages, seconds."
)
@click.option("--max-polls", type=click.IntRange(1), help="Stop after this many SQS receives (one-shot runs, tests).")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path),
    help="LookupEvents checkpoint file (default: in the user data folder).",
)
@click.option(
    "--interval", default=60.0, show_default=True, type=click.FloatRange(0), help="Seconds between LookupEvents polls."
)
@click.option(
    "--lookback",
    default=1200,
    show_default=True,
    type=click.IntRange(60),
    help="Seconds to re-read for late CloudTrail events.",
)
@click.option("--once", is_flag=True, help="Poll LookupEvents once and exit (cron, tests).")
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="JSON log lines on stderr at this level.",
)
def watch(
    sqs_queue_url: str | None,
    lookup_events: bool,
    config_path: Path | None,
    policy_path: Path | None,
    db_path: Path | None,
    enrich: bool | None,
    region: str | None,
    wait_time: int,
    max_messages: int,
    visibility_timeout: int | None,
    max_polls: int | None,
    checkpoint_path: Path | None,
    interval: float,
    lookback: int,
    once: bool,
    log_level: str,
) -> None:
    """Watch continuously: long-poll an SQS queue, or poll CloudTrail LookupEvents.

    Every batch goes through the same pipeline as the Lambda function (judge, enrich, remediate, notify,
    audit). SQS messages are deleted only after they were processed; failures stay in the queue for its
    redrive policy. SIGTERM/SIGINT finish the current batch, then exit. Exit codes: 0 ok, 1 a bounded run
    (--once, --max-polls) had delivery or remediation failures, 2 bad config or input.
    """
    if bool(sqs_queue_url) == lookup_events:
        raise click.UsageError("give exactly one of --sqs-queue-url URL or --lookup-events")
    from sgwatch.runtime import AwsClients, build_app, configure_logging  # noqa: PLC0415
    from sgwatch.settings import load_settings  # noqa: PLC0415

    configure_logging(log_level.upper(), sys.stderr)
    settings = load_settings(config_path)
    clients = AwsClients(default_region=region or os.environ.get("AWS_REGION") or None)
    app = build_app(settings, policy_path=policy_path, enrich=enrich, db_path=db_path, clients=clients)
    stop = threading.Event()
    _install_stop(stop)
    try:
        if sqs_queue_url:
            from sgwatch.runtime.sqs_watch import SqsOptions, run_sqs_watch  # noqa: PLC0415

            options = SqsOptions(
                queue_url=sqs_queue_url,
                wait_seconds=wait_time,
                max_messages=max_messages,
                visibility_timeout=visibility_timeout,
                max_polls=max_polls,
            )
            stats = run_sqs_watch(app, clients.client("sqs", region), options, stop=stop)
            click.echo(
                f"sgwatch: {stats.received} messages received, {stats.deleted} deleted, {stats.kept} left in the queue",
                err=True,
            )
            failed = stats.kept > 0 and max_polls is not None
        else:
            from sgwatch.runtime.lookup_watch import LookupOptions, run_lookup_watch  # noqa: PLC0415

            options_lookup = LookupOptions(
                checkpoint_path=checkpoint_path or _default_checkpoint(region),
                interval=interval,
                lookback=timedelta(seconds=lookback),
            )
            ok = run_lookup_watch(app, clients.client("cloudtrail", region), options_lookup, once=once, stop=stop)
            failed = not ok and once
    finally:
        app.close()
    sys.exit(EXIT_FAILURES if failed else 0)
