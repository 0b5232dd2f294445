"""AWS for the tests: one moto server on 127.0.0.1, the environment that points every client at it with fake
credentials, and the tables the product expects to exist.

Test-support module (the ``moto_url`` and ``aws_environ`` fixtures use it; ``support("support/aws.py")``
loads it). Nothing here ever reaches an address outside 127.0.0.0/8.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}

# Variables that could point a client at a real account or another profile; removed from the environment.
UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_LAMBDA_FUNCTION_NAME",
    "SGWATCH_CONFIG",
)


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1", host
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def environ(endpoint: str | None, home: Path, region: str = REGION) -> dict[str, str | None]:
    """The variables for a process that talks to moto (``None``: remove the variable).

    ``endpoint`` None leaves AWS_ENDPOINT_URL unset (for ``moto.mock_aws``, which intercepts in-process).
    ``home`` holds the (absent) AWS config and credentials files, so no user configuration is read.
    """
    values: dict[str, str | None] = dict.fromkeys(UNSET)
    values.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        AWS_SESSION_TOKEN=CREDENTIALS["aws_session_token"],
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
    )
    return values


def apply(monkeypatch: pytest.MonkeyPatch, values: Mapping[str, str | None]) -> None:
    """Set (or remove, for None) each variable through ``monkeypatch``: undone when it is."""
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@functools.cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()  # one session: its service models are loaded once


def client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A new boto3 client (its own connections) for moto at ``endpoint``; reads nothing from the environment."""
    return _session().client(service, endpoint_url=endpoint, region_name=region, **CREDENTIALS)


def create_ledger_table(dynamodb: Any) -> str:
    """A sent-ledger table with the schema the stack creates (``pk`` S HASH, ``rule_key`` S RANGE)."""
    name = f"sgwatch-ledger-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "rule_key", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "rule_key", "KeyType": "RANGE"}],
    )
    return name
