"""Bearer tokens as an `httpx.Auth`: a token for the request's scopes from the session's token
cache, else fetched from the token service the registry named in its challenge.

Two ways to get one (docs/design.md, "Registry quirks"): the Docker token GET
(`realm?service=S&scope=A&scope=B`, Basic credentials, anonymous without), and for an identity
token the OAuth2 refresh-token POST, with the GET as fallback when the service answers 404/405.
Token requests are sent on the feed's pooled client, streamed and capped, so a hostile token
service cannot make us buffer an endless answer.
"""

from __future__ import annotations

from collections.abc import Generator
from urllib.parse import urlsplit

import httpx

from dockerfeed.registry._http import NotAnObject, TooLarge, json_object, read_capped, release
from dockerfeed.registry.basic import BasicAuth
from dockerfeed.registry.credentials import IDENTITY_TOKEN_USER, Credentials
from dockerfeed.registry.errors import ProtocolError, RegistryError
from dockerfeed.registry.failures import token_refused
from dockerfeed.registry.hosts import HostAuthState
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.tokens import TokenCache, TokenKey

SCOPES_EXTENSION = "dockerfeed.scopes"
# Token answers are a few KiB; anything far bigger is not a token service talking.
MAX_TOKEN_BYTES = 1024 * 1024
OAUTH_CLIENT_ID = "pulumi-dockerfeed"


def scopes_of(request: httpx.Request) -> tuple[str, ...]:
    """The scopes a request names in its `dockerfeed.scopes` extension, sorted, once each."""
    return tuple(sorted(set(request.extensions.get(SCOPES_EXTENSION, ()))))


class BearerAuth(httpx.Auth):
    """Tokens of one connection identity from one token service (`state`'s realm and service).

    Holds what fetching needs (credentials, the session's token cache, the pooled client) and
    counts the token requests it sent.
    """

    requires_response_body = False

    def __init__(
        self,
        identity: ConnectionIdentity,
        credentials: Credentials | None,
        state: HostAuthState,
        *,
        tokens: TokenCache,
        client: httpx.Client,
        allow_http_realm: bool,
    ) -> None:
        assert state.scheme == "bearer" and state.realm
        self.identity = identity
        self.credentials = credentials
        self.state = state
        self.tokens = tokens
        self.client = client
        self.allow_http_realm = allow_http_realm
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"BearerAuth({self.state.realm!r}, {self.state.service!r})"

    def key(self, scopes: tuple[str, ...]) -> TokenKey:
        return (self.identity, self.state.realm or "", self.state.service or "", scopes)

    def apply_cached(self, request: httpx.Request, scopes: tuple[str, ...]) -> bool:
        """Put a cached token for `scopes` on the request; False when there is none."""
        token = self.tokens.get(self.key(scopes))
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        return bool(token)

    def authorize(self, request: httpx.Request, scopes: tuple[str, ...]) -> bool:
        """Put a token on the request, fetching one when none is cached; True when fetched now.

        Single flight: threads missing the same token wait for one fetch, then share it.
        """
        if self.apply_cached(request, scopes):
            return False
        with self.tokens.lock_for(self.key(scopes)):
            if self.apply_cached(request, scopes):
                return False
            request.headers["Authorization"] = f"Bearer {self.fetch(scopes)}"
            return True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.authorize(request, scopes_of(request))
        yield request

    # -- asking the token service ----------------------------------------------------------------

    def fetch(self, scopes: tuple[str, ...]) -> str:
        """A new token for `scopes`, cached (OAuth2 POST first for identity tokens)."""
        token = self._send(scopes, self.token_request(scopes))
        if token is None:
            # Token services without OAuth2 support answer the POST with 404: use the GET protocol.
            token = self._send(scopes, self.token_request(scopes, force_get=True), fallback=False)
            assert token is not None
        return token

    def fetch_shared(self, scopes: tuple[str, ...]) -> None:
        """One token request for all of `scopes`, its token kept under each of them alone too.

        Whatever the service did not grant, the registry refuses with a 401, and the request's
        own flow then fetches a token for its scopes alone (RegistryAuth._renew).
        """
        whole = tuple(sorted(set(scopes)))
        self.fetch(whole)
        self.tokens.share(self.key(whole), [self.key((s,)) for s in whole])

    def token_request(self, scopes: tuple[str, ...], *, force_get: bool = False) -> httpx.Request:
        """The request for a token: OAuth2 POST for an identity token, else the Docker GET."""
        realm = self.state.realm or ""
        self._check_realm(realm)
        c = self.credentials
        if c is not None and c.identity_token and not force_get:
            # OAuth2 refresh-token grant; scopes are space-joined in a form POST.
            form = {
                "grant_type": "refresh_token",
                "refresh_token": c.identity_token,
                "service": self.state.service or "",
                "client_id": OAUTH_CLIENT_ID,
                "scope": " ".join(scopes),
            }
            return httpx.Request("POST", realm, data=form)
        params: list[tuple[str, str | int | float | bool | None]] = []
        if self.state.service:
            params.append(("service", self.state.service))
        params.extend(("scope", s) for s in scopes)
        basic: BasicAuth | None
        if c is not None and c.identity_token:
            # A token service without OAuth2 (404 on POST): registries that accept identity
            # tokens over GET take them as the password of the user "<token>" (ACR, Harbor).
            basic = BasicAuth(c.username or IDENTITY_TOKEN_USER, c.identity_token)
        else:
            basic = BasicAuth.of(c)
        if basic is not None:
            params.append(("account", basic.username))
        request = httpx.Request("GET", realm, params=params)
        if basic is not None:
            basic.apply(request)
        return request

    def _check_realm(self, realm: str) -> None:
        what = f"the registry {self.identity.base_url} sent its clients to the token service {realm!r}"
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

    def where(self) -> str:
        where = f"the token service {self.state.realm}"
        if self.state.service:
            where += f" (service {self.state.service!r})"
        return where

    def read_token(self, scopes: tuple[str, ...], response: httpx.Response) -> str:
        """Check a token answer, cache the token and return it; errors name service and user."""
        where = self.where()
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
        self.tokens.put(self.key(scopes), token, body)
        return token

    def _send(self, scopes: tuple[str, ...], request: httpx.Request, fallback: bool = True) -> str | None:
        self.token_requests += 1
        response = self.client.send(request, stream=True)
        try:
            if fallback and request.method == "POST" and response.status_code in (404, 405):
                return None
            return self.read_token(scopes, response)
        except RegistryError as e:
            if e.request is None:  # the message names the token service; say which request it was
                e.request = f"{request.method} {request.url.copy_with(query=None)}"
            raise
        finally:
            release(response)


__all__ = ["MAX_TOKEN_BYTES", "SCOPES_EXTENSION", "BearerAuth", "scopes_of"]
