"""Answers kept for the length of a run: tag listings and manifest digests, single flight per key.

A Pulumi run resolves many ImageVersions in one provider process; one listing per repository per
run is enough, and a run is short. Keys hold the whole connection identity (identity.py): two
feeds share an answer only when every setting that could change it is the same.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from dockerfeed.flight import KeyLocks
from dockerfeed.registry.identity import ConnectionIdentity

LISTING_TTL = 30.0

T = TypeVar("T")

# ("tags", connection, repository) or ("digest", connection, repository, tag).
RunKey = tuple[str, ConnectionIdentity, str] | tuple[str, ConnectionIdentity, str, str]


class Memo:
    """Values computed once per key (concurrent callers wait for the one computation), each kept
    for `ttl` seconds (None: for the life of the memo)."""

    def __init__(self, ttl: float | None) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._flights = KeyLocks()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._flights.for_key(key):
            hit = self._entries.get(key)
            if hit is not None and (self.ttl is None or time.monotonic() - hit[0] < self.ttl):
                value: T = hit[1]  # type: ignore[assignment]  # stored by this key's compute
                return value
            value = compute()
            self._entries[key] = (time.monotonic(), value)
            return value

    def has(self, key: Hashable) -> bool:
        """Whether `key` has a fresh value."""
        with self._lock:
            hit = self._entries.get(key)
            return hit is not None and (self.ttl is None or time.monotonic() - hit[0] < self.ttl)

    def known(self, key: Hashable) -> bool:
        """Whether `key` has a fresh value or is being computed right now."""
        return self.has(key) or self._flights.busy(key)

    def prefetch(self, key: Hashable, compute: Callable[[], object]) -> None:
        """Start computing `key` on a thread of its own, unless it is known. A failure is left
        to the caller who needs the value: it computes again and sees the error itself."""
        if self.known(key):
            return

        def quietly() -> None:
            with contextlib.suppress(Exception):  # the caller that needs the value will see it
                self.get(key, compute)

        threading.Thread(target=quietly, name="dockerfeed-prefetch", daemon=True).start()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        self._flights.clear()


class RunCache(Memo):
    """Tag listings and manifest digests of a run (LISTING_TTL each)."""

    def __init__(self, ttl: float = LISTING_TTL) -> None:
        super().__init__(ttl)

    def tags(self, connection: ConnectionIdentity, repo: str, compute: Callable[[], T]) -> T:
        """The listing of `repo`, as `compute` gives it (resolve.py keeps a TagList: every rule
        of the run that selects from it shares what selection derives from the tags)."""
        return self.get(("tags", connection, repo), compute)

    def digest(self, connection: ConnectionIdentity, repo: str, tag: str, compute: Callable[[], str]) -> str:
        return self.get(("digest", connection, repo, tag), compute)

    def has_tags(self, connection: ConnectionIdentity, repo: str) -> bool:
        return self.has(("tags", connection, repo))

    def prefetch_digest(
        self, connection: ConnectionIdentity, repo: str, tag: str, compute: Callable[[], str]
    ) -> None:
        """Ask for a digest a resolve will likely want (the pinned tag, on a refresh) while its
        listing is still on the way: the HEAD is off the listing's critical path."""
        self.prefetch(("digest", connection, repo, tag), compute)


__all__ = ["LISTING_TTL", "Memo", "RunCache", "RunKey"]
