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
from dockerfeed.registry.reference import TAG_PATTERN, is_tag, split_tags
from dockerfeed.versions import Selection, VersionRule, select_latest

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


def _select(tags: list[str], rule: VersionRule, current: str | None) -> tuple[Selection, list[str]]:
    """The selection over the listing's tags, and the listed entries that are not tags.

    A registry may list anything. An entry that is not a tag by the distribution grammar
    (`zz/../../other/manifests/1.0?x=1`) is never chosen: it would become part of a URL path and
    of imageRef. Checking every entry costs more than the selection itself on a long listing, so
    the listing is split only when the selection has no winner or chose such an entry.
    """
    selection = select_latest(tags, rule, current=current)
    if selection.winner is not None and is_tag(selection.winner.tag):
        return selection, []
    valid, invalid = split_tags(tags)
    if not invalid:
        return selection, []
    return select_latest(valid, rule, current=current), invalid


def _skipped(invalid: list[str]) -> str:
    """What was skipped, shown escaped (a listed entry may hold terminal escapes)."""
    shown = ", ".join(repr(entry[:80]) for entry in invalid[:3]) + (", ..." if len(invalid) > 3 else "")
    one = len(invalid) == 1
    return (
        f"{len(invalid)} listed {'entry is' if one else 'entries are'} not a valid tag name and "
        f"{'was' if one else 'were'} skipped (a tag matches {TAG_PATTERN}): {shown}"
    )


def _explain(selection: Selection, invalid: list[str]) -> str:
    """The selection's explanation, with the skipped entries counted beside the other counts."""
    lines = selection.explain().split("\n")
    if invalid:
        at = next((i for i, line in enumerate(lines) if line.startswith("hint:")), len(lines))
        lines.insert(at, f"  {_skipped(invalid)}")
    return "\n".join(lines)


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
    selection, invalid = _select(tags, rule, current)
    winner = selection.winner
    if not selection.considered:
        raise ResolveError(f"{where} has no tags, nothing to pin: {_skipped(invalid)}")
    if winner is None:
        raise ResolveError(f"no tag of {where} matches the version rules: {_explain(selection, invalid)}")
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
