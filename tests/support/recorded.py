"""Replaying registry behaviour through httpx.MockTransport (for what no local server shows)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from dockerfeed.registry.session import Limits, Session, default_session, set_default_session

Handler = Callable[[httpx.Request], httpx.Response]
V2 = {"Docker-Distribution-API-Version": "registry/2.0"}


def use(
    handler: Handler, *, limits: Limits | None = None, clock: Callable[[], float] | None = None
) -> list[httpx.Request]:
    """Make a Session over `handler` the default, so every Registry the code under test creates
    talks to it; returns what it was sent. The retry policy is the current default's (the test
    fixtures record its sleeps); the test fixture puts the previous default back."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    session = Session(
        transport=httpx.MockTransport(record), retry=default_session().retry, limits=limits, clock=clock
    )
    set_default_session(session).reset()
    return seen


def basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    """The (user, password) of a Basic Authorization header, or None."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password
