"""Replaying registry behaviour through httpx.MockTransport (for what no local server shows)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from dockerfeed.registry import transport

Handler = Callable[[httpx.Request], httpx.Response]
V2 = {"Docker-Distribution-API-Version": "registry/2.0"}


def use(handler: Handler) -> list[httpx.Request]:
    """Route every client the registry package creates to `handler`; returns what it was sent."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    transport.transport_factory = lambda _settings: httpx.MockTransport(record)
    return seen


def basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    """The (user, password) of a Basic Authorization header, or None."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password
