"""What the process remembers about registries never crosses between feeds whose settings differ,
and registry data never becomes a URL path (replayed through httpx.MockTransport).
"""

from __future__ import annotations

import json

import httpx
import pytest

from dockerfeed import resolve
from dockerfeed.registry import ConnectionSettings, InvalidReference, ProtocolError, Registry, transport
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.reference import check_reference, check_repository, is_tag, split_tags
from dockerfeed.versions import VersionRule
from tests.support.recorded import V2, use

FEED = "https://r.example.com"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
DIGEST = "sha256:" + "a" * 64
TRAVERSAL = "zz/../../../other/secret/manifests/1.0?x=1"


# --- the connection identity ---------------------------------------------------------------------


SETTINGS_THAT_CHANGE_AN_ANSWER = {
    "url": ConnectionSettings("https://other.example.com"),
    "path prefix": ConnectionSettings(f"{FEED}/mirror"),
    "insecure": ConnectionSettings(FEED, insecure_skip_tls_verify=True),
    "ca": ConnectionSettings(FEED, ca_certificate=CA),
    "another ca": ConnectionSettings(FEED, ca_certificate=CA.replace("MIIB", "MIIC")),
    "api version": ConnectionSettings(FEED, api_version="v2"),
    "credentials": ConnectionSettings(FEED, username="ci", password="one"),
    "other password": ConnectionSettings(FEED, username="ci", password="two"),
}


def identity(settings: ConnectionSettings) -> ConnectionIdentity:
    from dockerfeed.registry.credentials import resolve_credentials

    return ConnectionIdentity.of(settings, resolve_credentials(settings))


def test_every_setting_that_can_change_an_answer_is_part_of_the_identity() -> None:
    plain = identity(ConnectionSettings(FEED))
    seen = {plain}
    for name, settings in SETTINGS_THAT_CHANGE_AN_ANSWER.items():
        other = identity(settings)
        assert other != plain, name
        seen.add(other)
    assert len(seen) == len(SETTINGS_THAT_CHANGE_AN_ANSWER) + 1
    # What does not change an answer does not split the caches.
    assert identity(ConnectionSettings(FEED, registry_path="pull.example.com")) == plain
    assert identity(ConnectionSettings("r.example.com")) == plain


def test_the_environment_is_part_of_the_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = identity(ConnectionSettings(FEED))
    monkeypatch.setenv("HTTPS_PROXY", "http://user:proxy-secret@proxy.example.com:3128")
    proxied = identity(ConnectionSettings(FEED))
    assert proxied != plain and proxied.transport != plain.transport
    assert "proxy-secret" not in repr(proxied)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv(transport.TIMEOUT_ENV, "2")
    assert identity(ConnectionSettings(FEED)).transport.timeout == 2


def test_no_secret_in_the_identity() -> None:
    text = repr(identity(ConnectionSettings(FEED, username="ci", password="hunter2-secret")))
    assert "hunter2-secret" not in text


def test_clients_are_shared_by_identities_and_split_by_transport() -> None:
    use(lambda request: httpx.Response(200, headers=V2))
    plain = Registry(ConnectionSettings(FEED))
    assert Registry(ConnectionSettings(FEED, username="ci", password="x")).client is plain.client
    assert Registry(ConnectionSettings(FEED, insecure_skip_tls_verify=True)).client is not plain.client
    assert Registry(ConnectionSettings(FEED, ca_certificate=CA)).client is not plain.client


# --- the caches ------------------------------------------------------------------------------------


def bearer_registry(seen: list[httpx.Request]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.example.com":
            return httpx.Response(200, json={"token": f"token-{len(seen)}", "expires_in": 300})
        challenge = {"WWW-Authenticate": 'Bearer realm="https://auth.example.com/token",service="r"'}
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return httpx.Response(401, headers={**V2, **challenge})
        if request.url.path.endswith("/tags/list"):
            return httpx.Response(200, headers=V2, json={"name": "app", "tags": ["1.0", "1.1"]})
        if "/manifests/" in request.url.path:
            return httpx.Response(200, headers={**V2, "Docker-Content-Digest": DIGEST})
        return httpx.Response(200, headers=V2)

    use(handler)


def test_host_state_and_tokens_learned_over_one_trust_are_not_used_by_another() -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    Registry(ConnectionSettings(FEED, insecure_skip_tls_verify=True)).list_tags("app")
    seen.clear()
    # A verifying feed learns the host and gets a token of its own: nothing learned over the
    # unverified connection steers it (a realm) or authorises it (a token).
    Registry(ConnectionSettings(FEED)).list_tags("app")
    assert [(r.method, r.url.host, r.url.path) for r in seen] == [
        ("GET", "r.example.com", "/v2/"),
        ("GET", "auth.example.com", "/token"),
        ("GET", "r.example.com", "/v2/app/tags/list"),
    ]


def test_a_requested_api_version_is_not_answered_by_another_feeds_ping() -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    Registry(ConnectionSettings(FEED)).list_tags("app")
    seen.clear()
    Registry(ConnectionSettings(FEED, api_version="v2")).list_tags("app")
    assert seen[0].url.path == "/v2/"


@pytest.mark.parametrize("name", sorted(SETTINGS_THAT_CHANGE_AN_ANSWER))
def test_the_run_cache_does_not_answer_a_feed_with_other_settings(name: str) -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    rule = VersionRule.build()
    first = SETTINGS_THAT_CHANGE_AN_ANSWER[name]
    resolve.resolve_image(ConnectionSettings(FEED), "app", rule, cached=True)
    listings = len([r for r in seen if r.url.path.endswith("/tags/list")])
    resolve.resolve_image(first, "app", rule, cached=True)
    assert len([r for r in seen if r.url.path.endswith("/tags/list")]) == listings + 1
    # The same settings again: served by the run cache.
    before = len(seen)
    resolve.resolve_image(first, "app", rule, cached=True)
    assert len(seen) == before


# --- registry data in URL paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    ["1.0", "latest", "_private", "v1.2.3-rc.1_build", "a" * 128, "sha256-" + "a" * 64 + ".sig"],
)
def test_tags(entry: str) -> None:
    assert is_tag(entry) and check_reference(entry) == entry


@pytest.mark.parametrize(
    "entry",
    [TRAVERSAL, "", ".hidden", "-x", "a" * 129, "1.0\n", "1.0?x", "1.0#f", "1.0 ", "1%2F..", "é", "a/b"],
)
def test_not_tags(entry: str) -> None:
    assert not is_tag(entry)
    with pytest.raises(InvalidReference, match="URL path"):
        check_reference(entry)


def test_digests_are_references_and_repositories_are_checked() -> None:
    assert check_reference(DIGEST) == DIGEST
    assert check_repository("team/app") == "team/app"
    for bad in ("team/../other", "team/app\n", "/team", "Team/app", "team//app", "team/app?x"):
        with pytest.raises(InvalidReference, match="URL path"):
            check_repository(bad)


def test_split_tags_keeps_the_order() -> None:
    assert split_tags(["1.0", TRAVERSAL, "2.0", "-x"]) == (["1.0", "2.0"], [TRAVERSAL, "-x"])


def test_no_request_is_sent_for_a_reference_that_is_not_a_tag_or_digest() -> None:
    seen = use(lambda request: httpx.Response(200, headers=V2))
    reg = Registry(ConnectionSettings(FEED))
    for call in (
        lambda: reg.manifest_digest("app", TRAVERSAL),
        lambda: reg.get_manifest("app/../other", "1.0"),
        lambda: reg.get_manifest("app", "1.0/../../x"),
    ):
        with pytest.raises(InvalidReference):
            call()
    assert seen == []


def test_an_index_naming_a_platform_image_by_something_else_than_a_digest_is_refused() -> None:
    from dockerfeed.registry import Platform

    index = json.dumps(
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"digest": "sha256:../../x", "platform": {"os": "linux", "architecture": "amd64"}}],
        }
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        return httpx.Response(200, headers=V2, content=index)

    use(handler)
    import hashlib

    digest = "sha256:" + hashlib.sha256(index).hexdigest()
    with pytest.raises(ProtocolError, match="not a sha256 digest"):
        Registry(ConnectionSettings(FEED)).platform_digest("app", digest, Platform.parse("linux/amd64"))


def test_a_cursor_taken_from_a_listed_entry_stays_in_the_query() -> None:
    # Ten entries and no Link look like a page cut short (Nexus): the next request asks for the
    # rest after the last entry, which is registry data.
    first = [f"1.{i}" for i in range(9)] + [TRAVERSAL]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        tags = first if "last" not in request.url.params else []
        return httpx.Response(200, headers=V2, json={"name": "app", "tags": tags})

    seen = use(handler)
    assert Registry(ConnectionSettings(FEED)).list_tags("app") == first
    probe = seen[-1]
    assert probe.url.path == "/v2/app/tags/list"
    assert probe.url.params["last"] == TRAVERSAL
    assert b"/../" not in probe.url.raw_path


def test_a_listing_of_nothing_but_entries_that_are_not_tags_pins_nothing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        return httpx.Response(200, headers=V2, json={"name": "app", "tags": [TRAVERSAL, "\x1b[2J"]})

    seen = use(handler)
    with pytest.raises(resolve.ResolveError) as failed:
        resolve.resolve_image(ConnectionSettings(FEED), "app", VersionRule.build(strategy="alphabetical"))
    message = str(failed.value)
    assert "has no tags, nothing to pin: 2 listed entries are not a valid tag name" in message
    assert repr(TRAVERSAL) in message and "\x1b" not in message
    assert [r.url.path for r in seen] == ["/v2/", "/v2/app/tags/list"]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128"},
        {"HTTPS_PROXY": "http://upper:3128", "NO_PROXY": "localhost,.internal"},
        {"https_proxy": "", "HTTPS_PROXY": "http://upper:3128"},
        {"HTTP_PROXY": "http://upper:3128", "ALL_PROXY": "socks5://s:1080"},
        {"HTTP_PROXY": "http://evil:3128", "REQUEST_METHOD": "GET", "http_proxy": ""},
        {"HTTP_PROXY": "http://evil:3128", "REQUEST_METHOD": "GET"},
        {"http_proxy": "http://lower:3128", "REQUEST_METHOD": "GET", "ftp_proxy": "http://x:1"},
    ],
)
def test_the_proxy_environment_is_read_as_urllib_reads_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import urllib.request

    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    routed = {
        k: v
        for k, v in urllib.request.getproxies_environment().items()
        if k in ("all", "http", "https", "no")
    }
    assert dict(transport.proxy_environment()) == routed
