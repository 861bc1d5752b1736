"""Listings: every tag of a repository (v2 and v1) and every entry of a catalog, complete or an
error, never a silent prefix. How pages are asked for and followed is `Pagination`, a small
state machine that does no I/O; `paged` sends what it asks for.

Registry quirks met here (docs/design.md, "Registry quirks"): distribution 2.8 ignores `n` and
`last` on tags and answers them unsorted; 3.x pages at tags.maxtags and catalog.maxentries
(1000) and answers 400 above them, as does ECR above 1000; Docker Hub, ECR and ACR page by 100
and send `Link`; Quay's `Link` cursors are opaque; Artifactory sends `Link`s with a broken path;
zot sends relative ones; Nexus pages by default without `Link` and answers `"tags": null`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from dockerfeed.registry._http import error_body, release
from dockerfeed.registry.connection import Connection
from dockerfeed.registry.errors import ListingIncomplete, NotFound, ProtocolError
from dockerfeed.registry.failures import said
from dockerfeed.registry.hosts import PageSizes
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.ping import ensure_pinged
from dockerfeed.registry.reference import normalize_image

# Ask for big pages: servers that cap `n` either clamp it or answer 400, and we step down.
PAGE_SIZES = (10_000, 1_000, 100)


def list_tags(conn: Connection, image: str) -> list[str]:
    """Every tag of a repository, complete or not at all."""
    repo = normalize_image(image, conn.address)
    ensure_pinged(conn)
    if conn.api_version == "v1":
        return _v1_tags(conn, repo)
    return paged(conn, f"/v2/{repo}/tags/list", "tags", (f"repository:{repo}:pull",), f"tags of {repo}")


def _v1_tags(conn: Connection, repo: str) -> list[str]:
    url = conn.address.url(f"/v1/repositories/{repo}/tags")
    r = conn.send("GET", url)
    if r.status_code != 200:
        conn.fail(r, f"GET {url}")
    body = conn.read(r, conn.session.limits.page_bytes, f"GET {url}")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ProtocolError(f"GET {url} answered a body that is not JSON") from None
    # v1 answers either {"tag": "image-id"} or [{"name": tag, "layer": id}].
    if isinstance(data, dict):
        return [str(t) for t in data]
    if isinstance(data, list):
        return [str(item["name"]) for item in data if isinstance(item, dict) and "name" in item]
    raise ProtocolError(f"GET {url} answered JSON of an unexpected shape")


def set_n(url: str, size: int | None) -> str:
    """`url` with its `n` query parameter set to `size` (removed for None), the rest kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "n"]
    if size is not None:
        # In place when the server's URL has an `n`, so the rest of its URL reads as it sent it.
        at = next((i for i, (k, _) in enumerate(query) if k == "n"), len(kept))
        kept.insert(at, ("n", str(size)))
    return parts._replace(query=urlencode(kept)).geturl()


def _smaller(size: int) -> int | None:
    """The next rung down the page-size ladder (None: let the server choose)."""
    below = [s for s in PAGE_SIZES if s < size]
    return below[0] if below else None


def _looks_cut(count: int, asked: int | None) -> bool:
    """Could a page without `Link` have been cut short by a limit?"""
    if asked is not None:
        return count >= asked
    # Without `n`, a server that pages by default uses a round, modest page size (Nexus 50;
    # Hub, ECR, ACR 100; Quay 50; 1000 at most) — and all of them but Nexus send `Link` anyway.
    return 0 < count <= 1000 and count % 10 == 0


def _n_of(url: str) -> int | None:
    for part in urlsplit(url).query.split("&"):
        name, _, value = part.partition("=")
        if name == "n" and value.isdigit():
            return int(value)
    return None


def link_next(header: str | None) -> str | None:
    """The target of a `Link: <url>; rel="next"` header (relative or absolute), or None."""
    if not header:
        return None
    for part in header.split(","):
        m = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if m and re.search(r'rel\s*=\s*"?next"?', m.group(2)):
            return m.group(1)
    return None


@dataclass
class Pagination:
    """Where a listing stands and what to ask for next; `paged` feeds it the answers.

    Page size. Tags are first asked for without `n`: distribution (2.8 and 3.x) then answers
    every tag at once, where any `n` is clamped to its page limit (tags.maxtags, 1000 by
    default) and costs ⌈N/1000⌉ + 1 round trips, each slower than the last. Servers that page
    anyway say so with `Link`; when its cursor is a `last`, later pages ask for a big `n`
    (Docker Hub, ECR, ACR default to 100). Catalogs always page on distribution, so they ask
    for a big `n` from the start. A 400 (PAGINATION_NUMBER_INVALID above
    catalog.maxentries, ECR above 1000) steps down 10000 → 1000 → 100 → no `n` and retries
    the same cursor (`refused`); the size that worked is remembered per connection.

    Completeness. `Link` is followed exactly (relative or absolute, same origin only). A page
    without `Link` ends the listing unless it looks like a page cut by a limit — full for the
    `n` we asked, or, without `n`, a round count up to 1000 (Nexus pages by default and sends
    no `Link`): then the next request (a probe) asks with `last` for the rest, until a page adds
    nothing.

    States: `url` is the request to send next (None: the listing is complete); `probing` says
    it only checks that a page without `Link` was whole; `may_grow` says a bigger `n` may still
    be tried (until the server refused one, or on a connection whose size is known).
    """

    base: str
    key: str
    what: str
    learned: tuple[int | None] | None
    size: int | None = None
    may_grow: bool = True
    probing: bool = False
    url: str | None = None
    items: dict[str, None] = field(default_factory=dict)  # an ordered set: first-seen order
    seen_urls: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.learned is not None:
            self.size = self.learned[0]
        else:
            self.size = None if self.key == "tags" else PAGE_SIZES[0]
        self.may_grow = self.learned is None
        self.url = set_n(self.base, self.size)

    def refused(self) -> bool:
        """The server answered 400 to `url`: step the page size down; False when no `n` was sent."""
        if self.size is None or self.url is None:
            return False
        self.size, self.may_grow = _smaller(self.size), False
        self.url = set_n(self.url, self.size)
        return True

    def size_to_learn(self) -> tuple[int | None] | None:
        """The size to remember for this connection after a page was answered, if any news.

        A probe's size says nothing about how this server pages: it is not learned.
        """
        if self.probing or (self.learned is not None and self.learned[0] == self.size):
            return None
        self.learned = (self.size,)
        return self.learned

    def answered(self, values: list[str], link: str | None) -> None:
        """A page of `values` arrived for `url`, with the `Link` header `link`: move on."""
        assert self.url is not None
        url, self.probing = self.url, False
        self.seen_urls.add(url)
        before = len(self.items)
        self.items.update(dict.fromkeys(values))
        fresh = len(self.items) > before
        nxt = link_next(link)
        rewritten: str | None = None  # the other path a Link pointed to, when it did
        if nxt is None:
            if not fresh or not _looks_cut(len(values), _n_of(url)):
                self.url = None
                return
            # No Link, but the page may have been cut by a limit (Nexus): ask for the rest.
            if self.size is None and self.may_grow:
                self.size = PAGE_SIZES[0]
            nxt_url = set_n(f"{self.base}?{urlencode({'last': values[-1]})}", self.size or len(values))
            self.probing = True
        else:
            nxt_url, rewritten = self._follow(url, nxt)
        if nxt_url in self.seen_urls or (values and not fresh):
            if rewritten is not None:
                raise ListingIncomplete(
                    f"listing {self.what}: GET {url} sent a Link to another path, {rewritten}; its cursor "
                    f"applied to {urlsplit(self.base).path} (GET {nxt_url}) repeats what was listed after "
                    f"{len(self.items)} entries; refusing to return a partial listing"
                )
            raise ListingIncomplete(
                f"listing {self.what}: the registry's Link pagination loops (GET {nxt_url} again after "
                f"{len(self.items)} entries); refusing to return a partial listing"
            )
        self.url = nxt_url

    def _follow(self, url: str, nxt: str) -> tuple[str, str | None]:
        """The request a `Link` to `nxt` leads to, and the other path it named (if it did)."""
        origin = urlsplit(self.base)
        nxt_url = urljoin(url, nxt)
        target = urlsplit(nxt_url)
        rewritten: str | None = None
        if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
            raise ListingIncomplete(
                f"listing {self.what}: GET {url} sent a Link to {target.scheme}://{target.netloc}, "
                "another origin; refusing to follow it (the listing would be incomplete)"
            )
        if target.path != origin.path:
            if not target.query:
                raise ListingIncomplete(
                    f"listing {self.what}: GET {url} sent a Link to another path, {target.path}, "
                    f"without a cursor (no query) to continue {origin.path} with; refusing to "
                    "follow it (the listing would be incomplete)"
                )
            # Some proxies (Artifactory) send a Link with a broken path: keep the query,
            # which carries the cursor (`last`, or an opaque one like Quay's).
            nxt_url = f"{self.base}?{target.query}"
            rewritten = target.path
        if "last=" in target.query and (self.size is not None or self.may_grow):
            # The server pages by itself; with a `last` cursor we may choose the page size.
            self.size = self.size or PAGE_SIZES[0]
            nxt_url = set_n(nxt_url, self.size)
        return nxt_url, rewritten


def paged(conn: Connection, path: str, key: str, scopes: tuple[str, ...], what: str) -> list[str]:
    """Every entry of a paginated listing (see Pagination), complete or an error."""
    sizes: PageSizes = conn.session.page_sizes
    kind: tuple[ConnectionIdentity, str] = (conn.identity, key)
    limits = conn.session.limits
    pages = Pagination(conn.address.url(path), key, what, sizes.get(kind))
    for _page in range(limits.pages):
        url = pages.url
        if url is None:
            return list(pages.items)
        r = conn.send("GET", url, scopes=scopes)
        if r.status_code == 400 and pages.refused():
            release(r)
            continue
        if r.status_code == 404:
            missing = "the repository does not exist" if key == "tags" else "there is no catalog"
            raise NotFound(
                f"GET {url} answered 404: {missing} on {conn.address.base_url} (or it is not visible "
                f"to {conn.who}){said(error_body(r))}"
            )
        if r.status_code != 200:
            conn.fail(r, f"GET {url}")
        learned = pages.size_to_learn()
        if learned is not None:
            sizes.put(kind, learned[0])
        link = r.headers.get("link")
        data = conn.json(r, limits.page_bytes, f"GET {url}")
        values = data.get(key)
        if values is None:
            values = []  # Nexus answers `"tags": null` for a repository without tags
        # Per-entry work runs in C (map, dict.fromkeys): 100,000 tags cost a few milliseconds.
        if not isinstance(values, list) or not set(map(type, values)) <= {str}:
            raise ProtocolError(f"GET {url} answered a '{key}' field that is not a list of strings")
        pages.answered(values, link)
    if pages.url is None:
        return list(pages.items)
    raise ListingIncomplete(f"listing {what} needed more than {limits.pages} pages; refusing to truncate it")


__all__ = ["PAGE_SIZES", "Pagination", "link_next", "list_tags", "paged", "set_n"]
