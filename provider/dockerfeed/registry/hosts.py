"""What a process learns about a registry host: its API version and auth scheme (from a ping or
a challenge), and the page sizes its listings accept. Each fact is keyed by the whole
connection identity, not the host: a realm learned over an unverified connection (or another
requested API version) must not steer a verifying feed's credentials (docs/design.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dockerfeed.flight import KeyLocks
from dockerfeed.registry.identity import ConnectionIdentity

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


class HostStates:
    """Per-connection facts about hosts, each trusted for HOST_STATE_TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[ConnectionIdentity, tuple[float, HostAuthState]] = {}
        self._pinging = KeyLocks()

    def lock_for(self, identity: ConnectionIdentity) -> threading.Lock:
        """One lock per connection, so threads that find nothing known ping once (single flight)."""
        return self._pinging.for_key(identity)

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
        self._pinging.clear()


# A kind of listing on one connection: (identity, "tags" or "repositories").
ListingKind = tuple[ConnectionIdentity, str]


class PageSizes:
    """The `n` each connection accepted for each kind of listing (None: the server's default page)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[ListingKind, int | None] = {}

    def get(self, kind: ListingKind) -> tuple[int | None] | None:
        with self._lock:
            return (self._sizes[kind],) if kind in self._sizes else None

    def put(self, kind: ListingKind, size: int | None) -> None:
        with self._lock:
            self._sizes[kind] = size

    def clear(self) -> None:
        with self._lock:
            self._sizes.clear()


__all__ = ["HOST_STATE_TTL", "HostAuthState", "HostStates", "ListingKind", "PageSizes"]
