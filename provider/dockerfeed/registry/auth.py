"""Registry authentication as an `httpx.Auth` flow: anonymous, Basic and Bearer tokens.

The flow pre-authorises requests when it already knows the registry's scheme (from the ping) and
holds a cached token for the request's scopes, so a warm run costs no extra round trips.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import (
    AccessDenied,
    BadCredentials,
    CredentialsRequired,
    ProtocolError,
    RegistryError,
)
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.transport import release

SCOPES_EXTENSION = "dockerfeed.scopes"
MIN_TOKEN_LIFETIME = 60.0
# Renew a little before the server's expiry so a request never carries a token that dies in flight.
EXPIRY_MARGIN = 10.0


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: a scheme and its parameters (names lowercased)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.params.get("scope", "").split(" ") if s)


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Parse every challenge from one or more `WWW-Authenticate` header values (RFC 7235).

    Quoted values may contain commas and escaped quotes; several challenges may share a header.
    """
    out: list[Challenge] = []
    for header in headers:
        out.extend(_parse_one_header(header))
    return out


def _parse_one_header(text: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    i, n = 0, len(text)
    current: Challenge | None = None
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        start = i
        while i < n and text[i] not in " =,\t":
            i += 1
        token = text[start:i]
        if not token:
            break
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == "=" and current is not None and not text[j:].startswith("=="):
            # auth-param: name=value or name="quoted, value"
            i = j + 1
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == '"':
                i += 1
                chars: list[str] = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                i += 1
                value = "".join(chars)
            else:
                vstart = i
                while i < n and text[i] not in ",":
                    i += 1
                value = text[vstart:i].strip()
            current.params[token.lower()] = value
        else:
            # A new challenge starts with its scheme (token68 credentials are not used by registries).
            current = Challenge(scheme=token.lower(), params={})
            challenges.append(current)
            i = j
    return challenges


@dataclass
class _CachedToken:
    token: str = field(repr=False)
    expires_at: float


# A token is kept under the connection it was fetched over (its TLS trust and proxies, its
# credentials), the token service's realm and service, and the scopes it grants.
TokenKey = tuple[ConnectionIdentity, str, str, tuple[str, ...]]


class TokenCache:
    """Tokens by connection, realm, service and scopes, kept until `issued_at + max(expires_in, 60)`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[TokenKey, _CachedToken] = {}
        self._fetching: dict[TokenKey, threading.Lock] = {}

    def lock_for(self, key: TokenKey) -> threading.Lock:
        """One lock per key, so concurrent misses fetch one token (single flight)."""
        with self._lock:
            return self._fetching.setdefault(key, threading.Lock())

    def get(self, key: TokenKey) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
            if hit is None or hit.expires_at - EXPIRY_MARGIN <= time.time():
                return None
            return hit.token

    def put(self, key: TokenKey, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = _CachedToken(token, expires_at)

    def drop(self, key: TokenKey) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._fetching.clear()


TOKENS = TokenCache()


# How long what a ping taught us about a host is trusted without asking again. Any 401 challenge
# refreshes it earlier, so a stale entry costs at most one extra round trip.
HOST_STATE_TTL = 600.0


@dataclass(frozen=True)
class HostAuthState:
    """What the ping taught us about one registry host: API version, auth scheme, Bearer params.

    `api_version` is None when the state was learned from a challenge rather than a ping.
    """

    scheme: str = "anonymous"  # anonymous | basic | bearer
    realm: str | None = None
    service: str | None = None
    api_version: str | None = None


class _HostStates:
    """Per-process facts about hosts, each trusted for HOST_STATE_TTL.

    Keyed by the whole connection identity, not the host: a realm learned over an unverified
    connection (or another requested API version) must not steer a verifying feed's credentials.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[ConnectionIdentity, tuple[float, HostAuthState]] = {}

    def get(self, identity: ConnectionIdentity) -> HostAuthState | None:
        with self._lock:
            hit = self._states.get(identity)
            if hit is None or time.monotonic() - hit[0] > HOST_STATE_TTL:
                return None
            return hit[1]

    def put(self, identity: ConnectionIdentity, state: HostAuthState) -> None:
        with self._lock:
            self._states[identity] = (time.monotonic(), state)

    def learn_auth(
        self, identity: ConnectionIdentity, scheme: str, realm: str | None = None, service: str | None = None
    ) -> HostAuthState:
        """Record a scheme learned from a challenge, keeping the API version a ping found."""
        with self._lock:
            hit = self._states.get(identity)
            api = hit[1].api_version if hit is not None else None
            state = HostAuthState(scheme, realm, service, api)
            self._states[identity] = (time.monotonic(), state)
            return state

    def forget(self, identity: ConnectionIdentity) -> None:
        with self._lock:
            self._states.pop(identity, None)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


HOSTS = _HostStates()


def token_expiry(body: dict[str, Any], now: float) -> float:
    """`issued_at + max(expires_in, 60)`; a missing or unparsable `issued_at` means now."""
    try:
        expires_in = float(body.get("expires_in") or MIN_TOKEN_LIFETIME)
    except (TypeError, ValueError):
        expires_in = MIN_TOKEN_LIFETIME
    issued = now
    issued_at = body.get("issued_at")
    if isinstance(issued_at, str) and issued_at:
        try:
            issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            issued = now
        # A skewed server clock must not make a fresh token look expired (or immortal).
        if abs(issued - now) > 300:
            issued = now
    return issued + max(expires_in, MIN_TOKEN_LIFETIME)


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
        allow_http_realm: bool,
        client: httpx.Client | None = None,
    ) -> None:
        self.identity = identity
        self.base_url = identity.base_url
        self.credentials = credentials
        self.allow_http_realm = allow_http_realm
        self.client = client
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"RegistryAuth({self.base_url!r}, {self._who()})"

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

    def _who(self) -> str:
        return self.credentials.describe() if self.credentials else "anonymous access"

    def _apply(self, request: httpx.Request, state: HostAuthState, scopes: tuple[str, ...]) -> bool:
        """Set Authorization from what we know without a round trip; False if we cannot."""
        if state.scheme == "basic":
            header = self._basic_header()
            if header:
                request.headers["Authorization"] = header
                return True
            return False
        if state.scheme == "bearer":
            token = TOKENS.get(self._key(state, scopes))
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
        if status == 403 and scopes:
            # The identity is fine (or anonymous is allowed) but these scopes are not granted:
            # GHCR answers so for `registry:catalog:*`. Not a credentials problem.
            hint = "" if self.credentials else "; give credentials that have this permission"
            raise AccessDenied(f"{where} refused {self._who()} the scope {' '.join(scopes)} (HTTP 403){hint}")
        if status in (401, 403):
            if self.credentials is None:
                raise CredentialsRequired(
                    f"{where} refused an anonymous token (HTTP {status}) for "
                    f"{' '.join(scopes) or 'login'}; give username and password for this feed"
                )
            raise BadCredentials(
                f"{where} rejected {self._who()} (HTTP {status}) — check the password or token"
            )
        if status != 200:
            raise RegistryError(
                f"{where} answered HTTP {status} for {self._who()} and scopes "
                f"{' '.join(scopes) or '(none)'}; check feedUri and that the token service is healthy"
            )
        body_bytes = _read_capped(response, MAX_TOKEN_BYTES)
        if body_bytes is None:
            raise ProtocolError(
                f"{where} answered more than {MAX_TOKEN_BYTES} bytes; that is not a token, refusing it"
            )
        try:
            body = json.loads(body_bytes)
        except (ValueError, RecursionError):
            raise ProtocolError(f"{where} answered 200 with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise ProtocolError(f"{where} answered 200 with JSON that is not an object")
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProtocolError(f"{where} answered 200 without a token (neither 'token' nor 'access_token')")
        TOKENS.put(self._key(state, scopes), token, token_expiry(body, time.time()))
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
        if self.client is None:
            raise RuntimeError("RegistryAuth needs a client to fetch tokens")
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
        state = HOSTS.get(self.identity) or HostAuthState()
        fresh = False  # whether the token on the request was fetched during this flow
        if not self._apply(request, state, scopes) and state.scheme == "bearer" and state.realm:
            # Single flight: threads missing the same token wait for one fetch, then share it.
            with TOKENS.lock_for(self._key(state, scopes)):
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
            challenges = parse_challenges(response.headers.get_list("www-authenticate"))
            basic = next((c for c in challenges if c.scheme == "basic"), None)
            bearer = bearer_challenge(
                challenges, f"{request.method} {request.url}", fallback=basic is not None
            )
            if bearer is not None:
                realm, service = bearer.params["realm"], bearer.params.get("service")
                wanted = tuple(sorted(set(scopes) | set(bearer.scopes)))
                same = (state.scheme, state.realm, state.service) == ("bearer", realm, service)
                sent_token = request.headers.get("Authorization", "").startswith("Bearer ")
                if same and wanted == scopes and sent_token and fresh:
                    return  # a token fetched just now for exactly these scopes was refused
                state = HOSTS.learn_auth(self.identity, "bearer", realm, service)
                key = self._key(state, wanted)
                sent = request.headers.get("Authorization", "")
                with TOKENS.lock_for(key):
                    cached = TOKENS.get(key)
                    if cached and f"Bearer {cached}" != sent:
                        # Another thread fetched a token for these scopes meanwhile: share it.
                        token, fresh = cached, False
                    else:
                        # The token we sent may be stale (revoked, rights changed): never reuse
                        # it. The one fetched now is used even if its issued_at makes the cache
                        # deem it old (a token service with a slow clock).
                        TOKENS.drop(key)
                        token, fresh = self.fetch_token(state, wanted), True
                scopes = wanted
                request.headers["Authorization"] = f"Bearer {token}"
            elif basic is not None:
                HOSTS.learn_auth(self.identity, "basic")
                header = self._basic_header()
                if header is None or request.headers.get("Authorization") == header:
                    return
                request.headers["Authorization"] = header
            else:
                return
            response = yield request


def bearer_challenge(challenges: list[Challenge], what: str, *, fallback: bool) -> Challenge | None:
    """The Bearer challenge to follow. One without a realm names no token service to ask: an
    error, unless another scheme (`fallback`) was offered too."""
    usable = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
    if usable is None and not fallback and any(c.scheme == "bearer" for c in challenges):
        raise ProtocolError(
            f"{what} answered 401 with a Bearer challenge that has no realm, so there is no token "
            "service to ask; the registry's token auth is misconfigured (auth.token.realm in "
            "distribution)"
        )
    return usable


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it announces or streams more than `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def raise_for_denied(response: httpx.Response, what: str, credentials: Credentials | None) -> None:
    """Turn a final 401/403 into an error that says who was refused what."""
    if response.status_code == 401:
        if credentials is None:
            raise CredentialsRequired(
                f"{what} answered 401: this registry needs credentials; give username and password "
                "(or useDockerConfig; --docker-config on the command line)"
            )
        raise BadCredentials(
            f"{what} answered 401 for {credentials.describe()} — check the password or token"
        )
    if response.status_code == 403:
        who = credentials.describe() if credentials else "anonymous access"
        raise AccessDenied(f"{what} answered 403: {who} is authenticated but not allowed to do this")
