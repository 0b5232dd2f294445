"""``sgwatch watch --sqs-queue-url`` end to end: delete only what succeeded, leave a poison message, stop
cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from typing import Any

from sgwatch.runtime import build_app
from sgwatch.runtime.sqs_watch import SqsOptions, run_sqs_watch
from sgwatch.settings import load_settings

SSH_EVENT = "5f1b2c3d-0000-4000-9000-000000000001"


def _queue(build: Any, visibility: int) -> str:
    sqs = build.client("sqs")
    name = f"sgwatch-{uuid.uuid4().hex[:8]}"
    url: str = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility)})["QueueUrl"]
    return url


def _bodies(build: Any) -> list[str]:
    event = build.envelope("sqs")
    return [record["body"] for record in event["Records"]]


def test_watch_deletes_processed_messages_and_leaves_the_poison_one(build: Any, config: Any, receiver: Any) -> None:
    sqs = build.client("sqs")
    url = _queue(build, visibility=1)
    for body in [*_bodies(build), "not json at all"]:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    app = build_app(load_settings(config("enrich: false\n"), environ=dict(os.environ)))
    stats = run_sqs_watch(app, sqs, SqsOptions(queue_url=url, wait_seconds=0, max_polls=2))
    assert (stats.received, stats.deleted, stats.kept) == (3, 2, 1)
    assert len(receiver.alerts()) == 2
    time.sleep(1.2)  # the poison message becomes visible again: it waits for the redrive policy
    left = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == ["not json at all"]


def test_the_command_processes_then_stops_on_sigterm(
    build: Any, config: Any, receiver: Any, tmp_path: Any, cli: Any
) -> None:
    sqs = build.client("sqs")
    url = _queue(build, visibility=30)
    path = config("enrich: false\n")
    proc = cli.start(
        "watch", "--sqs-queue-url", url, "--config", str(path), "--wait-time", "1",
        "--db", str(tmp_path / "audit.sqlite"),
    )  # fmt: skip
    try:
        sqs.send_message(QueueUrl=url, MessageBody=_bodies(build)[0])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not receiver.alerts():
            time.sleep(0.2)
        assert [a["event_id"] for a in receiver.alerts()] == [SSH_EVENT]
        while time.monotonic() < deadline:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"message not deleted: {attrs}")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "SIGTERM: stopping after the current batch" in err
    assert "1 messages received, 1 deleted, 0 left in the queue" in err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert "sqs_batch" in events
    assert events[-1] == "watch_stopped"


def test_messages_sqs_will_not_delete_come_back_with_the_reason() -> None:
    import boto3
    from moto import mock_aws

    from sgwatch.sources.sqs import QueueMessage, delete

    with mock_aws():
        client = boto3.client("sqs", region_name="eu-west-1")
        url = client.create_queue(QueueName="sgwatch-delete")["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody="{}")
        (received,) = client.receive_message(QueueUrl=url)["Messages"]
        good = QueueMessage(message_id="m-good", receipt_handle=received["ReceiptHandle"], body="{}")
        bad = QueueMessage(message_id="m-bad", receipt_handle="bogus", body="{}")
        assert delete(client, url, [good, bad]) == {
            "m-bad": 'ReceiptHandleIsInvalid: The input receipt handle "bogus" is not a valid receipt handle.'
        }
        gone = delete(client, url + "-gone", [good])
        assert gone == {"m-good": "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."}
