"""Registry authentication as one `httpx.Auth` flow that negotiates between anonymous access,
Basic (basic.py) and Bearer tokens (bearer.py), as the registry's challenges ask.

The flow pre-authorises requests when it already knows the registry's scheme (from the ping) and
holds a cached token for the request's scopes, so a warm run costs no extra round trips. What it
learns and fetches is kept in the session's HostStates and TokenCache, not here.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import httpx

from dockerfeed.registry.basic import BasicAuth
from dockerfeed.registry.bearer import SCOPES_EXTENSION, BearerAuth, scopes_of
from dockerfeed.registry.challenge import challenges_of, choose
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.failures import who
from dockerfeed.registry.hosts import HostAuthState, HostStates
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.tokens import TokenCache

# Scopes asked for in one token request at most: 16 repositories keep its URL well under the
# 8 KiB that servers and proxies commonly accept.
SHARED_SCOPES = 16


class RegistryAuth(httpx.Auth):
    """Negotiates Basic or Bearer auth for one feed and one identity.

    Requests name the scopes they need in `request.extensions["dockerfeed.scopes"]`; the
    challenge's own `scope` is merged in. A 401 leads to at most two more attempts, and only
    when something changed: new scopes, a new realm, or a cached token that may be stale. A
    token fetched a moment ago for exactly these scopes that is refused again means "no
    permission" (`insufficient_scope`), not "try harder".

    The registry's own responses are never read here (`requires_response_body` is False), so
    the caller can stream and cap them. Challenges are only obeyed when they come from the
    feed's own origin (not from a redirect target).
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
        self.credentials = credentials
        self.basic = BasicAuth.of(credentials)
        self.tokens = tokens
        self.hosts = hosts
        self.allow_http_realm = allow_http_realm
        self.client = client
        self._bearers: dict[tuple[str | None, str | None], BearerAuth] = {}

    def __repr__(self) -> str:
        return f"RegistryAuth({self.identity.base_url!r}, {who(self.credentials)})"

    @property
    def token_requests(self) -> int:
        """Requests sent to token services by this flow."""
        return sum(b.token_requests for b in self._bearers.values())

    def bearer(self, state: HostAuthState) -> BearerAuth:
        """The Bearer auth for the token service `state` names (one per realm and service)."""
        key = (state.realm, state.service)
        found = self._bearers.get(key)
        if found is None:
            found = BearerAuth(
                self.identity,
                self.credentials,
                state,
                tokens=self.tokens,
                client=self.client,
                allow_http_realm=self.allow_http_realm,
            )
            self._bearers[key] = found
        return found

    def fetch_token(self, state: HostAuthState, scopes: tuple[str, ...]) -> str:
        """Ask the token service of `state` for a token for `scopes` (validation does)."""
        return self.bearer(state).fetch(scopes)

    def share_tokens(self, scopes: Sequence[str]) -> None:
        """Fetch the tokens of `scopes` that are not cached, one token request for up to
        SHARED_SCOPES of them (a read-ahead's repositories). Nothing unless the registry is known
        to use Bearer tokens."""
        state = self.hosts.get(self.identity)
        if state is None or state.scheme != "bearer" or not state.realm:
            return
        bearer = self.bearer(state)
        missing = [s for s in dict.fromkeys(scopes) if self.tokens.get(bearer.key((s,))) is None]
        for at in range(0, len(missing), SHARED_SCOPES):
            bearer.fetch_shared(tuple(missing[at : at + SHARED_SCOPES]))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scopes = scopes_of(request)
        state = self.hosts.get(self.identity) or HostAuthState()
        fresh = False  # whether the token on the request was fetched during this flow
        if state.scheme == "basic" and self.basic is not None:
            self.basic.apply(request)
        elif state.scheme == "bearer" and state.realm:
            fresh = self.bearer(state).authorize(request, scopes)
        response = yield request
        for _attempt in range(2):
            if response.status_code != 401 or not _same_origin(response.request.url, request.url):
                # A 401 from a redirect target is that host's business: never send it our
                # credentials, never learn its realm as the feed's.
                return
            chosen = choose(challenges_of(response), f"{request.method} {request.url}")
            if chosen is not None and chosen.scheme == "bearer":
                realm, service = chosen.params["realm"], chosen.params.get("service")
                wanted = tuple(sorted(set(scopes) | set(chosen.scopes)))
                same = (state.scheme, state.realm, state.service) == ("bearer", realm, service)
                sent = request.headers.get("Authorization", "")
                if same and wanted == scopes and sent.startswith("Bearer ") and fresh:
                    return  # a token fetched just now for exactly these scopes was refused
                state = self.hosts.learn_auth(self.identity, "bearer", realm, service)
                token, fresh = self._renew(self.bearer(state), wanted, sent)
                scopes = wanted
                request.headers["Authorization"] = f"Bearer {token}"
            elif chosen is not None:
                self.hosts.learn_auth(self.identity, "basic")
                if self.basic is None or request.headers.get("Authorization") == self.basic.header:
                    return
                self.basic.apply(request)
            else:
                return
            response = yield request

    def _renew(self, bearer: BearerAuth, scopes: tuple[str, ...], sent: str) -> tuple[str, bool]:
        """A token for `scopes` other than the refused one `sent`, and whether it was fetched now."""
        key = bearer.key(scopes)
        with self.tokens.lock_for(key):
            cached = self.tokens.get(key)
            if cached and f"Bearer {cached}" != sent:
                # Another thread fetched a token for these scopes meanwhile: share it.
                return cached, False
            # The token we sent may be stale (revoked, rights changed): never reuse it. The one
            # fetched now is used even if its issued_at makes the cache deem it old (a token
            # service with a slow clock).
            self.tokens.drop(key)
            return bearer.fetch(scopes), True


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


__all__ = ["SCOPES_EXTENSION", "RegistryAuth"]
