"""An SQS queue as a source (``sgwatch watch --sqs-queue-url``): receive, unwrap, delete.

Message bodies are envelopes of their own (EventBridge events, SNS notifications, S3 notifications), so
they go through ``envelopes`` exactly as a Lambda SQS event would, each record tagged with its message id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sgwatch.errors import SourceError, aws_error_text
from sgwatch.sources.base import SourceItem
from sgwatch.sources.envelopes import sqs_event

DELETE_BATCH = 10  # DeleteMessageBatch takes at most 10 entries


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMessage:
    """One received message."""

    message_id: str
    receipt_handle: str
    body: str


def receive(
    client: Any,
    queue_url: str,
    *,
    wait_seconds: int = 20,
    max_messages: int = 10,
    visibility_timeout: int | None = None,
) -> tuple[QueueMessage, ...]:
    """One long poll; SourceError (naming the queue) when SQS refuses."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    kwargs: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_seconds,
    }
    if visibility_timeout is not None:
        kwargs["VisibilityTimeout"] = visibility_timeout
    try:
        response = client.receive_message(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise SourceError(f"{queue_url}: cannot receive messages: {aws_error_text(exc)}") from exc
    return tuple(
        QueueMessage(
            message_id=str(m["MessageId"]), receipt_handle=str(m["ReceiptHandle"]), body=str(m.get("Body", ""))
        )
        for m in response.get("Messages") or ()
    )


def message_items(messages: Sequence[QueueMessage], origin: str) -> Iterator[SourceItem]:
    """Every record in the messages, each tagged with its message id (problems too)."""
    records = [{"eventSource": "aws:sqs", "messageId": m.message_id, "body": m.body} for m in messages]
    yield from sqs_event({"Records": records}, origin, None)


def delete(client: Any, queue_url: str, messages: Sequence[QueueMessage]) -> dict[str, str]:
    """Delete the messages; the ids SQS did not delete, with why (they will simply be received again)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    failed: dict[str, str] = {}
    for start in range(0, len(messages), DELETE_BATCH):
        chunk = messages[start : start + DELETE_BATCH]
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)]
        try:
            response = client.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            failed.update((m.message_id, aws_error_text(exc)) for m in chunk)
            continue
        for entry in response.get("Failed") or ():
            failed[chunk[int(entry["Id"])].message_id] = f"{entry.get('Code', 'Unknown')}: {entry.get('Message', '')}"
    return failed
