"""The sent ledger in a DynamoDB table: exactly once across Lambda invocations and containers.

One item per (channel, alert, rule): partition key ``pk`` = ``"<channel>#<alert_id>"``, sort key
``rule_key``, ``sent_at`` (ISO 8601, UTC) and ``expires_at`` (epoch seconds, the table's TTL attribute).
What one channel already received of one alert is one Query on its partition key (``sent_rules``).
DynamoDB refuses an empty string as a key value, so the empty rule key is stored as ``"#"`` (a real rule
key is an ``sgr-`` id or starts with the action, never ``"#"``).

Errors become ``DeliveryError`` naming the table; delivery logs them and sends anyway (a duplicate rather
than a lost alert). boto3 is imported by the client factory, on the first call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sgwatch.errors import DeliveryError, aws_error

TTL_DAYS = 30
BATCH_SIZE = 25  # BatchWriteItem's limit
EMPTY_RULE_KEY = "#"
ACTIONS = "dynamodb:Query and dynamodb:BatchWriteItem"


class DynamoSentLedger:
    """A ``SentLedger`` kept in the DynamoDB table ``table_name`` (``pk`` S HASH, ``rule_key`` S RANGE).

    ``client_factory`` returns a boto3 DynamoDB client (called on first use, then kept). Unprocessed items
    of a batch write are retried ``max_attempts - 1`` times, ``retry_delay`` seconds apart (doubling).
    """

    __slots__ = ("_client", "_factory", "max_attempts", "now", "retry_delay", "table_name", "ttl")

    def __init__(
        self,
        table_name: str,
        client_factory: Callable[[], Any],
        *,
        ttl: timedelta = timedelta(days=TTL_DAYS),
        now: Callable[[], datetime] | None = None,
        max_attempts: int = 4,
        retry_delay: float = 0.05,
    ) -> None:
        self.table_name = table_name
        self.ttl = ttl
        self.now = now or (lambda: datetime.now(UTC))
        self.max_attempts = max(1, max_attempts)
        self.retry_delay = retry_delay
        self._factory = client_factory
        self._client: Any = None

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        """The keys of ``rule_keys`` already sent: one Query on the alert's partition, whatever the number
        of rules."""
        wanted = {_stored(key): key for key in rule_keys}
        if not wanted:
            return frozenset()
        found: set[str] = set()
        with self._translate("read"):
            for page in self._query(_pk(channel, alert_id)):
                found.update(item["rule_key"]["S"] for item in page)
        return frozenset(key for stored, key in wanted.items() if stored in found)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        keys = sorted({_stored(key) for key in rule_keys})
        if not keys:
            return
        at = self.now().astimezone(UTC)
        common = {
            "pk": {"S": _pk(channel, alert_id)},
            "sent_at": {"S": at.isoformat(timespec="seconds")},
            "expires_at": {"N": str(int((at + self.ttl).timestamp()))},
        }
        requests = [{"PutRequest": {"Item": {**common, "rule_key": {"S": key}}}} for key in keys]
        with self._translate("write"):
            for start in range(0, len(requests), BATCH_SIZE):
                self._write(requests[start : start + BATCH_SIZE])

    # --- DynamoDB calls ------------------------------------------------------------------------

    def _client_or_new(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def _query(self, pk: str) -> Iterator[Sequence[dict[str, Any]]]:
        """Pages of the items under ``pk``, read consistently."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ProjectionExpression": "rule_key",
            "ConsistentRead": True,
        }
        client = self._client_or_new()
        while True:
            answer = client.query(**request)
            yield answer.get("Items", [])
            if not answer.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _write(self, requests: list[dict[str, Any]]) -> None:
        client = self._client_or_new()
        pending = requests
        for attempt in range(self.max_attempts):
            if attempt:
                time.sleep(self.retry_delay * 2 ** (attempt - 1))
            answer = client.batch_write_item(RequestItems={self.table_name: pending})
            pending = answer.get("UnprocessedItems", {}).get(self.table_name, [])
            if not pending:
                return
        raise DeliveryError(
            f"sent ledger table {self.table_name!r}: {len(pending)} item(s) still unprocessed after "
            f"{self.max_attempts} attempts (throttled): check the table's capacity"
        )

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """botocore errors -> DeliveryError naming the table and what to check."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 only when used

        try:
            yield
        except ClientError as exc:
            code, _ = aws_error(exc)
            hint = {
                "ResourceNotFoundException": "check that the table exists in this account and region",
                "AccessDeniedException": f"check that the role allows {ACTIONS} on the table",
            }.get(code, f"check that the table exists and the role allows {ACTIONS} on it")
            raise DeliveryError(f"sent ledger table {self.table_name!r}: cannot {what}: {exc}: {hint}") from exc
        except BotoCoreError as exc:
            raise DeliveryError(
                f"sent ledger table {self.table_name!r}: cannot {what}: {exc}: check the region, "
                "the endpoint and the credentials"
            ) from exc


def _pk(channel: str, alert_id: str) -> str:
    return f"{channel}#{alert_id}"


def _stored(rule_key: str) -> str:
    return rule_key or EMPTY_RULE_KEY
