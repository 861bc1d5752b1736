"""The tests' in-process servers (tests/support/httpd.py) queue a crowd of connections and send
their answers at once, as real registries do.

The standard library's servers listen with a backlog of 5. When 100 clients connect at once
(tests/faults/test_concurrency.py) and the serving thread is slow to accept, on a loaded
machine, Linux drops the handshakes beyond the queue. The client then believes it is connected,
the server retransmits its SYN-ACK for ~31 s and then resets, and the client fails a request
after 30 s with ECONNRESET. A real registry's server (Go's, nginx) listens with the system's
limit.

The standard library's handlers write an answer's headers and its body in two sends. With
Nagle's algorithm on, the body waits for the client to acknowledge the headers, and the client
delays that acknowledgement by up to 40 ms: every token the test token server issued took
~44 ms on loopback instead of ~2 ms. Go's servers, and so every registry and token service the
provider meets, set TCP_NODELAY on the connections they accept.
"""

from __future__ import annotations

import http.client
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


class _ReportsNoDelay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = str(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_loopback_server_sends_without_waiting_for_acknowledgements() -> None:
    server = LoopbackHTTPServer(_ReportsNoDelay, "nodelay-test")
    try:
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            client.request("GET", "/")
            assert client.getresponse().read() != b"0"
        finally:
            client.close()
    finally:
        server.stop()
