"""A deadline for each whole request, below httpx's per-operation timeouts.

httpx's timeouts apply to each socket operation: a server that sends one byte a second never
trips them, and holds a request for as long as it likes. A deadline bounds the whole exchange.
It is set per attempt by DeadlineTransport and seen by the network streams below httpcore,
which cap every connect, TLS handshake, read and write at the time left. The body is read
after handle_request returns, by the caller, so the response stream carries the deadline
along and installs it again around each read. Why: docs/design.md.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx


@dataclass(frozen=True)
class Deadline:
    seconds: float
    at: float  # time.monotonic() when it passes

    def left(self) -> float:
        return self.at - time.monotonic()

    @property
    def message(self) -> str:
        return f"the request did not complete within its deadline of {self.seconds:g} s"


_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "dockerfeed_deadline", default=None
)


def _bounded(
    op: Callable[[float | None], Any], timeout: float | None, late: type[httpcore.TimeoutException]
) -> Any:
    """Run a socket operation with its timeout capped at what is left of the current deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return op(timeout)
    left = deadline.left()
    if left <= 0:
        raise late(deadline.message)
    capped = timeout is None or left < timeout
    try:
        return op(left if capped else timeout)
    except httpcore.TimeoutException as e:
        if capped:
            raise late(deadline.message) from e
        raise


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = _bounded(lambda t: self._inner.read(max_bytes, t), timeout, httpcore.ReadTimeout)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda t: self._inner.write(buffer, t), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.start_tls(ssl_context, server_hostname, t), timeout, httpcore.ConnectTimeout
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.connect_unix_socket(path, t, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body read under the deadline of the request that brought it."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _DEADLINE.set(self._deadline)
            try:
                chunk = next(chunks, None)
            finally:
                _DEADLINE.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class DeadlineTransport(httpx.BaseTransport):
    """Gives each request sent through it (each attempt, below the retries) `seconds` in all."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = Deadline(self.seconds, time.monotonic() + self.seconds)
        token = _DEADLINE.set(deadline)
        try:
            response = self.inner.handle_request(request)
        finally:
            _DEADLINE.reset(token)
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _DeadlineBody(response.stream, deadline)
        return response

    def close(self) -> None:
        self.inner.close()


def with_deadlines(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Put the deadline streams under `transport`'s connection pool.

    httpx does not take a network backend, httpcore's pools do: the pool is reached through
    httpx's `_pool`, and every connection it opens from now on goes through the backend.
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        raise RuntimeError(
            f"httpx {httpx.__version__} keeps its connection pool elsewhere; request deadlines "
            "cannot be installed (registry/deadline.py with_deadlines needs updating)"
        )
    pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


__all__ = ["Deadline", "DeadlineTransport", "with_deadlines"]
