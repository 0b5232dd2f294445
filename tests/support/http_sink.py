"""An HTTP receiver on 127.0.0.1 standing in for webhook, Slack, Teams, PagerDuty or an AWS endpoint.

Test-support module (the ``http_sink`` fixture starts one; ``support("support/http_sink.py")`` loads it).
Every POST is recorded with the status it was answered; replies come from a per-path script, then from
``default``. ``keep_alive=True`` speaks HTTP/1.1 and keeps connections open (``accepted`` and ``finished``
count the TCP connections); ``close_after_reply`` closes each connection after answering (without a
``Connection: close`` header, like a server whose idle timeout fired) and ``drop_next`` reads that many
requests and hangs up without answering. Alert documents whose event id is in ``fail_events`` get HTTP 500.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALERT = "sgwatch.alert"  # the document type of one alert (webhook, SNS, the sinks' ``alerts()``)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (for servers that need one, or a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int | None  # the status answered; None when the connection was dropped instead

    def json(self) -> Any:
        return json.loads(self.body)

    def event_id(self) -> str | None:
        """The event id of an alert document, else None."""
        try:
            document = self.json()
        except ValueError:
            return None
        if not isinstance(document, dict) or document.get("type") != ALERT:
            return None
        event_id = document.get("data", {}).get("event_id")
        return str(event_id) if event_id is not None else None


class HttpSink:
    """Records every POST and answers it from a script; ``url`` is ``http://127.0.0.1:<port>`` (any path).

    ``port`` 0 picks a free one; a given port lets a test bring a stopped receiver back at the same address.
    """

    def __init__(self, *, keep_alive: bool = False, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.default = Reply()
        self.fail_events: set[str] = set()
        self.accepted = 0  # TCP connections accepted
        self.finished = 0  # TCP connections ended (by either side)
        self.dropped = 0
        self.drop_next = 0
        self.close_after_reply = False
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self, keep_alive))
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = False
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()

    def script(self, path: str, *replies: tuple[Any, ...]) -> None:
        """Replies as ``(status, body[, headers[, delay]])`` tuples, used in order, then ``default``."""
        self.scripts[path] = [Reply(*reply) for reply in replies]

    def on(self, path: str) -> list[Received]:
        """The requests received on ``path``."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def documents(self) -> list[Any]:
        """The JSON bodies of the requests answered with a 2xx status, in order."""
        with self.lock:
            return [r.json() for r in self.received if r.status is not None and 200 <= r.status < 300]

    def alerts(self) -> list[dict[str, Any]]:
        """The ``data`` of every alert document answered with a 2xx status."""
        return [doc["data"] for doc in self.documents() if isinstance(doc, dict) and doc.get("type") == ALERT]

    def alert(self, event_id: str) -> dict[str, Any]:
        """The one alert accepted for ``event_id``."""
        found = [a for a in self.alerts() if a["event_id"] == event_id]
        assert len(found) == 1, f"{len(found)} alerts for {event_id}: {self.alerts()}"
        return found[0]

    def event_ids(self) -> list[str]:
        """The event ids of the alerts accepted, in order."""
        return [str(a["event_id"]) for a in self.alerts()]

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.server.shutdown()
            self.server.server_close()

    def _answer(self, request: Received) -> Reply | None:
        """The reply for a request just read, or None to hang up without answering."""
        with self.lock:
            if self.drop_next > 0:
                self.drop_next -= 1
                self.dropped += 1
                return None
            if request.event_id() in self.fail_events:
                return Reply(status=500, body="")
            queue = self.scripts.get(request.path)
            return queue.pop(0) if queue else self.default

    def _record(self, request: Received) -> None:
        with self.lock:
            self.received.append(request)


def _handler(sink: HttpSink, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        timeout = 10  # an idle keep-alive connection ends its thread eventually

        def setup(self) -> None:
            super().setup()
            with sink.lock:
                sink.accepted += 1

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                with sink.lock:
                    sink.finished += 1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = sink._answer(Received(path=self.path, headers=headers, body=body, status=None))
            sink._record(Received(path=self.path, headers=headers, body=body, status=reply.status if reply else None))
            if reply is None:
                self.close_connection = True
                return
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
                return  # the client gave up (a timeout test)
            if sink.close_after_reply:
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
