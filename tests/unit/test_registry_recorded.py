"""Recorded behaviour of hosted registries, replayed through httpx.MockTransport.

Each test is named after the registry whose answers it replays (docs/design.md, "Registry
quirks, and where they are handled"): what no local distribution server shows. Generic
paging/digest edge cases live in test_registry_protocol.py.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from dockerfeed.registry import (
    AccessDenied,
    ConnectionSettings,
    ListingIncomplete,
    RateLimited,
    Registry,
    Unsupported,
    check_feed,
    search,
)
from dockerfeed.registry.listing import paged
from dockerfeed.registry.retry import RetryPolicy
from dockerfeed.registry.session import Limits
from tests.support.recorded import V2, Handler, basic_credentials, use

# --- Docker Hub ---------------------------------------------------------------------------------

HUB_CHALLENGE = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'


def docker_hub(tags: list[str], *, limit_tags: bool = False) -> Handler:
    """registry-1.docker.io: anonymous tokens from auth.docker.io, no catalog."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.docker.io":
            scopes = request.url.params.get_list("scope")
            if any(s.startswith("registry:catalog") for s in scopes):
                # Hub grants nothing for the catalog: the token comes back without access.
                return httpx.Response(200, json={"token": "hub-empty", "expires_in": 300})
            return httpx.Response(
                200,
                json={
                    "token": "hub:" + " ".join(scopes),
                    "expires_in": 300,
                    "issued_at": "2024-01-01T00:00:00Z",
                },
            )
        assert request.url.host == "registry-1.docker.io"
        auth = request.headers.get("authorization", "")
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": HUB_CHALLENGE})
        if request.url.path == "/v2/_catalog":
            return httpx.Response(
                401,
                headers={
                    **V2,
                    "WWW-Authenticate": HUB_CHALLENGE
                    + ',scope="registry:catalog:*",error="insufficient_scope"',
                },
            )
        if request.url.path == "/v2/library/nginx/tags/list":
            if "repository:library/nginx:pull" not in auth:
                scoped = HUB_CHALLENGE + ',scope="repository:library/nginx:pull"'
                return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
            if limit_tags:
                return httpx.Response(
                    429,
                    headers={
                        **V2,
                        "ratelimit-limit": "100;w=21600",
                        "ratelimit-remaining": "0;w=21600",
                        "Retry-After": "1",
                    },
                    json={"errors": [{"code": "TOOMANYREQUESTS"}]},
                )
            return httpx.Response(200, headers=V2, json={"name": "library/nginx", "tags": tags})
        return httpx.Response(404, headers=V2)

    return handler


def test_docker_hub_single_name_is_library_and_uses_an_anonymous_hub_token() -> None:
    seen = use(docker_hub(["1.25", "1.27-alpine"]))
    reg = Registry(ConnectionSettings("docker.io"))
    assert reg.list_tags("nginx") == ["1.25", "1.27-alpine"]
    token = next(r for r in seen if r.url.host == "auth.docker.io")
    assert token.url.params["service"] == "registry.docker.io"
    assert token.url.params.get_list("scope") == ["repository:library/nginx:pull"]
    assert "authorization" not in token.headers


def test_docker_hub_429_reports_the_rate_limit_headers(retry_sleeps: list[float]) -> None:
    use(docker_hub(["1.25"], limit_tags=True))
    with pytest.raises(RateLimited) as e:
        Registry(ConnectionSettings("docker.io")).list_tags("nginx")
    assert "ratelimit-limit 100;w=21600" in str(e.value)
    assert "remaining 0;w=21600" in str(e.value)
    # Bounded retries that honoured Retry-After (1 s), never an endless loop.
    assert retry_sleeps == [1.0] * (RetryPolicy().attempts - 1)


def test_docker_hub_has_no_catalog() -> None:
    seen = use(docker_hub([]))
    with pytest.raises(Unsupported, match="Docker Hub does not offer a catalog"):
        search(ConnectionSettings("docker.io"), "nginx")
    # Known without asking: no request at all (works offline, costs nothing).
    assert seen == []
    info = check_feed(ConnectionSettings("docker.io"))
    assert info.auth_scheme == "bearer" and info.catalog_supported is False


# --- GHCR ---------------------------------------------------------------------------------------

GHCR_CHALLENGE = 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"'


def ghcr(request: httpx.Request) -> httpx.Response:
    """ghcr.io: anonymous tokens for public packages; the catalog scope is refused with 403."""
    if request.url.path == "/token":
        scopes = request.url.params.get_list("scope")
        if any(s.startswith("registry:catalog") for s in scopes):
            return httpx.Response(
                403,
                json={
                    "errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]
                },
            )
        return httpx.Response(200, json={"token": "ghcr:" + " ".join(scopes)})
    auth = request.headers.get("authorization", "")
    if request.url.path == "/v2/":
        return httpx.Response(401, headers={**V2, "WWW-Authenticate": GHCR_CHALLENGE})
    if request.url.path == "/v2/stefanprodan/podinfo/tags/list":
        if "repository:stefanprodan/podinfo:pull" not in auth:
            scoped = GHCR_CHALLENGE.replace("user/image", "stefanprodan/podinfo")
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
        return httpx.Response(
            200, headers=V2, json={"name": "stefanprodan/podinfo", "tags": ["6.5.0", "6.6.0"]}
        )
    return httpx.Response(404, headers=V2)


def test_ghcr_anonymous_token_lists_a_public_package() -> None:
    seen = use(ghcr)
    assert Registry(ConnectionSettings("ghcr.io")).list_tags("stefanprodan/podinfo") == ["6.5.0", "6.6.0"]
    token_requests = [r for r in seen if r.url.path == "/token"]
    # The ping's challenge names a placeholder scope; the token asks for what is needed.
    assert [r.url.params.get_list("scope") for r in token_requests] == [
        ["repository:stefanprodan/podinfo:pull"]
    ]


@pytest.mark.parametrize("credentials", [{}, {"username": "octocat", "password": "ghp_not-a-real-token"}])
def test_ghcr_catalog_refused_by_the_token_service_is_unsupported_not_bad_credentials(
    credentials: dict[str, str],
) -> None:
    use(ghcr)
    with pytest.raises(Unsupported, match="does not offer a catalog"):
        search(ConnectionSettings("ghcr.io", **credentials))


# --- Amazon ECR ---------------------------------------------------------------------------------


def ecr(tags: list[str], password: str = "ecr-token") -> Handler:
    """ECR: Basic auth with user AWS; n above 1000 → 400; opaque `last` cursors in Link."""

    def handler(request: httpx.Request) -> httpx.Response:
        if basic_credentials(request) != ("AWS", password):
            return httpx.Response(
                401,
                headers={
                    **V2,
                    "WWW-Authenticate": 'Basic realm="https://123.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"',
                },
            )
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        n = int(request.url.params.get("n", "100"))
        if n > 1000:
            return httpx.Response(
                400,
                headers=V2,
                json={
                    "errors": [
                        {
                            "code": "INVALID_PARAMETER",
                            "message": "Invalid parameter at 'maxResults' failed to satisfy "
                            "constraint: 'Member must have value less than or equal to 1000'",
                        }
                    ]
                },
            )
        start = (
            int(base64.b64decode(request.url.params["last"]).decode()) if "last" in request.url.params else 0
        )
        page = tags[start : start + n]
        headers = dict(V2)
        if start + n < len(tags):
            cursor = base64.b64encode(str(start + n).encode()).decode()
            headers["Link"] = f'</v2/team/app/tags/list?last={cursor}&n={n}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"name": "team/app", "tags": page})

    return handler


def test_ecr_aws_user_and_the_1000_cap_learned_once() -> None:
    tags = [f"1.0.{i}" for i in range(2500)]
    seen = use(ecr(tags))
    settings = ConnectionSettings("123.dkr.ecr.eu-west-1.amazonaws.com", username="AWS", password="ecr-token")
    assert check_feed(settings).auth_scheme == "basic"
    seen.clear()
    assert Registry(settings).list_tags("team/app") == tags
    # No `n` first (ECR's default page is 100, with a Link); the Link's `last` cursor lets us
    # ask for bigger pages: 10000 is refused, 1000 is ECR's cap.
    assert [r.url.params.get("n") for r in seen] == [None, "10000", "1000", "1000", "1000"]
    # The cap is remembered for the host: the next listing starts at 1000 and pays no 400.
    seen.clear()
    assert Registry(settings).list_tags("team/app") == tags
    assert [r.url.params.get("n") for r in seen] == ["1000", "1000", "1000"]


# --- Quay ---------------------------------------------------------------------------------------


def test_quay_opaque_link_cursor_is_followed_verbatim() -> None:
    pages = {
        None: (["v1", "v2"], "gAAAAABlYk9w"),
        "gAAAAABlYk9w": (["v3"], "gAAAAABlYk9x"),
        "gAAAAABlYk9x": (["v4"], None),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        tags, cursor = pages[request.url.params.get("next_page")]
        headers = dict(V2)
        if cursor:
            headers["Link"] = f'</v2/org/app/tags/list?n=2&next_page={cursor}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"name": "org/app", "tags": tags})

    seen = use(handler)
    assert Registry(ConnectionSettings("quay.io")).list_tags("org/app") == ["v1", "v2", "v3", "v4"]
    assert [r.url.params.get("next_page") for r in seen[2:]] == ["gAAAAABlYk9w", "gAAAAABlYk9x"]


# --- Artifactory --------------------------------------------------------------------------------


def test_artifactory_broken_link_path_keeps_the_feed_prefix() -> None:
    prefix = "/artifactory/api/docker/docker-local"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"{prefix}/v2/":
            return httpx.Response(200, headers=V2)
        # Artifactory's Link drops the repository key prefix and names the repo twice.
        assert request.url.path == f"{prefix}/v2/app/tags/list", request.url
        if request.url.params.get("last") == "b":
            return httpx.Response(200, headers=V2, json={"name": "app", "tags": ["c"]})
        return httpx.Response(
            200,
            headers={**V2, "Link": '</v2/docker-local/app/tags/list?last=b&n=2>; rel="next"'},
            json={"name": "app", "tags": ["a", "b"]},
        )

    use(handler)
    reg = Registry(ConnectionSettings(f"https://art.example.com{prefix}"))
    assert reg.list_tags("app") == ["a", "b", "c"]


# --- Nexus --------------------------------------------------------------------------------------


def test_nexus_full_page_without_link_is_continued_with_last() -> None:
    tags = [f"2.{i:04d}" for i in range(1500)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        n = int(request.url.params.get("n", "50"))
        if n > 1000:
            return httpx.Response(400, headers=V2, json={"errors": [{"code": "PAGINATION_NUMBER_INVALID"}]})
        last = request.url.params.get("last")
        start = tags.index(last) + 1 if last else 0
        # Nexus honours n and last but never sends a Link header.
        return httpx.Response(200, headers=V2, json={"name": "app", "tags": tags[start : start + n]})

    seen = use(handler)
    assert Registry(ConnectionSettings("https://nexus.example.com")).list_tags("app") == tags
    # 50 tags and no Link: a round count may be a cut page, so ask on with `last` and a big `n`
    # (refused, then 1000); a page shorter than asked ends the listing.
    assert [r.url.params.get("last") for r in seen[1:]] == [None, "2.0049", "2.0049", "2.1049"]
    assert [r.url.params.get("n") for r in seen[1:]] == [None, "10000", "1000", "1000"]


def test_nexus_full_page_that_ignores_last_ends_the_listing() -> None:
    # A server that ignores `last` answers the same page again: nothing new, the listing is whole.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        n = int(request.url.params.get("n", "100"))
        return httpx.Response(200, headers=V2, json={"name": "app", "tags": [f"t{i}" for i in range(n)]})

    seen = use(handler)
    assert len(Registry(ConnectionSettings("https://nexus.example.com")).list_tags("app")) == 10_000
    assert len(seen) == 4  # ping, the default page, a bigger page, one probe that adds nothing


# --- v1 API -------------------------------------------------------------------------------------


def v1_registry(tags_shape: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/_ping":
            return httpx.Response(200, headers={"X-Docker-Registry-Version": "0.9.1"}, json=True)
        if path == "/v1/repositories/team/app/tags":
            if tags_shape == "dict":
                return httpx.Response(200, json={"1.0": "abc123", "latest": "def456"})
            return httpx.Response(
                200, json=[{"name": "1.0", "layer": "abc1"}, {"name": "latest", "layer": "def4"}]
            )
        if path == "/v1/search":
            q = request.url.params.get("q", "")
            names = ["team/app", "team/api", "other/db"]
            results = [{"name": n, "description": ""} for n in names if q in n]
            return httpx.Response(200, json={"num_results": len(results), "query": q, "results": results})
        return httpx.Response(404)

    return handler


@pytest.mark.parametrize("shape", ["dict", "list"])
def test_v1_tags_in_both_shapes(shape: str) -> None:
    seen = use(v1_registry(shape))
    reg = Registry(ConnectionSettings("https://old.example.com"))
    assert reg.list_tags("team/app") == ["1.0", "latest"]
    assert [r.url.path for r in seen] == ["/v2/", "/v1/_ping", "/v1/repositories/team/app/tags"]


def test_v1_search_and_feed_test() -> None:
    use(v1_registry("dict"))
    assert search(ConnectionSettings("https://old.example.com"), "team") == ["team/app", "team/api"]
    info = check_feed(ConnectionSettings("https://old.example.com", api_version="v1"))
    assert info.api_version == "v1" and info.catalog_supported is True


# --- Harbor / GitLab ----------------------------------------------------------------------------


def test_harbor_admin_only_catalog_is_unsupported_for_a_project_member() -> None:
    challenge = 'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry"'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/service/token":
            return httpx.Response(200, json={"token": "member"})
        if request.url.path == "/v2/":
            if request.headers.get("authorization"):
                return httpx.Response(200, headers=V2)
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": challenge})
        if request.url.path == "/v2/_catalog":
            # Harbor answers a member's catalog request with insufficient_scope every time.
            scoped = challenge + ',scope="registry:catalog:*",error="insufficient_scope"'
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
        return httpx.Response(404)

    seen = use(handler)
    settings = ConnectionSettings("harbor.example.com", username="dev", password="Harbor12345")
    with pytest.raises(Unsupported, match="does not offer a catalog to user 'dev'"):
        search(settings)
    # One token, one refusal: a fresh token for exactly these scopes is not asked for again.
    assert [r.url.path for r in seen].count("/service/token") == 1
    with pytest.raises(AccessDenied):
        paged(Registry(settings), "/v2/_catalog", "repositories", ("registry:catalog:*",), "the catalog")


def test_listing_bound_raises_instead_of_truncating() -> None:

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        last = int(request.url.params.get("last", "0"))
        link = f'</v2/app/tags/list?last={last + 1}>; rel="next"'
        return httpx.Response(200, headers={**V2, "Link": link}, json={"tags": [str(last)]})

    use(handler, limits=Limits(pages=3))
    with pytest.raises(ListingIncomplete, match="more than 3 pages"):
        Registry(ConnectionSettings("https://r.example.com")).list_tags("app")
