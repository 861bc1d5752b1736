"""The tests' in-process servers (tests/support/httpd.py) queue a crowd of connections as real
registries do.

The standard library's servers listen with a backlog of 5. When 100 clients connect at once
(tests/faults/test_concurrency.py) and the serving thread is slow to accept, on a loaded
machine, Linux drops the handshakes beyond the queue. The client then believes it is connected,
the server retransmits its SYN-ACK for ~31 s and then resets, and the client fails a request
after 30 s with ECONNRESET. A real registry's server (Go's, nginx) listens with the system's
limit.
"""

from __future__ import annotations

import socket
import struct
from http.server import BaseHTTPRequestHandler

from tests.support.httpd import LoopbackHTTPServer


def _listen_backlog(sock: socket.socket) -> int:
    # For a listening socket, Linux's tcp_info reports the backlog in tcpi_sacked (offset 28).
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("I", info, 28)[0])


def test_a_loopback_server_queues_a_crowd_of_connections() -> None:
    server = LoopbackHTTPServer(BaseHTTPRequestHandler, "backlog-test")
    try:
        assert _listen_backlog(server.socket) >= 128
    finally:
        server.stop()
