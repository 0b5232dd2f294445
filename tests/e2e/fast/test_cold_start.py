"""The Lambda alert path in a fresh interpreter: one EventBridge event, a console channel, no AWS client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EVENT = ROOT / "tests" / "fixtures" / "envelopes" / "lambda" / "eventbridge.json"
PROBE = """
import contextlib, io, json, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    event = json.load(handle)
import sgwatch.lambda_handler
logs, console = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(console):
    summary = sgwatch.lambda_handler.handler(event, None)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "httpx", "sqlite3", "rich"))
print(json.dumps({"summary": summary, "heavy": heavy, "logs": logs.getvalue(), "console": console.getvalue()}))
"""


def test_first_event_on_the_alert_path_alerts_without_heavy_imports(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("enrich: false\nnotify: [{type: console, min_severity: info}]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SGWATCH_"))}
    env.update(SGWATCH_CONFIG=str(config), AWS_REGION="eu-west-1")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(EVENT)], capture_output=True, text=True, check=True, env=env, timeout=60
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["summary"] == {"records": 1, "changes": 1, "alerts": 1, "problems": 0, "failures": []}
    assert result["heavy"] == []
    lines = [json.loads(line) for line in result["logs"].splitlines()]
    assert any(line["event"] == "cold_start" and line["enrich"] is False for line in lines)
    assert any(line["event"] == "delivery" and line["status"] == "delivered" for line in lines)
    assert "WORLD_ADMIN_PORT_INGRESS (critical): tcp/22 from 0.0.0.0/0" in result["console"]
