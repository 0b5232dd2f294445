"""``sgwatch notify test`` as a subprocess (the ``cli`` fixture) against a local sink."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_notify_test_reaches_every_channel(sink: Any, tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text(
        "notify:\n"
        f"  - type: slack\n    url: {sink.url}/slack\n    min_severity: critical\n"
        f"  - type: webhook\n    name: siem\n    url: {sink.url}/hook\n    secret: {WHSEC}\n"
        "  - type: console\n    stream: stdout\n"
    )
    result = cli("notify", "test", "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("slack:", "siem:", "console:"))]
    assert lines == [
        "slack: delivered (1 attempt): HTTP 200 ok",
        "siem: delivered (1 attempt): HTTP 200 ok",
        "console: delivered (1 attempt): written to stdout",
    ]
    slack = json.loads(sink.on("/slack")[0].body)
    assert slack["blocks"][0]["text"]["text"] == "CRITICAL: Test alert from sgwatch (no action needed)"
    assert "webhook-signature" in sink.on("/hook")[0].headers
    assert result.stderr == ""  # structured log lines only with --verbose


def test_notify_test_exits_1_and_names_the_failure(sink: Any, tmp_path: Path, cli: Any) -> None:
    sink.script("/slack", (404, "no_service"))
    config = tmp_path / "sgwatch.yaml"
    config.write_text(
        f"notify:\n  - type: slack\n    url: {sink.url}/slack\n  - type: webhook\n    url: {sink.url}/hook\n"
    )
    result = cli("notify", "test", "--config", str(config), "--verbose")
    assert result.returncode == 1
    assert "slack: failed (1 attempt): HTTP 404 no_service" in result.stdout
    assert "webhook: delivered (1 attempt): HTTP 200 ok" in result.stdout
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"delivery", "insecure_url", "attempt"} <= {e["event"] for e in events}


def test_notify_test_only_the_named_channel(sink: Any, tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text(
        f"notify:\n  - type: slack\n    url: {sink.url}/slack\n  - type: webhook\n    url: {sink.url}/hook\n"
    )
    result = cli("notify", "test", "--config", str(config), "--channel", "webhook")
    assert result.returncode == 0
    assert result.stdout.strip() == "webhook: delivered (1 attempt): HTTP 200 ok"
    assert sink.on("/slack") == []


def test_bad_config_exits_2_with_file_and_line(tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text("notify:\n  - type: slack\n    url: https://hooks.example.invalid/x\n    chanel: '#sec'\n")
    result = cli("notify", "test", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith(f"sgwatch: error: {config}:4: notify[0] (slack): unknown key 'chanel'")


def test_help_texts(cli: Any) -> None:
    result = cli("notify", "test", "--help")
    assert result.returncode == 0
    for option in ("--config", "--channel", "--verbose"):
        assert option in result.stdout
