"""Registry authentication as an `httpx.Auth` flow: anonymous, Basic and Bearer tokens (with the
Docker token GET, or an OAuth2 POST for identity tokens).

The flow pre-authorises requests when it already knows the registry's scheme (from the ping) and
holds a cached token for the request's scopes, so a warm run costs no extra round trips. What it
learns and fetches is kept in the session's HostStates and TokenCache, not here.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from urllib.parse import urlsplit

import httpx

from dockerfeed.registry._http import NotAnObject, TooLarge, json_object, read_capped, release
from dockerfeed.registry.challenge import challenges_of, choose
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import ProtocolError, RegistryError
from dockerfeed.registry.failures import token_refused, who
from dockerfeed.registry.hosts import HostAuthState, HostStates
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.tokens import TokenCache, TokenKey

SCOPES_EXTENSION = "dockerfeed.scopes"

# Token answers are a few KiB; anything far bigger is not a token service talking.
MAX_TOKEN_BYTES = 1024 * 1024
OAUTH_CLIENT_ID = "pulumi-dockerfeed"


class RegistryAuth(httpx.Auth):
    """Negotiates Basic or Bearer auth for one feed and one identity.

    Requests name the scopes they need in `request.extensions["dockerfeed.scopes"]`; the
    challenge's own `scope` is merged in. A 401 leads to at most two more attempts, and only
    when something changed: new scopes, a new realm, or a cached token that may be stale. A
    token fetched a moment ago for exactly these scopes that is refused again means "no
    permission" (`insufficient_scope`), not "try harder".

    Token requests are sent by the flow itself on the feed's pooled client (as httpx advises
    for flows that do I/O), streamed and capped, so a hostile token service cannot make us
    buffer an endless answer; the registry's own responses are never read here
    (`requires_response_body` is False), so the caller can stream and cap them too. Challenges
    are only obeyed when they come from the feed's own origin (not from a redirect target).
    """

    requires_response_body = False

    def __init__(
        self,
        identity: ConnectionIdentity,
        credentials: Credentials | None,
        *,
        tokens: TokenCache,
        hosts: HostStates,
        allow_http_realm: bool,
        client: httpx.Client,
    ) -> None:
        self.identity = identity
        self.base_url = identity.base_url
        self.credentials = credentials
        self.tokens = tokens
        self.hosts = hosts
        self.allow_http_realm = allow_http_realm
        self.client = client
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"RegistryAuth({self.base_url!r}, {who(self.credentials)})"

    # -- helpers ---------------------------------------------------------------------------

    def _basic_header(self, username: str | None = None, password: str | None = None) -> str | None:
        c = self.credentials
        if username is None and password is None:
            if c is None or c.password is None or c.username is None:
                return None
            username, password = c.username, c.password
        raw = f"{username}:{password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _key(self, state: HostAuthState, scopes: tuple[str, ...]) -> TokenKey:
        return (self.identity, state.realm or "", state.service or "", scopes)

    def _apply(self, request: httpx.Request, state: HostAuthState, scopes: tuple[str, ...]) -> bool:
        """Set Authorization from what we know without a round trip; False if we cannot."""
        if state.scheme == "basic":
            header = self._basic_header()
            if header:
                request.headers["Authorization"] = header
                return True
            return False
        if state.scheme == "bearer":
            token = self.tokens.get(self._key(state, scopes))
            if token:
                request.headers["Authorization"] = f"Bearer {token}"
                return True
        return False

    def _check_realm(self, realm: str) -> None:
        what = f"the registry {self.base_url} sent its clients to the token service {realm!r}"
        try:
            parts = urlsplit(realm)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            httpx.URL(realm)
        except (ValueError, httpx.InvalidURL):
            raise ProtocolError(
                f"{what}, which is not a valid URL; the registry's token auth is misconfigured "
                "(the realm of its WWW-Authenticate challenge, auth.token.realm in distribution)"
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProtocolError(
                f"{what}, which is not an http(s) URL; the registry's token auth is misconfigured "
                "(the realm of its WWW-Authenticate challenge, auth.token.realm in distribution)"
            )
        if parts.scheme == "https" or self.allow_http_realm:
            return
        raise ProtocolError(
            f"{what}, which is not https; refusing to send credentials there in the clear "
            "(only a plain-http feed may use a plain-http token service)"
        )

    def token_request(
        self, state: HostAuthState, scopes: tuple[str, ...], *, force_get: bool = False
    ) -> httpx.Request:
        """The request for a token: OAuth2 POST for an identity token, else the Docker GET."""
        assert state.realm is not None
        self._check_realm(state.realm)
        c = self.credentials
        if c is not None and c.identity_token and not force_get:
            # OAuth2 refresh-token grant; scopes are space-joined in a form POST.
            form = {
                "grant_type": "refresh_token",
                "refresh_token": c.identity_token,
                "service": state.service or "",
                "client_id": OAUTH_CLIENT_ID,
                "scope": " ".join(scopes),
            }
            return httpx.Request("POST", state.realm, data=form)
        params: list[tuple[str, str | int | float | bool | None]] = []
        if state.service:
            params.append(("service", state.service))
        params.extend(("scope", s) for s in scopes)
        header: str | None
        user: str | None
        if c is not None and c.identity_token:
            # A token service without OAuth2 (404 on POST): registries that accept identity
            # tokens over GET take them as the password of the user "<token>" (ACR, Harbor).
            user = c.username or "<token>"
            header = self._basic_header(user, c.identity_token)
        else:
            user = c.username if c is not None else None
            header = self._basic_header()
        if user:
            params.append(("account", user))
        request = httpx.Request("GET", state.realm, params=params)
        if header:
            request.headers["Authorization"] = header
        return request

    def _where(self, state: HostAuthState) -> str:
        where = f"the token service {state.realm}"
        if state.service:
            where += f" (service {state.service!r})"
        return where

    def read_token(self, state: HostAuthState, scopes: tuple[str, ...], response: httpx.Response) -> str:
        """Check a token answer, cache the token and return it; errors name service and user."""
        where = self._where(state)
        status = response.status_code
        if status != 200:
            raise token_refused(where, status, scopes, self.credentials)
        try:
            body = json_object(read_capped(response, MAX_TOKEN_BYTES))
        except TooLarge:
            raise ProtocolError(
                f"{where} answered more than {MAX_TOKEN_BYTES} bytes; that is not a token, refusing it"
            ) from None
        except NotAnObject as e:
            raise ProtocolError(f"{where} answered 200 with {e.reason}") from None
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProtocolError(f"{where} answered 200 without a token (neither 'token' nor 'access_token')")
        self.tokens.put(self._key(state, scopes), token, body)
        return token

    def fetch_token(self, state: HostAuthState, scopes: tuple[str, ...]) -> str:
        """Ask the token service for a token (OAuth2 POST first for identity tokens)."""
        token = self._send_token_request(state, scopes, self.token_request(state, scopes))
        if token is None:
            # Token services without OAuth2 support answer the POST with 404: use the GET protocol.
            token = self._send_token_request(
                state, scopes, self.token_request(state, scopes, force_get=True), fallback=False
            )
            assert token is not None
        return token

    def _send_token_request(
        self, state: HostAuthState, scopes: tuple[str, ...], request: httpx.Request, fallback: bool = True
    ) -> str | None:
        self.token_requests += 1
        response = self.client.send(request, stream=True)
        try:
            if fallback and request.method == "POST" and response.status_code in (404, 405):
                return None
            return self.read_token(state, scopes, response)
        except RegistryError as e:
            if e.request is None:  # the message names the token service; say which request it was
                e.request = f"{request.method} {request.url.copy_with(query=None)}"
            raise
        finally:
            release(response)

    # -- the flow --------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scopes = tuple(sorted(set(request.extensions.get(SCOPES_EXTENSION, ()))))
        state = self.hosts.get(self.identity) or HostAuthState()
        fresh = False  # whether the token on the request was fetched during this flow
        if not self._apply(request, state, scopes) and state.scheme == "bearer" and state.realm:
            # Single flight: threads missing the same token wait for one fetch, then share it.
            with self.tokens.lock_for(self._key(state, scopes)):
                if self._apply(request, state, scopes):
                    fresh = False
                else:
                    request.headers["Authorization"] = f"Bearer {self.fetch_token(state, scopes)}"
                    fresh = True
        response = yield request
        for _attempt in range(2):
            if response.status_code != 401 or not _same_origin(response.request.url, request.url):
                # A 401 from a redirect target is that host's business: never send it our
                # credentials, never learn its realm as the feed's.
                return
            chosen = choose(challenges_of(response), f"{request.method} {request.url}")
            if chosen is not None and chosen.scheme == "bearer":
                bearer = chosen
                realm, service = bearer.params["realm"], bearer.params.get("service")
                wanted = tuple(sorted(set(scopes) | set(bearer.scopes)))
                same = (state.scheme, state.realm, state.service) == ("bearer", realm, service)
                sent_token = request.headers.get("Authorization", "").startswith("Bearer ")
                if same and wanted == scopes and sent_token and fresh:
                    return  # a token fetched just now for exactly these scopes was refused
                state = self.hosts.learn_auth(self.identity, "bearer", realm, service)
                key = self._key(state, wanted)
                sent = request.headers.get("Authorization", "")
                with self.tokens.lock_for(key):
                    cached = self.tokens.get(key)
                    if cached and f"Bearer {cached}" != sent:
                        # Another thread fetched a token for these scopes meanwhile: share it.
                        token, fresh = cached, False
                    else:
                        # The token we sent may be stale (revoked, rights changed): never reuse
                        # it. The one fetched now is used even if its issued_at makes the cache
                        # deem it old (a token service with a slow clock).
                        self.tokens.drop(key)
                        token, fresh = self.fetch_token(state, wanted), True
                scopes = wanted
                request.headers["Authorization"] = f"Bearer {token}"
            elif chosen is not None:
                self.hosts.learn_auth(self.identity, "basic")
                header = self._basic_header()
                if header is None or request.headers.get("Authorization") == header:
                    return
                request.headers["Authorization"] = header
            else:
                return
            response = yield request


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


__all__ = ["SCOPES_EXTENSION", "RegistryAuth"]
