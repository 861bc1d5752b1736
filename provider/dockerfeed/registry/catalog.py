"""The catalog: every repository of a registry, whether an identity may list it, and search.

Docker Hub and GHCR offer no catalog (GHCR's token service answers 403 for
`registry:catalog:*`); Harbor and GitLab offer it to admins only (docs/design.md, "Registry
quirks"). v1 registries have a search endpoint instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

from dockerfeed.registry._http import release
from dockerfeed.registry.connection import Connection
from dockerfeed.registry.errors import (
    AccessDenied,
    NotFound,
    ProtocolError,
    RateLimited,
    RegistryError,
    TLSFailure,
    Unreachable,
    Unsupported,
)
from dockerfeed.registry.listing import paged
from dockerfeed.registry.ping import ensure_pinged

CATALOG_SCOPE = "registry:catalog:*"


def catalog(conn: Connection) -> list[str]:
    """Every repository name of the v2 catalog (the whole of it, or an error)."""
    if conn.address.is_docker_hub:
        # Known without asking: Hub has no /v2/_catalog at all.
        raise Unsupported(
            "Docker Hub does not offer a catalog (/v2/_catalog); give the repository name "
            "(e.g. library/nginx) to `dockerfeed tags` instead"
        )
    ensure_pinged(conn)
    try:
        return paged(conn, "/v2/_catalog", "repositories", (CATALOG_SCOPE,), "the catalog")
    except (AccessDenied, NotFound) as e:
        raise Unsupported(
            f"catalog not available for these credentials: this registry does not offer a "
            f"catalog to {conn.who}: {e}. Hosted registries (GHCR, Docker Hub, ProGet), "
            "admin-only catalogs (Harbor) and deploy tokens (GitLab) behave so; give the "
            "repository name to `dockerfeed tags` instead"
        ) from None


def catalog_check(conn: Connection) -> tuple[bool, str]:
    """Whether the catalog is usable by this identity, and in words why (for `check`).

    One small page is asked for; a refusal, an error or an answer that is not a catalog (not
    JSON, no `repositories` list) all mean "no".
    """
    if conn.api_version == "v1":
        return True, "supported"
    if conn.address.is_docker_hub:
        return False, "not offered (Docker Hub has no catalog)"
    url = conn.address.url("/v2/_catalog?n=1")
    try:
        r = conn.send("GET", url, scopes=(CATALOG_SCOPE,))
    except (RateLimited, Unreachable, TLSFailure):
        raise
    except RegistryError:
        return False, "not offered to this identity"
    if r.status_code != 200:
        release(r)
        return False, "not offered to this identity"
    try:
        data = conn.json(r, conn.session.limits.page_bytes, f"GET {url}")
    except ProtocolError as e:
        return False, f"not usable: {e}"
    if not isinstance(data.get("repositories"), list):
        return False, f"not usable: GET {url} answered 200 without a 'repositories' list"
    return True, "supported"


def search(conn: Connection, query: str = "") -> list[str]:
    """Repositories whose name contains `query`: v1 search, or the v2 catalog filtered locally."""
    needle = query.lower()
    if conn.address.is_docker_hub:
        return [name for name in catalog(conn) if needle in name.lower()]  # raises Unsupported
    ensure_pinged(conn)
    if conn.api_version == "v1":
        url = conn.address.url("/v1/search?" + urlencode({"q": query}))
        r = conn.send("GET", url)
        if r.status_code != 200:
            conn.fail(r, f"GET {url}")
        data = conn.json(r, conn.session.limits.page_bytes, f"GET {url}")
        return [str(x.get("name")) for x in data.get("results") or [] if isinstance(x, dict)]
    return [name for name in catalog(conn) if needle in name.lower()]


__all__ = ["catalog", "catalog_check", "search"]
