"""Resolution: list a repository's tags, select the winner by version rules, pin its digest.

This is the one core both the Pulumi resources and the `dockerfeed` CLI call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dockerfeed.registry import FeedSettings, Platform, Registry, RegistryError, normalize_image
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.versions import VersionRule, select_latest

# A Pulumi run resolves many ImageVersions in one provider process; one listing per repository
# per run is enough, and a run is short.
LISTING_TTL = 30.0

T = TypeVar("T")


class ResolveError(Exception):
    """Nothing can be pinned: no tags, or none matches the rules."""


@dataclass(frozen=True)
class Pin:
    tag: str
    version: str
    digest: str
    image_ref: str
    platform_digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "version": self.version,
            "digest": self.digest,
            "platformDigest": self.platform_digest,
            "imageRef": self.image_ref,
        }


# What a run cache entry is: ("tags", connection, repository) or ("digest", connection,
# repository, tag).
RunKey = tuple[str, ConnectionIdentity, str] | tuple[str, ConnectionIdentity, str, str]


class _RunCache:
    """Tag listings and manifest digests for the length of a run, single-flight per key.

    Keys hold the whole connection identity (registry/identity.py) and the repository (and the
    tag for digests): two feeds share an answer only when every setting that could change it
    (URL, TLS trust, proxies, API version, credentials) is the same.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[RunKey, tuple[float, Any]] = {}
        self._key_locks: dict[RunKey, threading.Lock] = {}

    def get(self, key: RunKey, compute: Callable[[], T]) -> T:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            hit = self._entries.get(key)
            if hit is not None and time.monotonic() - hit[0] < LISTING_TTL:
                value: T = hit[1]
                return value
            value = compute()
            self._entries[key] = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = _RunCache()
LISTINGS = CACHE  # the name the fault tests know


def resolve_image(
    settings: FeedSettings,
    image: str,
    rule: VersionRule,
    *,
    platform: str | None = None,
    current: str | None = None,
    cached: bool = False,
) -> Pin:
    """Pin the latest tag of `image` that `rule` accepts. Raises rather than pin on a bad listing."""
    registry = Registry(settings)
    repo = normalize_image(image, registry.address)
    wanted = Platform.parse(platform) if platform else None
    connection = registry.identity
    tags = (
        CACHE.get(("tags", connection, repo), lambda: registry.list_tags(repo))
        if cached
        else registry.list_tags(repo)
    )
    where = f"{repo} on {registry.address.base_url}"
    if not tags:
        raise ResolveError(f"{where} has no tags at all; nothing to pin")
    selection = select_latest(tags, rule, current=current)
    winner = selection.winner
    if winner is None:
        raise ResolveError(f"no tag of {where} matches the version rules: {selection.explain()}")
    # Many ImageVersions of one repository often pick the same tag: one HEAD serves them all.
    tag = winner.tag
    if cached:
        digest = CACHE.get(("digest", connection, repo, tag), lambda: registry.manifest_digest(repo, tag))
    else:
        digest = registry.manifest_digest(repo, tag)
    platform_digest = registry.platform_digest(repo, digest, wanted) if wanted else None
    return Pin(
        tag=winner.tag,
        version=winner.version,
        digest=digest,
        platform_digest=platform_digest,
        image_ref=f"{settings.pull_address}/{repo}:{winner.tag}@{digest}",
    )


__all__ = ["CACHE", "LISTINGS", "Pin", "RegistryError", "ResolveError", "resolve_image"]
