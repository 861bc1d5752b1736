"""One feed over one connection identity: every request of the operation modules goes through
here, to be authorised, counted, and turned into a named error when it fails.

The state that outlives a Connection (clients, tokens, what hosts taught, caches) belongs to
its Session; a Connection is cheap and made per use.
"""

from __future__ import annotations

from typing import Any, NoReturn

import httpx

from dockerfeed.registry._http import read_body, read_json
from dockerfeed.registry.auth import SCOPES_EXTENSION, RegistryAuth
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import RegistryError
from dockerfeed.registry.failures import from_status, from_transport, rate_limited, who
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.reference import FeedAddress
from dockerfeed.registry.session import Session, default_session
from dockerfeed.registry.settings import ConnectionSettings


class Connection:
    """A feed's settings, resolved once: credentials, identity, pooled client and auth flow."""

    def __init__(self, settings: ConnectionSettings, session: Session | None = None) -> None:
        self.session = session if session is not None else default_session()
        self.settings = settings
        self.address: FeedAddress = settings.address
        self.credentials: Credentials | None = self.session.credentials(settings)
        # The key of everything the session remembers about the registry (identity.py).
        self.identity = ConnectionIdentity.of(settings, self.credentials)
        self.client = self.session.client(settings, self.identity.transport)
        self.auth = RegistryAuth(
            self.identity,
            self.credentials,
            tokens=self.session.tokens,
            hosts=self.session.hosts,
            allow_http_realm=self.address.scheme == "http",
            client=self.client,
        )
        self.api_version: str | None = None  # set by ping.ensure_pinged
        self._registry_requests = 0

    @property
    def requests(self) -> int:
        """HTTP requests this object sent: to the registry (retries not counted) and its token service."""
        return self._registry_requests + self.auth.token_requests

    @property
    def who(self) -> str:
        return who(self.credentials)

    def send(
        self,
        method: str,
        url: str,
        *,
        scopes: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send one request (auth negotiated); the body is left unread for the caller to cap."""
        request = self.client.build_request(
            method, url, headers=headers, extensions={SCOPES_EXTENSION: scopes}
        )
        try:
            response = self.client.send(request, auth=self.auth if authenticate else None, stream=True)
        except httpx.HTTPError as e:
            raise self.transport_error(method, url, e) from None
        self._registry_requests += 1 + len(response.history)
        if response.status_code == 429:
            raise rate_limited(response, f"{method} {url}")
        return response

    def transport_error(self, method: str, url: str, e: httpx.HTTPError) -> RegistryError:
        return from_transport(
            method,
            url,
            e,
            address=self.address,
            own_ca=bool(self.settings.ca_certificate),
            seconds=self.identity.transport.timeout,
        )

    def fail(self, response: httpx.Response, what: str) -> NoReturn:
        """Raise the error of a final non-success response to `what` ("GET https://…")."""
        raise from_status(response, what, self.credentials)

    def read(self, response: httpx.Response, limit: int, what: str) -> bytes:
        return read_body(response, limit, what, self.identity.transport.timeout)

    def json(self, response: httpx.Response, limit: int, what: str) -> dict[str, Any]:
        return read_json(response, limit, what, self.identity.transport.timeout)


__all__ = ["Connection"]
