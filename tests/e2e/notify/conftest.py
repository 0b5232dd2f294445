"""Real local parts for delivery tests: an HTTP sink on 127.0.0.1 with scripted replies, AWS via moto
in-process, settings with fast retry timings."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from sgwatch.settings import Settings, load_settings_text

FAST = """
delivery:
  timeout: 0.5
  backoff_base: 0.5
  backoff_max: 4
  retry_after_max: 120
  max_attempts: 4
"""


@pytest.fixture
def sink(http_sink: Callable[..., Any]) -> Any:
    """An HTTP sink on 127.0.0.1 (tests/support/http_sink.py): records every POST, replies as scripted."""
    return http_sink()


def make_settings(text: str, environ: dict[str, str] | None = None, *, fast: bool = True) -> Settings:
    body = textwrap.dedent(text)
    if fast and "delivery:" not in body:
        body = FAST + body
    return load_settings_text(body, "cfg.yaml", environ=environ or {})


@pytest.fixture
def config() -> Any:
    """``config(yaml_text, environ)``: Settings with fast retry timings unless the text sets delivery:."""
    return make_settings


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch,
    aws_environ: Callable[..., dict[str, str | None]],
    support: Callable[[str], ModuleType],
) -> Iterator[None]:
    """Fake credentials and region; moto intercepts every AWS call in-process (a clean account per test)."""
    from moto import mock_aws

    support("support/aws.py").apply(monkeypatch, aws_environ(None))
    with mock_aws():
        yield
