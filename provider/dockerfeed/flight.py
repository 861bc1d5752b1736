"""Single flight: one lock per key, so the threads that miss the same answer together compute it
once (the others wait, then find it). Used by every cache of the registry client and of the
credential sources; it imports nothing of ours."""

from __future__ import annotations

import threading
from collections.abc import Hashable


class KeyLocks:
    """A lock per key, created on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def for_key(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def busy(self, key: Hashable) -> bool:
        """Whether some thread holds `key`'s lock right now (its answer is being computed)."""
        with self._lock:
            lock = self._locks.get(key)
        return lock is not None and lock.locked()

    def clear(self) -> None:
        with self._lock:
            self._locks.clear()


__all__ = ["KeyLocks"]
