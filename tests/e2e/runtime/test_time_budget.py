"""The Lambda handler always answers before the invocation's timeout (Lambda would stop it with no report):
delivery retries, reverts and S3 downloads start only while they can end in time, and what could not is a
failure that is retried. A fake context whose remaining time is short, a local receiver answering 429 or
hanging, moto for EC2 and S3."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from sgwatch.errors import DeliveryError
from sgwatch.lambda_handler import handler

from .conftest import load_fixture

SSH_EVENT = "5f1b2c3d-0000-4000-9000-000000000001"  # the record inside every fixture envelope


class Context:
    """A Lambda context with ``seconds`` left when made."""

    aws_request_id = "req-budget"

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))


def deliveries(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "delivery"]


def use_config(tmp_path: Path, receiver: Any, lambda_env: Any, extra: str = "") -> None:
    """A config with the default delivery settings (5 attempts, Retry-After honoured up to 120 s, a 300 s
    deadline) but a 1 s request timeout, and no enrichment."""
    path = tmp_path / "defaults.yaml"
    path.write_text(
        f"enrich: false\nnotify:\n  - type: webhook\n    url: {receiver.url}/hook\n    min_severity: info\n"
        "delivery:\n  timeout: 1\n  burst: false\n" + extra
    )
    lambda_env(path)


@pytest.fixture
def defaults(tmp_path: Path, receiver: Any, lambda_env: Any) -> None:
    use_config(tmp_path, receiver, lambda_env)


@pytest.mark.timeout(60)
def test_a_429_with_a_long_retry_after_fails_the_message_in_time(
    build: Any, defaults: None, receiver: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.default.status, receiver.default.headers = 429, {"Retry-After": "30"}
    event = build.sqs_event(("m-1", json.dumps(build.envelope("eventbridge"))))
    started = time.monotonic()
    assert handler(event, Context(6.0)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert time.monotonic() - started < 6.0
    (failed,) = deliveries(capsys)
    assert failed["status"] == "failed"
    assert "a retry in 30.0s would pass the" in failed["detail"]
    assert failed["detail"].endswith("HTTP 429 ok")
    assert len(receiver.on("/hook")) == 1


@pytest.mark.timeout(60)
def test_a_receiver_that_never_answers_fails_a_direct_invocation_in_time(
    build: Any, defaults: None, receiver: Any
) -> None:
    receiver.default.delay = 30.0  # answers after 30 s: every request times out (1 s)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="the event will be retried: delivery to webhook"):
        handler(build.envelope("eventbridge"), Context(5.0))  # EventBridge: raising makes Lambda retry
    assert time.monotonic() - started < 5.0
    assert len(receiver.on("/hook")) >= 2  # it was retried while there was time


LIVE = "remediate:\n  enabled: true\n  dry_run: false\n"


def test_a_revert_is_not_started_without_time_for_it_and_is_done_on_the_retry(
    aws: Any, build: Any, group: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"))
    use_config(tmp_path, receiver, lambda_env, LIVE)
    event = build.sqs_event(("m-1", json.dumps(build.eventbridge(rec))))
    assert handler(event, Context(3.0)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0
    (failed,) = receiver.alert(rec["eventID"])["remediations"]  # the alert itself still goes out
    assert failed["status"] == "failed"
    assert re.fullmatch(r"not attempted: 2\.\d s left in this invocation, 5 s needed; the event will be retried",
                        failed["detail"])  # fmt: skip

    assert handler(event, Context(60.0)) == {"batchItemFailures": []}  # SQS delivers the message again
    assert ("tcp", 22, 22, "0.0.0.0/0") not in sg.ingress()
    told = [a["remediations"][0]["status"] for a in receiver.alerts() if a["event_id"] == rec["eventID"]]
    assert told == ["failed", "reverted"]


def test_an_s3_object_is_not_downloaded_without_time_for_it(
    aws: Any, build: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    notification = build.s3_log_notification([load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")])
    lambda_env(config("enrich: false\n"))
    event = build.sqs_event(("m-s3", json.dumps(notification)))
    assert handler(event, Context(3.0)) == {"batchItemFailures": [{"itemIdentifier": "m-s3"}]}
    assert aws.count("s3:GetObject") == 0
    assert handler(event, Context(60.0)) == {"batchItemFailures": []}
    assert receiver.alert(SSH_EVENT)["changes"][0]["peer"] == "0.0.0.0/0"
