"""The AWS edge of the deploy stage: clients for one region and the translation of botocore errors.

Clients come from the runtime's cache (``sgwatch.runtime.clients.AwsClients``), created the standard way, so
``AWS_REGION``, ``AWS_PROFILE`` and ``AWS_ENDPOINT_URL`` are honoured. boto3 is imported lazily, so building a
template never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sgwatch.errors import DeployError, aws_error
from sgwatch.runtime.clients import AwsClients


@dataclass(frozen=True, slots=True, kw_only=True)
class Aws:
    """The runtime's client cache, pinned to one resolved region, with DeployError for client failures."""

    clients: AwsClients
    region: str

    def client(self, service: str) -> Any:
        """The cached client for ``service`` in ``region``."""
        with calling(f"creating the {service} client"):
            return self.clients.client(service)


def connect(region: str | None = None) -> Aws:
    """Clients of a new session (the profile and credentials as they are now) for ``region`` (None: the
    profile's or the environment's); DeployError when no region is configured."""
    import boto3  # noqa: PLC0415 - heavy; only the AWS commands need it

    with calling("opening the AWS session"):  # e.g. ProfileNotFound for an AWS_PROFILE that does not exist
        session = boto3.session.Session(region_name=region)
        session_region = session.region_name
    if session_region is None:
        raise DeployError("no AWS region configured: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)")
    # botocore's default timeouts and attempts: stack operations and package uploads are slow, and throttled.
    clients = AwsClients.from_session(
        session, default_region=session_region, connect_timeout=60.0, read_timeout=60.0, max_attempts=5
    )
    return Aws(clients=clients, region=session_region)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError (empty for anything else)."""
    return aws_error(exc)[0]


def error_message(exc: BaseException) -> str:
    """The AWS error message of a botocore ClientError (``str(exc)`` for anything else)."""
    return aws_error(exc, None)[1]


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Translate botocore errors raised inside the block into DeployError naming ``what`` was being done."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError  # noqa: PLC0415 - lazy

    try:
        yield
    except NoCredentialsError as exc:
        raise DeployError(
            f"{what}: no AWS credentials found: configure a profile (aws configure / AWS_PROFILE) "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from exc
    except ClientError as exc:
        raise DeployError(f"{what}: {error_code(exc)}: {error_message(exc)}") from exc
    except BotoCoreError as exc:
        raise DeployError(f"{what}: {exc}") from exc


def fetch(what: str, call: Callable[..., Any], /, *, missing: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """``call(**kwargs)``; None when AWS answers one of the ``missing`` error codes, DeployError on other errors."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - lazy

    with calling(what):
        try:
            return call(**kwargs)
        except ClientError as exc:
            if error_code(exc) in missing:
                return None
            raise


def caller_identity(aws: Aws) -> tuple[str, str]:
    """(account id, partition) of the credentials in use (sts:GetCallerIdentity needs no permission)."""
    with calling("reading the account id (sts:GetCallerIdentity)"):
        answer = aws.client("sts").get_caller_identity()
    return str(answer["Account"]), str(answer["Arn"]).split(":")[1]


def bucket_exists(aws: Aws, bucket: str) -> bool:
    """True when ``bucket`` exists and is reachable; False when S3 answers 404."""

    found = fetch(
        f"checking artifact bucket {bucket!r}",
        aws.client("s3").head_bucket,
        missing=("404", "NoSuchBucket", "NotFound"),
        Bucket=bucket,
    )
    return found is not None


def describe_stack(aws: Aws, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - lazy

    cfn = aws.client("cloudformation")
    with calling(f"describing stack {stack_name!r}"):
        try:
            stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in error_message(exc):
                return None
            raise
    return dict(stacks[0]) if stacks else None


def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    """``OutputKey -> OutputValue`` of a described stack."""
    return {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}


# Output key -> logical id of the resource whose physical id gives the same value (for stacks lacking an output).
OUTPUT_RESOURCES: dict[str, str] = {
    "FunctionName": "Function",
    "QueueUrl": "Queue",
    "DeadLetterQueueUrl": "DeadLetterQueue",
    "RuleName": "EventRule",
    "ConfigParameterName": "ConfigParameter",
    "TopicArn": "AlertTopic",
    "TrailName": "Trail",
    "FunctionLogGroupName": "FunctionLogGroup",
    "SentLedgerTableName": "SentLedgerTable",
}


def stack_names(aws: Aws, stack_name: str) -> dict[str, str]:
    """The stack's outputs, completed from its resources' physical ids where an output is missing."""
    stack = describe_stack(aws, stack_name)
    if stack is None:
        raise DeployError(f"stack {stack_name!r} does not exist in {aws.region}: check --stack-name and --region")
    names = stack_outputs(stack)
    if all(key in names for key in OUTPUT_RESOURCES):
        return names
    with calling(f"listing resources of stack {stack_name!r}"):
        pages = aws.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
        physical = {
            str(r["LogicalResourceId"]): str(r["PhysicalResourceId"])
            for page in pages
            for r in page.get("StackResourceSummaries", [])
            if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
        }
    for key, logical in OUTPUT_RESOURCES.items():
        if key not in names and logical in physical:
            names[key] = physical[logical]
    return names
