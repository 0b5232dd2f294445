"""``sgwatch notify``: check the configured channels; plus the delivery summary ``scan --notify`` prints."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click

from sgwatch.cli.output import log_to_stderr
from sgwatch.model import Delivery, DeliveryStatus


def format_delivery_summary(deliveries: Iterable[Delivery]) -> list[str]:
    """Lines for stderr (sgwatch.notify.summary): alerts per channel, digests, skips by reason, failures."""
    from sgwatch.notify.summary import summary_lines  # noqa: PLC0415 - only after a run that notified

    return summary_lines(deliveries)


def format_outcome(delivery: Delivery) -> str:
    """One line per channel for ``notify test``."""
    attempts = f" ({delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''})" if delivery.attempts else ""
    return f"{delivery.channel}: {delivery.status}{attempts}: {delivery.detail}"


@click.group("notify")
def notify() -> None:
    """Alert channels: check that each configured channel receives messages."""


@notify.command("test")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="sgwatch config file (YAML) whose notify: channels receive the test alert.",
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="Only this channel (by name; repeatable). Default: every channel.",
)
@click.option("--verbose", "-v", is_flag=True, help="Also print the structured delivery log lines on stderr.")
def test(config_path: Path, channels: tuple[str, ...], verbose: bool) -> None:
    """Send a sample alert to every channel and print each outcome (exit 1 if any failed)."""
    from sgwatch.notify.delivery import send_test_alert  # noqa: PLC0415
    from sgwatch.settings import load_settings  # noqa: PLC0415

    with log_to_stderr("sgwatch.notify", verbose):
        deliveries = send_test_alert(load_settings(config_path), channels=channels)
    for delivery in deliveries:
        click.echo(format_outcome(delivery))
    if any(d.status is not DeliveryStatus.DELIVERED for d in deliveries):
        sys.exit(1)
