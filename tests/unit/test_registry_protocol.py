"""Protocol edge cases of the registry client, replayed through httpx.MockTransport.

Real servers are exercised in tests/integration; these tests pin down behaviour that the local
servers cannot show (other registries' quirks) or that must be exact (parsing, paging, digests).
"""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from dockerfeed.registry import (
    BadCredentials,
    ConnectionSettings,
    InvalidConfiguration,
    InvalidReference,
    ListingIncomplete,
    NotARegistry,
    ProtocolError,
    Registry,
    normalize_image,
    parse_feed_uri,
    transport,
)
from dockerfeed.registry.challenge import parse_challenges
from dockerfeed.registry.tokens import token_expiry
from tests.support.recorded import V2, Handler, use

# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "base"),
    [
        ("registry.example.com", "https://registry.example.com"),
        ("https://registry.example.com:5000/", "https://registry.example.com:5000"),
        ("localhost:5000", "http://localhost:5000"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://registry.internal", "http://registry.internal"),
        ("https://registry.example.com/v2/", "https://registry.example.com"),
        ("https://proxy.example.com/docker", "https://proxy.example.com/docker"),
        ("docker.io", "https://registry-1.docker.io"),
        ("https://index.docker.io/v1/", "https://registry-1.docker.io"),
        ("[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_feed_uri_parsing(uri: str, base: str) -> None:
    assert parse_feed_uri(uri).base_url == base


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "   ",
        "ftp://r.example.com",
        "https://user:pw@r.example.com",
        "https://r.example.com?x=1",
        "https://bad host",
    ],
)
def test_feed_uri_rejected(uri: str) -> None:
    with pytest.raises(InvalidReference):
        parse_feed_uri(uri)


def test_docker_hub_single_name_means_library() -> None:
    hub = parse_feed_uri("docker.io")
    assert normalize_image("nginx", hub) == "library/nginx"
    assert normalize_image("bitnami/nginx", hub) == "bitnami/nginx"
    assert normalize_image("nginx", parse_feed_uri("localhost:5000")) == "nginx"


@pytest.mark.parametrize("image", ["", "Team/App", "app:1.0", "app@sha256:00", "a//b", "-app", "app-"])
def test_bad_image_names(image: str) -> None:
    with pytest.raises(InvalidReference):
        normalize_image(image)


# --- challenges and tokens --------------------------------------------------------------------


def test_challenge_parser_handles_quoted_commas_and_several_challenges() -> None:
    header = (
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope", '
        'Basic realm="Registry Realm"'
    )
    challenges = parse_challenges([header, 'Negotiate, Basic realm="x\\"y"'])
    assert [c.scheme for c in challenges] == ["bearer", "basic", "negotiate", "basic"]
    bearer = challenges[0]
    assert bearer.params["realm"] == "https://auth.example.com/token"
    assert bearer.scopes == ("repository:a/b:pull,push", "repository:c:pull")
    assert bearer.params["error"] == "insufficient_scope"
    assert challenges[3].params["realm"] == 'x"y'


def test_token_expiry_is_issued_at_plus_at_least_60_seconds() -> None:
    now = 1_700_000_000.0
    assert token_expiry({"expires_in": 10}, now) == now + 60
    assert token_expiry({}, now) == now + 60
    assert token_expiry({"expires_in": 300}, now) == now + 300
    issued = "2023-11-14T22:12:20Z"  # 1_699_999_940: a minute before now
    assert token_expiry({"expires_in": 300, "issued_at": issued}, now) == 1_699_999_940 + 300


# --- discovery --------------------------------------------------------------------------------


def test_discovery_reports_an_html_login_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, text="<html>login</html>")

    use(handler)
    with pytest.raises(NotARegistry, match="HTML page"):
        Registry(ConnectionSettings("https://portal.example.com")).ping()


def test_discovery_falls_back_to_v1_ping() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/_ping":
            return httpx.Response(200, headers={"X-Docker-Registry-Version": "0.9.1"}, json=True)
        return httpx.Response(404)

    use(handler)
    info = Registry(ConnectionSettings("https://old.example.com")).ping()
    assert info.api_version == "v1"


def test_explicit_v2_is_verified_not_trusted() -> None:
    use(lambda r: httpx.Response(404))
    with pytest.raises(NotARegistry, match="apiVersion v2 was requested"):
        Registry(ConnectionSettings("https://r.example.com", api_version="v2")).ping()


# --- bearer auth, recorded from distribution's token flow --------------------------------------


def bearer_registry(tags: list[str], password: str = "s3cret") -> Handler:
    challenge = 'Bearer realm="https://auth.example.com/token",service="r.example.com"'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            auth = request.headers.get("authorization", "")
            import base64

            if auth and base64.b64decode(auth.split()[1]).decode() != f"ci:{password}":
                return httpx.Response(401, json={"details": "incorrect username or password"})
            scopes = request.url.params.get_list("scope")
            return httpx.Response(200, json={"token": "tok:" + ",".join(scopes), "expires_in": 300})
        auth = request.headers.get("authorization", "")
        if request.url.path == "/v2/":
            if not auth:
                return httpx.Response(401, headers={**V2, "WWW-Authenticate": challenge})
            return httpx.Response(200, headers=V2, json={})
        if request.url.path.endswith("/tags/list"):
            if "repository:team/app:pull" not in auth:
                scoped = challenge + ',scope="repository:team/app:pull"'
                return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
            return httpx.Response(200, headers=V2, json={"name": "team/app", "tags": tags})
        return httpx.Response(404)

    return handler


def test_cold_listing_costs_ping_token_and_one_page() -> None:
    seen = use(bearer_registry(["1.0", "1.1"]))
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="s3cret"))
    assert reg.list_tags("team/app") == ["1.0", "1.1"]
    assert [(r.url.host, r.url.path) for r in seen] == [
        ("r.example.com", "/v2/"),
        ("auth.example.com", "/token"),
        ("r.example.com", "/v2/team/app/tags/list"),
    ]
    token_request = seen[1]
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull"]
    assert token_request.url.params["service"] == "r.example.com"
    # Warm: the host's API version and auth scheme and the token for these scopes and this
    # identity are cached per process; a new Registry pays the page and nothing else.
    seen.clear()
    settings = ConnectionSettings("https://r.example.com", username="ci", password="s3cret")
    Registry(settings).list_tags("team/app")
    assert [r.url.path for r in seen] == ["/v2/team/app/tags/list"]


def test_bad_password_is_rejected_by_the_token_service_and_never_echoed() -> None:
    use(bearer_registry(["1.0"]))
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="wrong-pass"))
    info = reg.ping()
    with pytest.raises(BadCredentials) as e:
        reg.validate(info)
    assert "token service https://auth.example.com/token (service 'r.example.com') rejected user 'ci'" in str(
        e.value
    )
    assert "wrong-pass" not in str(e.value)


def test_realm_over_plain_http_is_refused_for_an_https_feed() -> None:
    challenge = 'Bearer realm="http://auth.example.com/token",service="r"'
    use(lambda r: httpx.Response(401, headers={**V2, "WWW-Authenticate": challenge}))
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw"))
    with pytest.raises(ProtocolError, match="not https"):
        reg.validate(reg.ping())


# --- listing ----------------------------------------------------------------------------------


def paged(pages: dict[str, tuple[list[str], str | None]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2, json={})
        key = request.url.params.get("last", "")
        tags, link = pages[key]
        headers = dict(V2)
        if link:
            headers["Link"] = link
        return httpx.Response(200, headers=headers, json={"name": "app", "tags": tags})

    return handler


def test_relative_link_pagination_is_followed_to_the_end() -> None:
    # zot and distribution send relative Links (Octopus #5624, #6760).
    use(
        paged(
            {
                "": (["a", "b"], '</v2/app/tags/list?last=b&n=2>; rel="next"'),
                "b": (["c", "d"], '</v2/app/tags/list?last=d&n=2>; rel="next"'),
                "d": (["e"], None),
            }
        )
    )
    assert Registry(ConnectionSettings("https://r.example.com")).list_tags("app") == ["a", "b", "c", "d", "e"]


def test_absolute_link_on_the_same_origin_is_followed() -> None:
    use(
        paged(
            {
                "": (["a"], '<https://r.example.com/v2/app/tags/list?last=a>; rel="next"'),
                "a": (["b"], None),
            }
        )
    )
    assert Registry(ConnectionSettings("https://r.example.com")).list_tags("app") == ["a", "b"]


def test_link_to_another_host_is_refused() -> None:
    use(paged({"": (["a"], '<https://evil.example.net/v2/app/tags/list?last=a>; rel="next"')}))
    with pytest.raises(ListingIncomplete, match="another origin"):
        Registry(ConnectionSettings("https://r.example.com")).list_tags("app")


def test_looping_link_raises_instead_of_truncating() -> None:
    use(
        paged(
            {
                "": (["a"], '</v2/app/tags/list?last=a>; rel="next"'),
                "a": (["b"], '</v2/app/tags/list?last=a>; rel="next"'),
            }
        )
    )
    with pytest.raises(ListingIncomplete, match="loops"):
        Registry(ConnectionSettings("https://r.example.com")).list_tags("app")


def test_page_size_steps_down_when_the_server_refuses_it() -> None:
    # distribution answers 400 PAGINATION_NUMBER_INVALID above catalog.maxentries.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2, json={})
        if int(request.url.params["n"]) > 1000:
            return httpx.Response(400, json={"errors": [{"code": "PAGINATION_NUMBER_INVALID"}]})
        return httpx.Response(200, headers=V2, json={"repositories": ["app"]})

    seen = use(handler)
    assert Registry(ConnectionSettings("https://r.example.com")).catalog() == ["app"]
    assert [r.url.params.get("n") for r in seen[1:]] == ["10000", "1000"]


def test_tags_are_asked_for_without_n_so_distribution_answers_all_at_once() -> None:
    # Any `n` is clamped to tags.maxtags (1000) and costs a page per thousand tags; without it
    # distribution answers every tag in one response.
    tags = [f"1.{i}.7" for i in range(2345)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2, json={})
        assert "n" not in request.url.params
        return httpx.Response(200, headers=V2, json={"name": "app", "tags": tags})

    seen = use(handler)
    assert Registry(ConnectionSettings("https://r.example.com")).list_tags("app") == tags
    assert len(seen) == 2


def test_nexus_null_tags_mean_none() -> None:
    use(lambda r: httpx.Response(200, headers=V2, json={"name": "app", "tags": None}))
    assert Registry(ConnectionSettings("https://nexus.example.com")).list_tags("app") == []


def test_tags_that_are_not_strings_are_a_protocol_error() -> None:
    use(lambda r: httpx.Response(200, headers=V2, json={"name": "app", "tags": [1, 2]}))
    with pytest.raises(ProtocolError):
        Registry(ConnectionSettings("https://r.example.com")).list_tags("app")


# --- digests ----------------------------------------------------------------------------------

MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def test_head_sends_every_manifest_media_type() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        return httpx.Response(200, headers={**V2, "Docker-Content-Digest": MANIFEST_DIGEST})

    seen = use(handler)
    assert (
        Registry(ConnectionSettings("https://r.example.com")).manifest_digest("app", "1.0") == MANIFEST_DIGEST
    )
    accept = seen[-1].headers["accept"]
    for media_type in (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ):
        assert media_type in accept
    assert seen[-1].method == "HEAD"


def test_missing_digest_header_falls_back_to_get_and_hashes_the_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        if request.method == "HEAD":
            return httpx.Response(200, headers=V2)
        return httpx.Response(200, headers=V2, content=MANIFEST)

    use(handler)
    assert (
        Registry(ConnectionSettings("https://r.example.com")).manifest_digest("app", "1.0") == MANIFEST_DIGEST
    )


def test_body_that_does_not_match_its_digest_header_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        if request.method == "HEAD":
            return httpx.Response(200, headers=V2)
        return httpx.Response(
            200, headers={**V2, "Docker-Content-Digest": "sha256:" + "0" * 64}, content=MANIFEST
        )

    use(handler)
    with pytest.raises(ProtocolError, match="does not match"):
        Registry(ConnectionSettings("https://r.example.com")).manifest_digest("app", "1.0")


def distribution_like(tags: list[str]) -> Handler:
    """distribution: everything without `n`; with `n`, pages clamped to 1000 joined by Link."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2, json={})
        ordered = sorted(tags)
        if "n" not in request.url.params:
            return httpx.Response(200, headers=V2, json={"name": "app", "tags": ordered})
        n = min(int(request.url.params["n"]), 1000)
        last = request.url.params.get("last")
        rest = [t for t in ordered if last is None or t > last]
        headers = dict(V2)
        if len(rest) >= n:
            headers["Link"] = f'</v2/app/tags/list?last={rest[n - 1]}&n={n}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"name": "app", "tags": rest[:n]})

    return handler


def test_a_round_count_is_probed_once_and_the_probe_teaches_no_page_size() -> None:
    tags = [f"1.{i:04d}" for i in range(1000)]
    seen = use(distribution_like(tags))
    for _ in range(2):
        seen.clear()
        assert Registry(ConnectionSettings("https://r.example.com")).list_tags("app") == sorted(tags)
        listing = [r for r in seen if r.url.path.endswith("/tags/list")]
        # 1000 tags and no Link may be a cut page: one probe with `last`, which adds nothing.
        assert [r.url.params.get("last") for r in listing] == [None, "1.0999"]


def test_big_unpaged_answers_are_not_probed() -> None:
    tags = [f"1.{i:05d}" for i in range(20_000)]
    seen = use(distribution_like(tags))
    assert len(Registry(ConnectionSettings("https://r.example.com")).list_tags("app")) == 20_000
    assert [r.url.path for r in seen] == ["/v2/", "/v2/app/tags/list"]


def test_http_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert transport.http_timeout() == transport.TIMEOUT
    monkeypatch.setenv("DOCKERFEED_HTTP_TIMEOUT", "2.5")
    assert transport.http_timeout() == httpx.Timeout(2.5, connect=2.5)
    monkeypatch.setenv("DOCKERFEED_HTTP_TIMEOUT", "120")
    assert transport.http_timeout() == httpx.Timeout(120, connect=10)
    for bad in ("soon", "0", "-1", "99999"):
        monkeypatch.setenv("DOCKERFEED_HTTP_TIMEOUT", bad)
        with pytest.raises(InvalidConfiguration, match="DOCKERFEED_HTTP_TIMEOUT"):
            transport.http_timeout()
