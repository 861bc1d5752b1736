"""The registry client against real registries: distribution 2.8 (htpasswd, unsorted, unpaged),
distribution v3 (htpasswd, maxtags=5/maxentries=5) and distribution v3 with token auth through a
real JWT token server. Tag sets and digests are cross-checked with skopeo.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockerfeed import cli
from dockerfeed.registry import (
    AccessDenied,
    BadCredentials,
    ConnectionSettings,
    CredentialsRequired,
    InvalidConfiguration,
    Platform,
    Registry,
    RegistryError,
    TLSFailure,
    Unreachable,
    check_feed,
    search,
)
from dockerfeed.registry import session as registry_session
from dockerfeed.resolve import resolve_image
from dockerfeed.versions import VersionRule
from tests.conftest import TOKEN_GRANTS
from tests.support import free_port, images
from tests.support.servers import RegistryServer, Skopeo
from tests.support.tokenserver import TokenServer

TAGS_23 = [f"1.{i}.0" for i in range(20)] + ["2.0.0-rc.1", "2.0.0", "latest"]


@pytest.fixture(autouse=True)
def _fresh_client_state() -> Iterator[None]:
    # Every test starts cold, in a Session of its own: no pooled client, no learned host facts,
    # no cached tokens.
    previous = registry_session.set_default_session(registry_session.Session())
    yield
    registry_session.set_default_session(previous).reset()


def settings_for(
    reg: RegistryServer, user: str | None = "main", password: str | None = None
) -> ConnectionSettings:
    if user == "main":
        user = reg.username
    if user is not None and password is None:
        password = reg.password_for(user)
    return ConnectionSettings(reg.url, username=user, password=password)


def seed(reg: RegistryServer, repo: str, tags: list[str], media: images.Media = "oci") -> dict[str, str]:
    return images.seed_tags(reg.url, repo, tags, auth=reg.push_credentials, media=media)


# --- discovery and validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "scheme"),
    [("registry_v2_htpasswd", "basic"), ("registry_v3_paginated", "basic"), ("registry_v3_token", "bearer")],
)
def test_discovery_and_validation(fixture: str, scheme: str, request: pytest.FixtureRequest) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    steps: list[tuple[str, str]] = []
    info = check_feed(settings_for(reg), progress=lambda step, detail: steps.append((step, detail)))
    assert (info.api_version, info.auth_scheme, info.catalog_supported) == ("v2", scheme, True)
    assert info.registry_url == reg.url and info.pull_address == reg.host
    assert [s for s, _ in steps] == ["address", "api", "auth", "credentials", "catalog"]
    if scheme == "bearer":
        assert reg.token_server is not None
        assert info.token_service == reg.token_server.realm
        assert info.service == reg.token_server.service


@pytest.mark.parametrize("fixture", ["registry_v2_htpasswd", "registry_v3_paginated"])
def test_basic_bad_password_and_missing_credentials(fixture: str, request: pytest.FixtureRequest) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    with pytest.raises(BadCredentials, match=rf"GET {reg.url}/v2/ answered 401 for user 'ci'"):
        check_feed(settings_for(reg, password="wrong-password-1"))
    with pytest.raises(CredentialsRequired, match="needs credentials"):
        check_feed(settings_for(reg, user=None))


def test_bearer_validation_sends_the_credentials_to_the_token_realm(
    registry_v3_token: RegistryServer,
) -> None:
    ts = registry_v3_token.token_server
    assert ts is not None
    ts.clear_requests()
    check_feed(settings_for(registry_v3_token))
    login = ts.requests[0]
    assert (login.method, login.username, login.auth_present, login.status) == ("GET", "ci", True, 200)


def test_bearer_bad_password_names_the_token_service_and_user(registry_v3_token: RegistryServer) -> None:
    ts = registry_v3_token.token_server
    assert ts is not None
    with pytest.raises(BadCredentials) as e:
        check_feed(settings_for(registry_v3_token, password="wrong-password-2"))
    assert f"the token service {ts.realm} (service '{ts.service}') rejected user 'ci'" in str(e.value)


def test_nopull_is_access_denied_not_bad_credentials(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    seed(registry_v3_token, repo, ["1.0"])
    ts = registry_v3_token.token_server
    assert ts is not None
    settings = settings_for(registry_v3_token, user="nopull")
    # The credentials are valid: validation passes, the catalog is simply not offered.
    info = check_feed(settings)
    assert info.catalog_supported is False
    ts.clear_requests()
    with pytest.raises(AccessDenied, match="user 'nopull' from settings was accepted but has no permission"):
        Registry(settings).list_tags(repo)
    assert len(ts.requests) == 1  # one token; asking again for the same scopes cannot help
    with pytest.raises(AccessDenied):
        check_feed(settings, image=repo)


def test_anonymous_pulls_public_but_not_demo(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    public, private = unique_repo("public"), unique_repo("demo")
    seed(registry_v3_token, public, ["1.0"])
    seed(registry_v3_token, private, ["1.0"])
    anonymous = settings_for(registry_v3_token, user=None)
    assert Registry(anonymous).list_tags(public) == ["1.0"]
    with pytest.raises(CredentialsRequired):
        Registry(anonymous).list_tags(private)


def test_unreachable_registry() -> None:
    with pytest.raises(Unreachable, match=r"could not connect"):
        check_feed(ConnectionSettings(f"127.0.0.1:{free_port()}"))


# --- listings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["registry_v2_htpasswd", "registry_v3_paginated", "registry_v3_token"])
def test_tags_complete_and_equal_to_skopeo(
    fixture: str, request: pytest.FixtureRequest, skopeo: Skopeo, unique_repo: Callable[[str], str]
) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    repo = unique_repo("demo")
    seed(reg, repo, TAGS_23)
    reg_client = Registry(settings_for(reg))
    tags = reg_client.list_tags(repo)
    assert sorted(tags) == sorted(TAGS_23) == sorted(skopeo.list_tags(reg, repo))
    assert len(tags) == len(set(tags))
    if fixture == "registry_v3_paginated":
        # maxtags=5 limits pages only when `n` is sent: asked without it, distribution answers
        # all 23 tags in one response (23 is no round page size, so no probe); plus the ping.
        assert reg_client.requests == 1 + 1


def test_catalog_steps_down_to_maxentries(registry_v3_paginated: RegistryServer) -> None:
    reg = registry_v3_paginated
    for i in range(7):
        images.push_image(reg.url, f"catalog/r{i}", "1.0", auth=reg.push_credentials)
    client = Registry(settings_for(reg))
    names = client.catalog()
    # Oracle: walk the catalog by hand with the server's own page size.
    expected: list[str] = []
    with reg.client(auth=reg.credentials) as http:
        url = "/v2/_catalog?n=5"
        while url:
            r = http.get(url)
            assert r.status_code == 200
            expected += r.json()["repositories"]
            url = r.links.get("next", {}).get("url", "")
    assert names == expected and {f"catalog/r{i}" for i in range(7)} <= set(names)
    # Warm: the learned page size (the server default) costs no 400s and no ping.
    again = Registry(settings_for(reg))
    assert again.catalog() == names
    assert again.requests == -(-len(names) // 5) + (1 if len(names) % 5 == 0 else 0)
    assert search(settings_for(reg), "catalog/r") == [f"catalog/r{i}" for i in range(7)]


# --- digests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["registry_v2_htpasswd", "registry_v3_paginated", "registry_v3_token"])
@pytest.mark.parametrize("media", ["docker", "oci"])
def test_digests_equal_skopeo_and_platform_digest(
    fixture: str,
    media: images.Media,
    request: pytest.FixtureRequest,
    skopeo: Skopeo,
    unique_repo: Callable[[str], str],
) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    repo = unique_repo("demo")
    single = images.push_image(reg.url, repo, "1.0", auth=reg.push_credentials, media=media)
    multi = images.push_image_info(
        reg.url, repo, "2.0", auth=reg.push_credentials, media=media, platforms=images.DEFAULT_PLATFORMS
    )
    client = Registry(settings_for(reg))
    assert client.manifest_digest(repo, "1.0") == single == skopeo.digest(reg, repo, "1.0")
    index = client.manifest_digest(repo, "2.0")
    assert index == multi.digest == skopeo.digest(reg, repo, "2.0")
    for text in ("linux/arm64", "linux/arm64/v8"):
        assert (
            client.platform_digest(repo, index, Platform.parse(text))
            == multi.platform_digests["linux/arm64/v8"]
        )
    assert (
        client.platform_digest(repo, index, Platform.parse("linux/amd64"))
        == multi.platform_digests["linux/amd64"]
    )
    assert client.platform_digest(repo, single, Platform.parse("linux/amd64")) == single
    with pytest.raises(RegistryError, match="offers linux/amd64, linux/arm64/v8"):
        client.platform_digest(repo, index, Platform.parse("linux/s390x"))


@pytest.mark.parametrize(
    "order",
    [
        ("linux/arm/v6", "linux/arm/v7", "linux/arm64/v8", "linux/arm64/v9", "linux/amd64"),
        ("linux/arm64/v9", "linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6"),
    ],
)
def test_platforms_are_normalised_as_containerd_does_whatever_the_index_order(
    registry_v2_htpasswd: RegistryServer, unique_repo: Callable[[str], str], order: tuple[str, ...]
) -> None:
    reg = registry_v2_htpasswd
    repo = unique_repo("demo")
    multi = images.push_image_info(reg.url, repo, "1.0", auth=reg.push_credentials, platforms=order)
    client = Registry(settings_for(reg))
    # containerd: linux/arm is linux/arm/v7, linux/arm64 is linux/arm64/v8 (and aarch64 is arm64).
    for wanted, entry in (
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/v8", "linux/arm64/v8"),
        ("linux/arm64/v9", "linux/arm64/v9"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/amd64", "linux/amd64"),
    ):
        got = client.platform_digest(repo, multi.digest, Platform.parse(wanted))
        assert got == multi.platform_digests[entry], (wanted, order)


# --- request counts -----------------------------------------------------------------------------


def test_cold_and_warm_resolve_request_counts(
    start_registry: Callable[..., RegistryServer], unique_repo: Callable[[str], str]
) -> None:
    users = {"ci": "ci-" + os.urandom(6).hex(), "admin": "ad-" + os.urandom(6).hex()}
    reg = start_registry("v3", auth="token", users=users, grants=TOKEN_GRANTS, pusher="admin", maxtags=5)
    ts = reg.token_server
    assert ts is not None
    repo = unique_repo("demo")
    seed(reg, repo, TAGS_23)
    settings = settings_for(reg)

    def resolve_once() -> tuple[int, int]:
        ts.clear_requests()
        client = Registry(settings)
        tags = client.list_tags(repo)
        assert sorted(tags) == sorted(TAGS_23)
        client.manifest_digest(repo, "2.0.0")
        # Only ci's token requests: the log of the admin's seeding may still be landing.
        return client.requests, len([r for r in ts.requests if r.username == "ci"])

    pages = 1  # 23 tags, all in one answer to a request without `n` (maxtags=5 limits only `n`)
    # Cold: ping + token + pages + 1 HEAD (the HEAD reuses the listing's token: same scope).
    assert resolve_once() == (1 + 1 + pages + 1, 1)
    # Warm, new Registry in the same process: host facts and token are cached → pages + 1 HEAD.
    assert resolve_once() == (pages + 1, 0)
    # The same through the resolve core the CLI and the provider use.
    ts.clear_requests()
    pin = resolve_image(settings, repo, VersionRule.build())
    assert pin.tag == "2.0.0" and not [r for r in ts.requests if r.username == "ci"]


# --- token flow variants ------------------------------------------------------------------------


class IdentityTokenGetServer(TokenServer):
    """A token service without OAuth2 (POST → 404) that takes identity tokens over GET as the
    password of the user "<token>" (as ACR and Harbor do)."""

    def authenticate(self, username: str | None, password: str | None) -> str | None:
        if username == "<token>":
            return self._subject_for_refresh(password)
        return super().authenticate(username, password)


def refresh_token_for(ts: TokenServer, user: str, password: str) -> str:
    r = httpx.get(
        ts.realm,
        params={"service": ts.service, "offline_token": "true", "client_id": "dockerfeed-test"},
        auth=(user, password),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["refresh_token"])


def write_docker_config(path: Path, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(path))


@pytest.mark.parametrize("oauth_post", [True, False])
def test_identity_token_from_docker_config(
    oauth_post: bool,
    start_registry: Callable[..., RegistryServer],
    unique_repo: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = {"ci": "ci-" + os.urandom(6).hex(), "admin": "ad-" + os.urandom(6).hex()}
    ts = IdentityTokenGetServer(users=users, grants=TOKEN_GRANTS, oauth_post=oauth_post)
    reg = start_registry("v3", auth="token", users=users, token_server=ts, pusher="admin")
    repo = unique_repo("demo")
    seed(reg, repo, ["1.0", "1.1"])
    identity = refresh_token_for(ts, "ci", users["ci"])
    write_docker_config(tmp_path, {"auths": {reg.host: {"auth": "", "identitytoken": identity}}}, monkeypatch)
    settings = ConnectionSettings(reg.url, use_docker_config=True)
    ts.clear_requests()
    info = check_feed(settings, image=repo)
    assert info.auth_scheme == "bearer"
    assert sorted(Registry(settings).list_tags(repo)) == ["1.0", "1.1"]
    ours = [r for r in ts.requests if r.client_id != "dockerfeed-test"]  # not refresh_token_for()'s
    methods = [(r.method, r.status) for r in ours]
    if oauth_post:
        assert methods == [("POST", 200), ("POST", 200), ("POST", 200)]
        assert all(r.grant_type == "refresh_token" for r in ours)
    else:
        assert methods == [("POST", 404), ("GET", 200)] * 3


def test_access_token_only_answers(
    start_registry: Callable[..., RegistryServer], unique_repo: Callable[[str], str]
) -> None:
    users = {"ci": "ci-" + os.urandom(6).hex(), "admin": "ad-" + os.urandom(6).hex()}
    ts = TokenServer(users=users, grants=TOKEN_GRANTS, legacy_token_field=False)
    reg = start_registry("v3", auth="token", users=users, token_server=ts, pusher="admin")
    repo = unique_repo("demo")
    seed(reg, repo, ["3.0"])
    assert Registry(settings_for(reg)).list_tags(repo) == ["3.0"]


# --- credentials from Docker config and helpers -------------------------------------------------

HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
store = json.load(open({store!r}))
if sys.argv[1] != "get" or server not in store:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = store[server]
json.dump({{"ServerURL": server, "Username": user, "Secret": secret}}, sys.stdout)
"""


def install_helper(
    bin_dir: Path, name: str, store: dict[str, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    store_path = bin_dir / f"{name}.json"
    store_path.write_text(json.dumps(store))
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(HELPER.format(python=sys.executable, store=str(store_path)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("source", ["auths", "credsStore", "credHelpers"])
def test_docker_config_credentials(
    source: str, registry_v3_token: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = registry_v3_token
    password = reg.password_for("ci")
    config: dict[str, Any]
    if source == "auths":
        config = {"auths": {reg.host: {"auth": base64.b64encode(f"ci:{password}".encode()).decode()}}}
    elif source == "credsStore":
        install_helper(tmp_path / "bin", "teststore", {reg.host: ("ci", password)}, monkeypatch)
        config = {"credsStore": "teststore", "auths": {reg.host: {}}}
    else:
        install_helper(tmp_path / "bin", "testhelper", {reg.host: ("ci", password)}, monkeypatch)
        # The per-host helper wins over the store (which would answer "not found").
        install_helper(tmp_path / "bin2", "emptystore", {}, monkeypatch)
        config = {"credsStore": "emptystore", "credHelpers": {reg.host: "testhelper"}}
    write_docker_config(tmp_path / "docker", config, monkeypatch)
    steps: list[tuple[str, str]] = []
    check_feed(
        ConnectionSettings(reg.url, use_docker_config=True), progress=lambda s, d: steps.append((s, d))
    )
    assert dict(steps)["credentials"].startswith("accepted by the token service: user 'ci'")
    # And through the CLI.
    assert cli.main(["test", reg.url, "--docker-config"]) == 0


def test_cli_docker_config_with_a_wrong_password(
    registry_v3_token: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reg = registry_v3_token
    auth = base64.b64encode(b"ci:not-the-password-3").decode()
    write_docker_config(tmp_path, {"auths": {reg.host: {"auth": auth}}}, monkeypatch)
    assert cli.main(["test", reg.url, "--docker-config"]) == 1
    err = capsys.readouterr().err
    assert "rejected user 'ci' from " + str(tmp_path / "config.json") in err
    assert "not-the-password-3" not in err


# --- TLS ----------------------------------------------------------------------------------------


def test_tls_with_ca_without_ca_and_insecure(
    start_registry: Callable[..., RegistryServer], unique_repo: Callable[[str], str]
) -> None:
    reg = start_registry("v3", tls=True)
    assert reg.ca_cert_path is not None
    repo = unique_repo("demo")
    images.push_image(reg.url, repo, "1.0", verify=reg.verify)
    feed = f"https://{reg.host}"
    trusted = ConnectionSettings(feed, ca_certificate=reg.ca_cert_path.read_text())
    assert Registry(trusted).list_tags(repo) == ["1.0"]
    with pytest.raises(TLSFailure) as e:
        check_feed(ConnectionSettings(feed))
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    assert "caCertificate" in str(e.value) and "insecureSkipTlsVerify" in str(e.value)
    assert Registry(ConnectionSettings(feed, insecure_skip_tls_verify=True)).list_tags(repo) == ["1.0"]
    # A plain-http feed address for a TLS server is not a registry answer.
    with pytest.raises(RegistryError):
        check_feed(ConnectionSettings(f"http://{reg.host}"))


def test_plain_http_feed_builds_no_verifying_tls_context(
    registry_v3_paginated: RegistryServer, unique_repo: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the CA bundle costs ~45 ms a process; a plain-http feed must not pay it."""
    import ssl

    reg = registry_v3_paginated
    repo = unique_repo("plain")
    images.push_image(reg.url, repo, "1.0", auth=reg.push_credentials)

    def no_ca_bundle(*args: object, **kwargs: object) -> ssl.SSLContext:
        raise AssertionError("a verifying TLS context was built for a plain-http feed")

    registry_session.reset()
    monkeypatch.setattr(ssl, "create_default_context", no_ca_bundle)
    settings = ConnectionSettings(reg.url, username=reg.username, password=reg.password)
    assert Registry(settings).list_tags(repo) == ["1.0"]
    registry_session.reset()


def test_https_feed_for_a_plain_http_registry(registry_v3_paginated: RegistryServer) -> None:
    with pytest.raises(TLSFailure, match=f"does not speak TLS.*http://{registry_v3_paginated.host}"):
        check_feed(ConnectionSettings(f"https://{registry_v3_paginated.host}"))


def test_one_connection_serves_heads_listings_and_error_answers(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A response dropped unread (a HEAD's included) used to cost its connection: every HEAD
    after the first opened a new one. Each request now leaves the connection reusable."""
    import socket

    reg = registry_v3_token
    repo = unique_repo("demo")
    for tag in ("1.0", "1.1", "2.0"):
        images.push_image(reg.url, repo, tag, auth=reg.push_credentials)
    registry_port = int(reg.url.rsplit(":", 1)[1])
    connects: list[object] = []
    real_connect = socket.socket.connect

    def counting_connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[1] == registry_port:
            connects.append(address)
        real_connect(self, address)

    registry_session.reset()
    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    settings = ConnectionSettings(reg.url, username=reg.username, password=reg.password)
    r = Registry(settings)
    tags = r.list_tags(repo)
    for tag in tags:
        r.manifest_digest(repo, tag)
    with pytest.raises(RegistryError):
        r.manifest_digest(repo, "9.9")  # 404 to a HEAD
    with pytest.raises(RegistryError):
        r.list_tags(f"{repo}-missing")  # 404 with a JSON error body
    assert r.list_tags(repo) == tags
    assert len(connects) == 1, f"{len(connects)} connections to the registry for one client"
    registry_session.reset()


# --- proxies from the environment ------------------------------------------------------------


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy variable from the outer environment; fresh clients before and after."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    registry_session.reset()
    yield monkeypatch
    registry_session.reset()


def test_http_proxy_from_the_environment_carries_every_request(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str], proxy_env: pytest.MonkeyPatch
) -> None:
    from tests.support.forwardproxy import ForwardProxy

    reg = registry_v3_token
    repo = unique_repo("demo")
    images.push_image(reg.url, repo, "1.0", auth=reg.push_credentials)
    with ForwardProxy(credentials=("proxyuser", "proxy-secret-7")) as proxy:
        proxy_env.setenv("HTTP_PROXY", proxy.url_with_credentials())
        settings = ConnectionSettings(reg.url, username=reg.username, password=reg.password)
        pin = resolve_image(settings, repo, VersionRule.build())
    assert pin.tag == "1.0"
    targets = [target for _, target, _ in proxy.log]
    # Registry and token service both went through the proxy, with its credentials.
    assert any(t.startswith(f"{reg.url}/v2/{repo}/tags/list") for t in targets), targets
    assert any(t.startswith(reg.token_server.realm) for t in targets), targets  # type: ignore[union-attr]
    assert all(ok for _, _, ok in proxy.log)


def test_no_proxy_skips_the_proxy(
    registry_v3_paginated: RegistryServer, unique_repo: Callable[[str], str], proxy_env: pytest.MonkeyPatch
) -> None:
    from tests.support.forwardproxy import ForwardProxy

    reg = registry_v3_paginated
    repo = unique_repo("direct")
    images.push_image(reg.url, repo, "1.0", auth=reg.push_credentials)
    with ForwardProxy() as proxy:
        proxy_env.setenv("http_proxy", proxy.url)
        proxy_env.setenv("no_proxy", "example.com,127.0.0.1")
        settings = ConnectionSettings(reg.url, username=reg.username, password=reg.password)
        assert Registry(settings).list_tags(repo) == ["1.0"]
    assert proxy.log == []


def test_https_proxy_tunnels_and_the_feed_ca_still_verifies(
    start_registry: Callable[..., RegistryServer],
    unique_repo: Callable[[str], str],
    proxy_env: pytest.MonkeyPatch,
) -> None:
    from tests.support.forwardproxy import ForwardProxy

    reg = start_registry("v3", tls=True)
    assert reg.ca_cert_path is not None
    repo = unique_repo("tunnel")
    images.push_image(reg.url, repo, "1.0", verify=reg.verify)
    with ForwardProxy() as proxy:
        proxy_env.setenv("HTTPS_PROXY", proxy.url.removeprefix("http://"))  # no scheme: http, as curl
        trusted = ConnectionSettings(f"https://{reg.host}", ca_certificate=reg.ca_cert_path.read_text())
        assert Registry(trusted).list_tags(repo) == ["1.0"]
        with pytest.raises(TLSFailure, match="CERTIFICATE_VERIFY_FAILED"):
            Registry(ConnectionSettings(f"https://{reg.host}")).list_tags(repo)
    assert ("CONNECT", reg.host, True) in proxy.log


def test_unreachable_proxy_is_named_without_its_password(
    registry_v3_paginated: RegistryServer, proxy_env: pytest.MonkeyPatch
) -> None:
    proxy_env.setenv("HTTP_PROXY", f"http://proxyuser:proxy-secret-9@127.0.0.1:{free_port()}")
    with pytest.raises(Unreachable) as e:
        Registry(ConnectionSettings(registry_v3_paginated.url)).list_tags("demo/none")
    message = str(e.value)
    # The proxy is what did not answer: the message says so, not "is the registry running".
    assert "could not connect to the proxy http://127.0.0.1:" in message and "no_proxy" in message, message
    assert "is the proxy running" in message and "registry running" not in message, message
    assert "proxy-secret-9" not in message and "proxyuser" not in message


def test_unusable_proxy_url_is_a_clear_error(
    registry_v3_paginated: RegistryServer, proxy_env: pytest.MonkeyPatch
) -> None:
    proxy_env.setenv("HTTP_PROXY", "ftp://user:hidden-pw@proxy.example:21")
    with pytest.raises(InvalidConfiguration) as e:
        Registry(ConnectionSettings(registry_v3_paginated.url)).list_tags("demo/none")
    message = str(e.value)
    assert "proxy" in message and "not usable" in message and "hidden-pw" not in message, message


# --- secrets never leak -------------------------------------------------------------------------


def test_password_never_in_logs_errors_reprs_or_cli_output(
    registry_v2_htpasswd: RegistryServer,
    registry_v3_token: RegistryServer,
    unique_repo: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "dockerfeed"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    repo = unique_repo("demo")
    seed(registry_v3_token, repo, ["1.0"])
    wrong = "Wr0ng-" + os.urandom(8).hex()
    secrets = {wrong, *(registry_v3_token.password_for(u) for u in registry_v3_token.users)}
    secrets.add(registry_v2_htpasswd.password_for("ci"))
    texts: list[str] = []

    def attempt(fn: Callable[[], object]) -> None:
        try:
            fn()
        except RegistryError as e:
            texts.extend([str(e), repr(e), repr(e.args)])

    for reg in (registry_v2_htpasswd, registry_v3_token):
        good, bad = settings_for(reg), settings_for(reg, password=wrong)
        attempt(lambda s=bad: check_feed(s))
        attempt(lambda s=bad: Registry(s).list_tags(repo))
        attempt(lambda s=good: Registry(s).list_tags("demo/does-not-exist"))
        texts.extend([repr(good), repr(bad), repr(Registry(good)), repr(Registry(good).auth)])
    nopull = settings_for(registry_v3_token, user="nopull")
    attempt(lambda: Registry(nopull).list_tags(repo))
    attempt(lambda: check_feed(nopull, image=repo))
    texts.append(repr(Registry(nopull).credentials))
    # The CLI, password from the environment and from stdin, for every command and --json.
    monkeypatch.setenv("DOCKERFEED_PASSWORD", wrong)
    for argv in (
        ["test", registry_v3_token.url, "-u", "ci"],
        ["test", registry_v3_token.url, "-u", "ci", "--json"],
        ["tags", registry_v3_token.url, repo, "-u", "ci"],
        ["search", registry_v3_token.url, "-u", "ci"],
        ["resolve", registry_v3_token.url, repo, "-u", "ci"],
        ["tags", registry_v2_htpasswd.url, repo, "-u", "ci"],
    ):
        assert cli.main(argv) == 1
    monkeypatch.setenv("DOCKERFEED_PASSWORD", registry_v3_token.password_for("nopull"))
    assert cli.main(["test", registry_v3_token.url, "-u", "nopull", "--image", repo]) == 1
    out = capsys.readouterr()
    texts.extend([out.out, out.err, caplog.text])
    assert "rejected user 'ci'" in out.err and "no permission" in out.err
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert base64.b64encode(f"ci:{secret}".encode()).decode() not in text
