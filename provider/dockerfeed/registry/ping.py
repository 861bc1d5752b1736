"""Discovery and validation: which API a feed speaks (`/v2/`, `/v1/_ping`), how it authenticates,
and whether the credentials are accepted where bad ones would be refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from dockerfeed.registry._http import release
from dockerfeed.registry.challenge import Challenge, challenges_of, choose
from dockerfeed.registry.connection import Connection
from dockerfeed.registry.errors import NotARegistry, TLSFailure
from dockerfeed.registry.hosts import HostAuthState

# What a TLS server answers to a plain http request (Go's net/http, nginx).
_HTTP_TO_TLS = (
    b"client sent an http request to an https server",
    b"the plain http request was sent to https port",
)
_PING_BYTES = 64 * 1024


@dataclass(frozen=True)
class FeedInfo:
    """What discovery and validation found out about a feed."""

    api_version: str
    registry_url: str
    pull_address: str
    auth_scheme: str
    token_service: str | None = None
    catalog_supported: bool | None = None
    service: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "registryUrl": self.registry_url,
            "pullAddress": self.pull_address,
            "authScheme": self.auth_scheme,
            "tokenService": self.token_service,
            "service": self.service,
            "catalogSupported": self.catalog_supported,
        }


def ping(conn: Connection) -> FeedInfo:
    """Find the API version (v2 `/v2/`, v1 `/v1/_ping`) and the auth scheme, anonymously."""
    address = conn.address
    wanted = conn.settings.api_version
    reasons: list[str] = []
    if wanted in ("auto", "v2"):
        url = address.url("/v2/")
        r = conn.send("GET", url, authenticate=False)
        body_start = conn.read(r, _PING_BYTES, f"GET {url}")[:200]
        if r.status_code == 400 and any(m in body_start.lower() for m in _HTTP_TO_TLS):
            raise TLSFailure(
                f"GET {url} answered 400 {body_start.strip().decode('utf-8', 'replace')!r}: the "
                f"registry speaks TLS on this port; write the feed as https://{address.netloc}"
                f"{address.path}"
            )
        api = r.headers.get("docker-distribution-api-version", "")
        challenges = challenges_of(r)
        if r.status_code in (200, 401) and ("registry/2.0" in api or (r.status_code == 401 and challenges)):
            conn.api_version = "v2"
            return _learn(conn, challenges, f"GET {url}")
        reasons.append(_why_not(url, r, body_start, "Docker-Distribution-API-Version: registry/2.0"))
        if wanted == "v2":
            raise NotARegistry(f"apiVersion v2 was requested, but {reasons[0]}", request=f"GET {url}")
    url = address.url("/v1/_ping")
    r = conn.send("GET", url, authenticate=False)
    body_start = conn.read(r, _PING_BYTES, f"GET {url}")[:200]
    if r.status_code == 200 and r.headers.get("x-docker-registry-version"):
        conn.api_version = "v1"
        return _learn(conn, challenges_of(r), f"GET {url}")
    reasons.append(_why_not(url, r, body_start, "X-Docker-Registry-Version"))
    if wanted == "v1":
        raise NotARegistry(f"apiVersion v1 was requested, but {reasons[-1]}", request=f"GET {url}")
    raise NotARegistry(
        f"{address.base_url} does not look like a Docker registry: "
        + "; ".join(reasons)
        + ". Check feedUri: it should be the registry's address, without a repository path",
        request=f"GET {address.url('/v2/')}",
    )


def _learn(conn: Connection, challenges: list[Challenge], what: str) -> FeedInfo:
    """Keep what the ping taught about the host in the session, and say it as a FeedInfo."""
    chosen = choose(challenges, what)
    api = conn.api_version or "v2"
    if chosen is not None and chosen.scheme == "bearer":
        state = HostAuthState("bearer", chosen.params["realm"], chosen.params.get("service"), api)
    elif chosen is not None:
        state = HostAuthState("basic", api_version=api)
    else:
        state = HostAuthState("anonymous", api_version=api)
    conn.session.hosts.put(conn.identity, state)
    return FeedInfo(
        api_version=api,
        registry_url=conn.address.base_url,
        pull_address=conn.settings.pull_address,
        auth_scheme=state.scheme,
        token_service=state.realm,
        service=state.service,
    )


def _why_not(url: str, r: httpx.Response, body_start: bytes, header: str) -> str:
    ctype = r.headers.get("content-type", "")
    if "html" in ctype or body_start.lstrip().lower().startswith((b"<!doctype", b"<html")):
        return (
            f"GET {url} answered {r.status_code} with an HTML page (a login page or web UI?), "
            "not the registry API"
        )
    if r.status_code == 404:
        return f"GET {url} answered 404"
    return f"GET {url} answered {r.status_code} without the {header} header"


def ensure_pinged(conn: Connection) -> None:
    """Learn the API version once per host and session: a warm Connection skips the ping."""
    if conn.api_version is not None or _adopt(conn):
        return
    # Single flight: the reads a refresh starts together find nothing known and ping once.
    with conn.session.hosts.lock_for(conn.identity):
        if not _adopt(conn):
            ping(conn)


def _adopt(conn: Connection) -> bool:
    """Take the API version the session already knows for this connection, if it is the one asked."""
    known = conn.session.hosts.get(conn.identity)
    wanted = conn.settings.api_version
    if known is not None and known.api_version and wanted in ("auto", known.api_version):
        conn.api_version = known.api_version
        return True
    return False


def validate(conn: Connection, info: FeedInfo) -> str:
    """Send the credentials somewhere that rejects bad ones; say where they were accepted."""
    credentials = conn.credentials
    if info.auth_scheme == "bearer":
        # A bearer registry answers 200 on /v2/ to an anonymous token: the realm must see them.
        state = conn.session.hosts.get(conn.identity) or HostAuthState(
            "bearer", info.token_service, info.service, info.api_version
        )
        try:
            conn.auth.fetch_token(state, ())
        except httpx.HTTPError as e:
            raise conn.transport_error("GET", state.realm or "", e) from None
        if credentials is None:
            return "none given; the token service hands out anonymous tokens"
        return f"accepted by the token service: {credentials.describe()}"
    if credentials is None and info.auth_scheme == "anonymous":
        return "none given; the registry answers anonymously"
    url = conn.address.url("/v2/" if info.api_version == "v2" else "/v1/_ping")
    r = conn.send("GET", url)
    if r.status_code >= 400:
        conn.fail(r, f"GET {url}")
    release(r)
    if credentials is None:
        return "none given (anonymous)"
    if info.auth_scheme == "anonymous" and "Authorization" not in r.request.headers:
        # Nothing asked for them, so nothing checked them: say so rather than "accepted".
        return f"not needed: the registry answers anonymously ({credentials.describe()} unused)"
    return f"accepted by the registry: {credentials.describe()}"


__all__ = ["FeedInfo", "ensure_pinged", "ping", "validate"]
