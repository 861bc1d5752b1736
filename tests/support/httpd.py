"""The in-process HTTP servers of the tests (token server, fault and forward proxies, the cloud
endpoints of cloud.py) share this base: a loopback server on a free port, serving from a daemon
thread from creation until `stop`, listening with the system's backlog and sending without
Nagle's delay, as a registry's server does (tests/unit/test_loopback_server.py).

The standard library's server prints a traceback to ``sys.stderr`` whenever a client hangs up
on a kept-alive connection. The CLI's connection pool does exactly that on exit, and because
the servers run in the test process, the traceback lands in the stderr a test is reading
(``capsys``) — a test asserting that the CLI's stderr starts with ``dockerfeed:`` then fails
at random. A client hanging up is not an error of the server; anything else still is, and is
kept in ``errors`` and written to the real standard error, where pytest shows it per test.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from http.server import ThreadingHTTPServer
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The system's limit, as a registry's server listens, not the standard library's 5: a
    # crowd of clients connecting at once to a slow-to-accept server otherwise loses handshakes
    # (tests/unit/test_loopback_server.py).
    request_queue_size = socket.SOMAXCONN

    def __init__(self, handler: Any, name: str) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def stop(self) -> None:
        """Stop serving and close the socket (from any thread but the serving one)."""
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def get_request(self) -> tuple[socket.socket, Any]:
        # TCP_NODELAY, as Go's servers set it: an answer's headers and body go in two sends, and
        # with Nagle's algorithm the body waits up to 40 ms for the client's delayed ACK.
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        if error is not None:
            self.errors.append(error)
        if sys.__stderr__ is not None:
            traceback.print_exc(file=sys.__stderr__)
