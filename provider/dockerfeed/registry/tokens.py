"""Bearer tokens kept for reuse: by connection, realm, service and scopes, until they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dockerfeed.flight import KeyLocks
from dockerfeed.registry.identity import ConnectionIdentity

MIN_TOKEN_LIFETIME = 60.0
# Renew a little before the server's expiry so a request never carries a token that dies in flight.
EXPIRY_MARGIN = 10.0

# A token is kept under the connection it was fetched over (its TLS trust and proxies, its
# credentials), the token service's realm and service, and the scopes it grants.
TokenKey = tuple[ConnectionIdentity, str, str, tuple[str, ...]]


@dataclass
class _CachedToken:
    token: str = field(repr=False)
    expires_at: float


class TokenCache:
    """Tokens by connection, realm, service and scopes, kept until `issued_at + max(expires_in, 60)`.

    `clock` is the wall clock tokens expire by (`issued_at` is a wall-clock time).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[TokenKey, _CachedToken] = {}
        self._fetching = KeyLocks()

    def lock_for(self, key: TokenKey) -> threading.Lock:
        """One lock per key, so concurrent misses fetch one token (single flight)."""
        return self._fetching.for_key(key)

    def get(self, key: TokenKey) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
            if hit is None or hit.expires_at - EXPIRY_MARGIN <= self.clock():
                return None
            return hit.token

    def put(self, key: TokenKey, token: str, answer: dict[str, Any]) -> None:
        """Keep `token` for as long as the token service's `answer` says it lives."""
        expires_at = token_expiry(answer, self.clock())
        with self._lock:
            self._tokens[key] = _CachedToken(token, expires_at)

    def share(self, key: TokenKey, others: list[TokenKey]) -> None:
        """Keep the token of `key` under `others` too, until it expires (a token for several
        scopes serves a request for any one of them)."""
        with self._lock:
            hit = self._tokens.get(key)
            if hit is not None:
                self._tokens.update(dict.fromkeys(others, hit))

    def drop(self, key: TokenKey) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
        self._fetching.clear()


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


__all__ = ["EXPIRY_MARGIN", "MIN_TOKEN_LIFETIME", "TokenCache", "TokenKey", "token_expiry"]
