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


class TokenCache:
    """Tokens by realm, service, scopes and identity, kept until `issued_at + max(expires_in, 60)`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, tuple[str, ...], str], _CachedToken] = {}
        self._refresh_tokens: dict[tuple[str, str, str], str] = {}

    def get(self, key: tuple[str, str, tuple[str, ...], str]) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
            if hit is None or hit.expires_at - EXPIRY_MARGIN <= time.time():
                return None
            return hit.token

    def put(self, key: tuple[str, str, tuple[str, ...], str], token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = _CachedToken(token, expires_at)

    def drop(self, key: tuple[str, str, tuple[str, ...], str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._refresh_tokens.clear()


TOKENS = TokenCache()


@dataclass
class HostAuthState:
    """What the ping taught us about one registry host: its scheme and Bearer parameters."""

    scheme: str = "anonymous"  # anonymous | basic | bearer
    realm: str | None = None
    service: str | None = None


class _HostStates:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, HostAuthState] = {}

    def get(self, base_url: str) -> HostAuthState | None:
        with self._lock:
            return self._states.get(base_url)

    def put(self, base_url: str, state: HostAuthState) -> None:
        with self._lock:
            self._states[base_url] = state

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


class RegistryAuth(httpx.Auth):
    """Negotiates Basic or Bearer auth for one feed and one identity.

    Requests name the scopes they need in `request.extensions["dockerfeed.scopes"]`; the
    challenge's own `scope` is merged in, and `insufficient_scope` leads to one re-challenge.
    """

    requires_response_body = True

    def __init__(self, base_url: str, credentials: Credentials | None, *, allow_http_realm: bool) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.allow_http_realm = allow_http_realm
        self.token_requests = 0

    # -- helpers ---------------------------------------------------------------------------

    def _identity(self) -> str:
        return self.credentials.fingerprint if self.credentials else "anonymous"

    def _basic_header(self) -> str | None:
        c = self.credentials
        if c is None or c.password is None or c.username is None:
            return None
        raw = f"{c.username}:{c.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _key(self, state: HostAuthState, scopes: tuple[str, ...]) -> tuple[str, str, tuple[str, ...], str]:
        return (state.realm or "", state.service or "", scopes, self._identity())

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

    def token_request(self, state: HostAuthState, scopes: tuple[str, ...]) -> httpx.Request:
        assert state.realm is not None
        realm = urlsplit(state.realm)
        if realm.scheme != "https" and not (realm.scheme == "http" and self.allow_http_realm):
            raise ProtocolError(
                f"the registry {self.base_url} sent its clients to the token service {state.realm}, "
                "which is not https; refusing to send credentials there in the clear"
            )
        c = self.credentials
        if c is not None and c.identity_token:
            # OAuth2 refresh-token grant; scopes are space-joined in a form POST.
            form = {
                "grant_type": "refresh_token",
                "refresh_token": c.identity_token,
                "service": state.service or "",
                "client_id": "pulumi-dockerfeed",
                "scope": " ".join(scopes),
            }
            return httpx.Request("POST", state.realm, data=form)
        params: list[tuple[str, str]] = []
        if state.service:
            params.append(("service", state.service))
        params.extend(("scope", s) for s in scopes)
        if c is not None and c.username:
            params.append(("account", c.username))
        request = httpx.Request("GET", state.realm, params=params)
        header = self._basic_header()
        if header:
            request.headers["Authorization"] = header
        return request

    def read_token(self, state: HostAuthState, scopes: tuple[str, ...], response: httpx.Response) -> str:
        where = f"the token service {state.realm}"
        if response.status_code in (401, 403):
            if self.credentials is None:
                raise CredentialsRequired(
                    f"{where} refused an anonymous token (HTTP {response.status_code}); "
                    "give username and password for this feed"
                )
            raise BadCredentials(
                f"{where} rejected {self._who()} (HTTP {response.status_code}) — check the password or token"
            )
        if response.status_code != 200:
            raise RegistryError(
                f"{where} answered HTTP {response.status_code} for scopes {' '.join(scopes) or '(none)'}"
            )
        try:
            body = json.loads(response.content)
        except ValueError:
            raise ProtocolError(f"{where} answered 200 with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise ProtocolError(f"{where} answered 200 with JSON that is not an object")
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProtocolError(f"{where} answered 200 without a token (neither 'token' nor 'access_token')")
        TOKENS.put(self._key(state, scopes), token, token_expiry(body, time.time()))
        return token

    # -- the flow --------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scopes = tuple(sorted(set(request.extensions.get(SCOPES_EXTENSION, ()))))
        state = HOSTS.get(self.base_url) or HostAuthState()
        if not self._apply(request, state, scopes) and state.scheme == "bearer" and state.realm:
            yield from self._fetch_token(state, scopes)
            self._apply(request, state, scopes)
        response = yield request
        for _attempt in range(2):
            if response.status_code != 401:
                return
            challenges = parse_challenges(response.headers.get_list("www-authenticate"))
            bearer = next((c for c in challenges if c.scheme == "bearer"), None)
            basic = next((c for c in challenges if c.scheme == "basic"), None)
            if bearer is not None and bearer.params.get("realm"):
                new_state = HostAuthState("bearer", bearer.params["realm"], bearer.params.get("service"))
                HOSTS.put(self.base_url, new_state)
                wanted = tuple(sorted(set(scopes) | set(bearer.scopes)))
                stale = state == new_state and wanted == scopes and "Authorization" in request.headers
                if stale and bearer.params.get("error") not in ("insufficient_scope", "invalid_token"):
                    return  # a fresh token for exactly these scopes was refused: nothing more to try
                TOKENS.drop(self._key(new_state, wanted))
                yield from self._fetch_token(new_state, wanted)
                state, scopes = new_state, wanted
                self._apply(request, state, scopes)
            elif basic is not None:
                HOSTS.put(self.base_url, HostAuthState("basic"))
                header = self._basic_header()
                if header is None or request.headers.get("Authorization") == header:
                    return
                request.headers["Authorization"] = header
            else:
                return
            response = yield request

    def _fetch_token(
        self, state: HostAuthState, scopes: tuple[str, ...]
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token_req = self.token_request(state, scopes)
        self.token_requests += 1
        token_resp = yield token_req
        if token_req.method == "POST" and token_resp.status_code in (404, 405):
            # Token services without OAuth2 support: fall back to the GET protocol.
            creds = self.credentials
            assert creds is not None
            self.credentials = Credentials(
                username=creds.username or "<token>", password=creds.identity_token
            )
            try:
                token_resp = yield self.token_request(state, scopes)
            finally:
                self.credentials = creds
        self.read_token(state, scopes, token_resp)


def raise_for_denied(response: httpx.Response, what: str, credentials: Credentials | None) -> None:
    """Turn a final 401/403 into an error that says who was refused what."""
    if response.status_code == 401:
        if credentials is None:
            raise CredentialsRequired(
                f"{what} answered 401: this registry needs credentials; give username and password "
                "(or useDockerConfig)"
            )
        raise BadCredentials(
            f"{what} answered 401 for {credentials.describe()} — check the password or token"
        )
    if response.status_code == 403:
        who = credentials.describe() if credentials else "anonymous access"
        raise AccessDenied(f"{what} answered 403: {who} is authenticated but not allowed to do this")
