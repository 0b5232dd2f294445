"""Real local parts for delivery tests: an HTTP sink on 127.0.0.1 with scripted replies, AWS via moto."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@pytest.fixture(scope="session")
def alerts(support: Callable[[str], ModuleType]) -> ModuleType:
    return support("unit/notify/alerts.py")


@pytest.fixture
def clock(alerts: ModuleType) -> Any:
    return alerts.ManualClock()


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Sink:
    """Records every POST; replies from a per-path script, then with the default reply."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.default = Reply()
        self.lock = threading.Lock()
        self.url = ""

    def script(self, path: str, *replies: tuple[Any, ...]) -> None:
        """Replies as ``(status, body[, headers[, delay]])`` tuples, used in order."""
        self.scripts[path] = [Reply(*reply) for reply in replies]

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            queue = self.scripts.get(path)
            return queue.pop(0) if queue else self.default


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with sink.lock:
                sink.received.append(
                    Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                )
            reply = sink.next_reply(self.path)
            if reply.delay:
                time.sleep(reply.delay)
            data = reply.body.encode()
            try:
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def sink() -> Iterator[Sink]:
    state = Sink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    server.block_on_close = False
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


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
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and region; moto intercepts every AWS call in-process."""
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        yield
