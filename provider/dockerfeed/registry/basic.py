"""Basic authentication (RFC 7617) as an `httpx.Auth`: on the registry when its challenge is
Basic, and on a token service's GET (docs/design.md, "registry/ in layers")."""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from dockerfeed.registry.credentials import Credentials


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class BasicAuth(httpx.Auth):
    """One user name and password on every request it authorises. The password never appears
    in repr()."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.header = basic_header(username, password)

    @classmethod
    def of(cls, credentials: Credentials | None) -> BasicAuth | None:
        """For a user name with a password; None for anonymous access or an identity token."""
        if credentials is None or credentials.username is None or credentials.password is None:
            return None
        return cls(credentials.username, credentials.password)

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r})"

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = self.header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request)
        yield request


__all__ = ["BasicAuth", "basic_header"]
