"""listing.Pagination on its own: the listing's state machine, fed answers, no I/O."""

from __future__ import annotations

import pytest

from dockerfeed.registry import ListingIncomplete
from dockerfeed.registry.listing import PAGE_SIZES, Pagination

BASE = "https://r.example.com/v2/app/tags/list"
CATALOG = "https://r.example.com/v2/_catalog"


def tags(learned: tuple[int | None] | None = None) -> Pagination:
    return Pagination(BASE, "tags", "tags of app", learned)


def test_tags_start_without_n_and_catalogs_with_the_biggest_page() -> None:
    assert tags().url == BASE and tags().size is None
    catalog = Pagination(CATALOG, "repositories", "the catalog", None)
    assert catalog.url == f"{CATALOG}?n={PAGE_SIZES[0]}"
    # A size learned on this connection is used from the start, and not grown.
    known = tags((1000,))
    assert known.url == f"{BASE}?n=1000" and not known.may_grow


def test_a_refused_n_steps_down_the_ladder_then_lets_the_server_choose() -> None:
    pages = Pagination(CATALOG, "repositories", "the catalog", None)
    sizes = []
    while pages.refused():
        sizes.append(pages.size)
    assert sizes == [1000, 100, None] and pages.url == CATALOG and not pages.may_grow
    assert not tags().refused(), "without n there is nothing to step down"


def test_a_page_without_link_ends_the_listing_unless_it_looks_cut() -> None:
    pages = tags()
    pages.answered(["1.0", "1.1", "2.0"], None)
    assert pages.url is None and list(pages.items) == ["1.0", "1.1", "2.0"]
    # 50 entries without n: a round count (Nexus pages by 50 without Link): probe with last.
    pages = tags()
    pages.answered([f"1.{i}" for i in range(50)], None)
    assert pages.probing and pages.url == f"{BASE}?last=1.49&n={PAGE_SIZES[0]}"
    assert pages.size_to_learn() is None, "a probe teaches no page size"
    pages.answered(["2.0"], None)
    assert pages.url is None and len(pages.items) == 51


def test_a_link_is_followed_on_the_same_origin_and_grows_a_last_cursor() -> None:
    pages = tags()
    pages.answered(["1.0"], '</v2/app/tags/list?last=1.0>; rel="next"')
    assert pages.url == f"{BASE}?last=1.0&n={PAGE_SIZES[0]}"
    # An opaque cursor (Quay) is followed as it is.
    pages = tags((None,))
    pages.answered(["1.0"], '</v2/app/tags/list?next_page=gAAAA>; rel="next"')
    assert pages.url == f"{BASE}?next_page=gAAAA"


def test_a_broken_link_path_keeps_its_cursor_on_the_listings_own_path() -> None:
    pages = tags((None,))
    pages.answered(["1.0"], '</artifactory/api/docker/v2/app/tags/list?last=1.0>; rel="next"')
    assert pages.url == f"{BASE}?last=1.0"
    with pytest.raises(ListingIncomplete, match="without a cursor"):
        tags().answered(["1.0"], '</elsewhere>; rel="next"')


def test_links_to_another_origin_or_in_a_loop_are_refused() -> None:
    with pytest.raises(ListingIncomplete, match="another origin"):
        tags().answered(["1.0"], '<https://evil.example.com/v2/app/tags/list?last=1.0>; rel="next"')
    pages = tags((None,))
    pages.answered(["1.0"], '</v2/app/tags/list?page=2>; rel="next"')
    with pytest.raises(ListingIncomplete, match="loops"):
        pages.answered(["1.0"], '</v2/app/tags/list?page=3>; rel="next"')  # nothing new
