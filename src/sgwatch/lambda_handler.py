"""AWS Lambda entry point: ``sgwatch.lambda_handler.handler``.

One function for every delivery path: an EventBridge event, SNS, SQS (partial batch failures reported as
``batchItemFailures``), a CloudWatch Logs subscription, and S3 object-created notifications for CloudTrail
log files. The work is bounded by the invocation's remaining time (``context.get_remaining_time_in_millis``,
less a margin), so the report (or the error) always comes back before Lambda's timeout would stop it.
Settings come from ``SGWATCH_CONFIG`` (a YAML path, or ``ssm:/name``) and are cached, with the policy and AWS
clients, across warm invocations. ``SGWATCH_LEDGER_TABLE`` names the DynamoDB sent ledger when
the config sets no ``audit: {ledger_table: ...}``. Importing this module imports no boto3, and nothing
but what its definitions need: the runtime (logging, YAML, the policy, the channels) is imported by the first
invocation, so the cold start pays once, for what the event needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sgwatch.errors import DeliveryError, RemediationError, SourceError

if TYPE_CHECKING:
    from sgwatch.runtime.app import App
    from sgwatch.runtime.batch import BatchResult
    from sgwatch.runtime.deadline import Deadline

CONFIG_ENV = "SGWATCH_CONFIG"
LOG_LEVEL_ENV = "SGWATCH_LOG_LEVEL"
LEDGER_TABLE_ENV = "SGWATCH_LEDGER_TABLE"
ORIGIN = "lambda"
_cache: dict[tuple[str, ...], App] = {}


def _cache_key(environ: Mapping[str, str]) -> tuple[str, ...]:
    names = (CONFIG_ENV, LEDGER_TABLE_ENV, "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME")
    return tuple(environ.get(name, "") for name in names)


def get_app(environ: Mapping[str, str]) -> App:
    """The App for this environment, built on the first (cold) invocation and reused while warm."""
    key = _cache_key(environ)
    app = _cache.get(key)
    if app is None:
        import logging  # noqa: PLC0415 - this module imports only what its definitions need (cold start)

        from sgwatch.runtime.app import build_app  # noqa: PLC0415
        from sgwatch.runtime.clients import AwsClients  # noqa: PLC0415
        from sgwatch.runtime.config_ref import load_config_ref  # noqa: PLC0415
        from sgwatch.runtime.logs import log_event  # noqa: PLC0415

        clients = AwsClients(default_region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"))
        settings = load_config_ref(
            environ.get(CONFIG_ENV),
            environ,
            clients,
            enrich_default=True,
            ledger_table_default=environ.get(LEDGER_TABLE_ENV, "").strip() or None,  # the config's own table wins
        )
        function = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        app = build_app(settings, clients=clients, own_session_names=(function,) if function else ())
        log_event(
            logging.INFO,
            "cold_start",
            config=settings.source,
            enrich=app.enricher is not None,
            ledger_table=app.settings.ledger_table,
            remediate=app.remediation.enabled,
            dry_run=app.remediation.dry_run if app.remediation.enabled else None,
        )
        clear_cache()
        _cache[key] = app
    return app


def clear_cache() -> None:
    """Forget the cached App (the next invocation behaves like a cold start)."""
    for app in _cache.values():
        app.close()
    _cache.clear()


def deadline_of(context: Any) -> Deadline | None:
    """When this invocation's work must be done: Lambda's remaining time less a margin; None without a
    Lambda context (a local run)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    from sgwatch.runtime.deadline import Deadline  # noqa: PLC0415

    return Deadline.within(float(remaining()) / 1000.0)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Process one invocation. SQS: return ``batchItemFailures`` naming only the messages whose records
    failed (unreadable, or a delivery/remediation failure). Other sources: raise when a delivery or a
    remediation failed, or an S3 object could not be downloaded, so Lambda retries the event; the sent ledger
    keeps channels from repeating and the revert log keeps reverts from repeating."""
    from sgwatch.runtime.logs import configure_logging  # noqa: PLC0415
    from sgwatch.sources.envelopes import detect, sqs_event, unwrap  # noqa: PLC0415

    deadline = deadline_of(context)  # first: the clock runs from the start of the invocation
    environ = dict(os.environ)  # the edge: the only place that reads the environment
    formatter = configure_logging(environ.get(LOG_LEVEL_ENV, "INFO").upper())
    request_id = getattr(context, "aws_request_id", None)
    formatter.context = {"request_id": request_id} if request_id else {}
    app = get_app(environ)
    from sgwatch.runtime.batch import process_isolated  # noqa: PLC0415

    result = process_isolated(unwrap(event, ORIGIN), app, deadline=deadline)
    if isinstance(event, Mapping) and detect(event) is sqs_event:  # only SQS answers with batchItemFailures
        return {"batchItemFailures": [{"itemIdentifier": item} for item in sorted(result.failed_items)]}
    summary = {
        "records": result.stats.records,
        "changes": result.stats.changes,
        "alerts": len(result.alerts),
        "problems": len(result.problems),
        "failures": list(result.failures),
    }
    _raise_for_retry(result)
    return summary


def _raise_for_retry(result: BatchResult) -> None:
    """Fail the invocation (Lambda retries it, then its on-failure destination) when a retry can help: a
    delivery or a revert failed, or an S3 object could not be downloaded (its records were not seen)."""
    reasons = [*result.failures, *(f"{problem}" for problem in result.unread)]
    if not reasons:
        return
    error: type[Exception] = SourceError
    if result.remediation_failed:
        error = RemediationError
    elif result.failures:
        error = DeliveryError
    raise error(f"{len(reasons)} failure(s), the event will be retried: " + "; ".join(reasons[:5]))
