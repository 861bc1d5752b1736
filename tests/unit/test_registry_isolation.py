"""What the process remembers about registries never crosses between feeds whose settings differ
(replayed through httpx.MockTransport).
"""

from __future__ import annotations

import httpx
import pytest

from dockerfeed import resolve
from dockerfeed.registry import FeedSettings, Registry, transport
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.versions import VersionRule
from tests.support.recorded import V2, use

FEED = "https://r.example.com"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
DIGEST = "sha256:" + "a" * 64


@pytest.fixture(autouse=True)
def _empty_run_cache() -> None:
    resolve.CACHE.clear()


# --- the connection identity ---------------------------------------------------------------------


SETTINGS_THAT_CHANGE_AN_ANSWER = {
    "url": FeedSettings("https://other.example.com"),
    "path prefix": FeedSettings(f"{FEED}/mirror"),
    "insecure": FeedSettings(FEED, insecure_skip_tls_verify=True),
    "ca": FeedSettings(FEED, ca_certificate=CA),
    "another ca": FeedSettings(FEED, ca_certificate=CA.replace("MIIB", "MIIC")),
    "api version": FeedSettings(FEED, api_version="v2"),
    "credentials": FeedSettings(FEED, username="ci", password="one"),
    "other password": FeedSettings(FEED, username="ci", password="two"),
}


def identity(settings: FeedSettings) -> ConnectionIdentity:
    from dockerfeed.registry.credentials import resolve_credentials

    return ConnectionIdentity.of(settings, resolve_credentials(settings))


def test_every_setting_that_can_change_an_answer_is_part_of_the_identity() -> None:
    plain = identity(FeedSettings(FEED))
    seen = {plain}
    for name, settings in SETTINGS_THAT_CHANGE_AN_ANSWER.items():
        other = identity(settings)
        assert other != plain, name
        seen.add(other)
    assert len(seen) == len(SETTINGS_THAT_CHANGE_AN_ANSWER) + 1
    # What does not change an answer does not split the caches.
    assert identity(FeedSettings(FEED, registry_path="pull.example.com")) == plain
    assert identity(FeedSettings("r.example.com")) == plain


def test_the_environment_is_part_of_the_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = identity(FeedSettings(FEED))
    monkeypatch.setenv("HTTPS_PROXY", "http://user:proxy-secret@proxy.example.com:3128")
    proxied = identity(FeedSettings(FEED))
    assert proxied != plain and proxied.transport != plain.transport
    assert "proxy-secret" not in repr(proxied)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv(transport.TIMEOUT_ENV, "2")
    assert identity(FeedSettings(FEED)).transport.timeout == 2


def test_no_secret_in_the_identity() -> None:
    text = repr(identity(FeedSettings(FEED, username="ci", password="hunter2-secret")))
    assert "hunter2-secret" not in text


def test_clients_are_shared_by_identities_and_split_by_transport() -> None:
    use(lambda request: httpx.Response(200, headers=V2))
    plain = Registry(FeedSettings(FEED))
    assert Registry(FeedSettings(FEED, username="ci", password="x")).client is plain.client
    assert Registry(FeedSettings(FEED, insecure_skip_tls_verify=True)).client is not plain.client
    assert Registry(FeedSettings(FEED, ca_certificate=CA)).client is not plain.client


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

    transport.transport_factory = lambda _settings: httpx.MockTransport(handler)


def test_host_state_and_tokens_learned_over_one_trust_are_not_used_by_another() -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    Registry(FeedSettings(FEED, insecure_skip_tls_verify=True)).list_tags("app")
    seen.clear()
    # A verifying feed learns the host and gets a token of its own: nothing learned over the
    # unverified connection steers it (a realm) or authorises it (a token).
    Registry(FeedSettings(FEED)).list_tags("app")
    assert [(r.method, r.url.host, r.url.path) for r in seen] == [
        ("GET", "r.example.com", "/v2/"),
        ("GET", "auth.example.com", "/token"),
        ("GET", "r.example.com", "/v2/app/tags/list"),
    ]


def test_a_requested_api_version_is_not_answered_by_another_feeds_ping() -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    Registry(FeedSettings(FEED)).list_tags("app")
    seen.clear()
    Registry(FeedSettings(FEED, api_version="v2")).list_tags("app")
    assert seen[0].url.path == "/v2/"


@pytest.mark.parametrize("name", sorted(SETTINGS_THAT_CHANGE_AN_ANSWER))
def test_the_run_cache_does_not_answer_a_feed_with_other_settings(name: str) -> None:
    seen: list[httpx.Request] = []
    bearer_registry(seen)
    rule = VersionRule.build()
    first = SETTINGS_THAT_CHANGE_AN_ANSWER[name]
    resolve.resolve_image(FeedSettings(FEED), "app", rule, cached=True)
    listings = len([r for r in seen if r.url.path.endswith("/tags/list")])
    resolve.resolve_image(first, "app", rule, cached=True)
    assert len([r for r in seen if r.url.path.endswith("/tags/list")]) == listings + 1
    # The same settings again: served by the run cache.
    before = len(seen)
    resolve.resolve_image(first, "app", rule, cached=True)
    assert len(seen) == before
