"""A forward HTTP proxy for the proxy-from-the-environment tests (`http_proxy`, `https_proxy`).

Plain http requests arrive in absolute form (`GET http://host:port/path`) and are forwarded;
`CONNECT host:port` opens a tunnel for https. Every request is logged as (method, target,
whether Proxy-Authorization was right). With `credentials`, requests without them get 407.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.support.httpd import LoopbackHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding"}


@dataclass
class ForwardProxy:
    credentials: tuple[str, str] | None = None
    log: list[tuple[str, str, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._httpd: LoopbackHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.port}"

    def url_with_credentials(self) -> str:
        assert self.credentials is not None
        user, password = self.credentials
        return self.url.replace("http://", f"http://{user}:{password}@")

    def __enter__(self) -> ForwardProxy:
        self._httpd = LoopbackHTTPServer(_make_handler(self), "forward-proxy")
        return self

    def __exit__(self, *exc: object) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.stop()


def _make_handler(proxy: ForwardProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _authorized(self) -> bool:
            if proxy.credentials is None:
                return True
            expected = "Basic " + base64.b64encode(":".join(proxy.credentials).encode()).decode()
            return self.headers.get("Proxy-Authorization") == expected

        def _refuse(self) -> None:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_CONNECT(self) -> None:
            ok = self._authorized()
            proxy.log.append(("CONNECT", self.path, ok))
            if not ok:
                return self._refuse()
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.send_response(200, "Connection established")
            self.end_headers()
            sockets = [self.connection, upstream]
            try:
                while True:
                    readable, _, _ = select.select(sockets, [], [], 30)
                    if not readable:
                        return
                    for s in readable:
                        data = s.recv(65536)
                        if not data:
                            return
                        (upstream if s is self.connection else self.connection).sendall(data)
            finally:
                upstream.close()
                self.close_connection = True

        def _forward(self) -> None:
            ok = self._authorized()
            proxy.log.append((self.command, self.path, ok))
            if not ok:
                return self._refuse()
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=30)
            try:
                conn.request(
                    self.command,
                    target.path + (f"?{target.query}" if target.query else ""),
                    body=body,
                    headers=headers,
                )
                reply = conn.getresponse()
                data = reply.read()
            finally:
                conn.close()
            self.send_response(reply.status, reply.reason)
            for k, v in reply.getheaders():
                if k.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(k, v)
            # A HEAD answer announces the length of the body it does not send.
            length_header = reply.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length_header or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_POST = _forward

    return Handler
