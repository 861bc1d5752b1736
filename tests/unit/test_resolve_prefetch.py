"""A refresh asks for the pinned tag's digest beside the listing, not after it (issue 11, point
13: the first listing of a repository no longer holds every worker's HEAD back). Replayed
through httpx.MockTransport: the listing is answered only once the HEAD has arrived, or after
a few seconds without it."""

from __future__ import annotations

import threading
from unittest.mock import patch

import httpx
import pytest

from dockerfeed.registry import ConnectionSettings, NotFound, Session
from dockerfeed.registry.retry import RetryPolicy
from dockerfeed.resolve import Pin, resolve_image
from dockerfeed.versions import TagList, VersionRule, select_latest
from tests.support.recorded import V2

FEED = "https://r.example.com"
TAGS = ["1.0.0", "1.1.0"]


def digest_of(tag: str) -> str:
    return "sha256:" + (tag.replace(".", "") * 64)[:64]


class Registry:
    """A registry whose listing waits (at most `patience` seconds) for a HEAD to arrive first."""

    def __init__(self, missing: frozenset[str] = frozenset(), patience: float = 5.0) -> None:
        self.missing = missing
        self.patience = patience
        self.head_arrived = threading.Event()
        self.head_came_first: bool | None = None
        self.heads: list[str] = []
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/tags/list"):
            self.head_came_first = self.head_arrived.wait(self.patience)
            return httpx.Response(200, headers=V2, json={"tags": TAGS})
        if "/manifests/" in path:
            tag = path.rsplit("/", 1)[1]
            with self.lock:
                self.heads.append(tag)
            self.head_arrived.set()
            if tag in self.missing:
                return httpx.Response(404, headers=V2, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
            return httpx.Response(200, headers={**V2, "Docker-Content-Digest": digest_of(tag)})
        return httpx.Response(200, headers=V2)  # the ping: anonymous access

    def session(self) -> Session:
        return Session(transport=httpx.MockTransport(self.handler), retry=RetryPolicy(sleep=lambda _s: None))


def resolve(registry: Registry, current: str, *, cached: bool = True, session: Session | None = None) -> Pin:
    return resolve_image(
        ConnectionSettings(FEED),
        "app",
        VersionRule.build(),
        current=current,
        cached=cached,
        session=session or registry.session(),
    )


def test_a_refresh_asks_for_the_pinned_digest_while_the_listing_is_on_the_way() -> None:
    registry = Registry()
    pin = resolve(registry, "1.1.0")
    assert registry.head_came_first is True, "the HEAD waited for the listing"
    assert (pin.tag, pin.digest) == ("1.1.0", digest_of("1.1.0"))
    assert registry.heads == ["1.1.0"], "the prefetched digest serves the resolve: one HEAD"


def test_a_pin_that_moved_resolves_the_new_winner_with_its_own_digest() -> None:
    registry = Registry()
    pin = resolve(registry, "1.0.0")
    assert (pin.tag, pin.digest) == ("1.1.0", digest_of("1.1.0"))
    assert sorted(registry.heads) == ["1.0.0", "1.1.0"]


def test_a_prefetch_that_fails_troubles_no_one_who_does_not_need_it() -> None:
    # The pinned tag is gone; the rules pick another, which resolves as usual.
    registry = Registry(missing=frozenset({"1.0.0"}))
    pin = resolve(registry, "1.0.0")
    assert pin.tag == "1.1.0"


def test_a_prefetch_that_fails_is_seen_by_the_resolve_that_needs_it() -> None:
    # The winner's digest cannot be had: the resolve asks again itself and reports the failure.
    registry = Registry(missing=frozenset({"1.1.0"}))
    with pytest.raises(NotFound):
        resolve(registry, "1.1.0")
    assert registry.heads == ["1.1.0", "1.1.0"]


def test_outside_a_pulumi_run_nothing_is_asked_ahead() -> None:
    # The CLI resolves once, without the run cache: the HEAD follows the listing.
    registry = Registry(patience=0.0)
    resolve(registry, "1.1.0", cached=False)
    assert registry.head_came_first is False
    assert registry.heads == ["1.1.0"]


def test_a_read_that_finds_the_listing_cached_asks_for_nothing_ahead() -> None:
    # Nothing to wait for, so nothing to overlap: only the winner's digest is asked (once).
    registry = Registry()
    session = registry.session()
    resolve(registry, "1.1.0", session=session)
    pin = resolve(registry, "1.0.0", session=session)
    assert pin.tag == "1.1.0"
    assert registry.heads == ["1.1.0"]


def test_the_resolves_of_one_repository_select_from_one_tag_list() -> None:
    # Ten ImageVersions of one repository in a run: one listing, read by every rule as the same
    # TagList, so what selection derives from the tags alone is derived once (versions/taglist.py).
    registry = Registry()
    session = registry.session()
    with patch("dockerfeed.resolve.select_latest", wraps=select_latest) as select:
        resolve(registry, "1.1.0", session=session)
        resolve(registry, "1.0.0", session=session)
    first, second = (call.args[0] for call in select.call_args_list)
    assert isinstance(first, TagList) and first is second
    assert list(first) == TAGS
