"""A webhook receiver on 127.0.0.1 that speaks HTTP/1.1 keep-alive and counts the TCP connections it accepts.

Test-support module (load it with the ``support`` fixture). ``close_after_reply`` makes it close each
connection right after answering (without a ``Connection: close`` header, like a server whose idle timeout
fired); ``drop_next`` makes it read that many requests and hang up without answering.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class KeepAliveServer:
    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.accepted = 0  # TCP connections accepted
        self.finished = 0  # TCP connections ended (by either side)
        self.received: list[dict[str, Any]] = []  # the JSON bodies answered 200
        self.dropped = 0
        self.close_after_reply = False
        self.drop_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10  # an idle keep-alive connection ends its thread eventually

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.accepted += 1

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with receiver.lock:
                        receiver.finished += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    drop = receiver.drop_next > 0
                    if drop:
                        receiver.drop_next -= 1
                        receiver.dropped += 1
                    else:
                        receiver.received.append(json.loads(body))
                if drop:
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                if receiver.close_after_reply:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def event_ids(self) -> list[str]:
        """The event ids of the alert documents received, in order."""
        with self.lock:
            return [doc["data"]["event_id"] for doc in self.received if doc.get("type") == "sgwatch.alert"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
