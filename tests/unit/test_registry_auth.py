"""Auth flow, token cache, transport errors and credential sources of the registry client.

MockTransport replays a distribution-style token flow; each test pins one rule of
docs/design.md, "Registry quirks, and where they are handled".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockerfeed.registry import (
    AccessDenied,
    BadCredentials,
    ConnectionSettings,
    InvalidConfiguration,
    ProtocolError,
    Registry,
    TLSFailure,
    Unreachable,
)
from dockerfeed.registry.credentials import docker_config_credentials, resolve_credentials
from dockerfeed.registry.session import Limits
from tests.support.recorded import V2, basic_credentials, use

CHALLENGE = 'Bearer realm="https://auth.example.com/token",service="r.example.com"'


class TokenRegistry:
    """A bearer registry whose token service grants `grants[user]` (scopes) and logs requests."""

    def __init__(
        self,
        users: dict[str, str],
        grants: dict[str | None, set[str]],
        *,
        oauth: bool = True,
        legacy_field: bool = True,
        refresh_tokens: dict[str, str] | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        self.users = users
        self.grants = grants
        self.oauth = oauth
        self.legacy_field = legacy_field
        self.refresh_tokens = refresh_tokens or {}
        self.body = body or {"expires_in": 300}
        self.issued = 0

    def token(self, subject: str | None, scopes: list[str]) -> httpx.Response:
        granted = [s for s in scopes if s in self.grants.get(subject, set())]
        self.issued += 1
        token = f"{subject}|{self.issued}|" + " ".join(granted)
        key = "token" if self.legacy_field else "access_token"
        return httpx.Response(200, json={key: token, **self.body})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            if request.method == "POST":
                if not self.oauth:
                    return httpx.Response(404, text="404 page not found")
                form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
                subject = self.refresh_tokens.get(form.get("refresh_token", ""))
                if subject is None:
                    return httpx.Response(401, json={"error": "invalid_grant"})
                scopes = httpx.QueryParams(request.content.decode()).get("scope", "").split()
                return self.token(subject, scopes)
            creds = basic_credentials(request)
            subject = None
            if creds is not None:
                user, password = creds
                if user == "<token>" and password in self.refresh_tokens:
                    subject = self.refresh_tokens[password]
                elif self.users.get(user) != password:
                    return httpx.Response(401, json={"details": "incorrect username or password"})
                else:
                    subject = user
            return self.token(subject, request.url.params.get_list("scope"))
        header = request.headers.get("authorization", "")
        if request.url.path == "/v2/":
            if header.startswith("Bearer "):
                return httpx.Response(200, headers=V2, json={})
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": CHALLENGE})
        if request.url.path.endswith("/tags/list"):
            repo = request.url.path[len("/v2/") : -len("/tags/list")]
            scope = f"repository:{repo}:pull"
            if not header.startswith("Bearer "):
                return httpx.Response(
                    401, headers={**V2, "WWW-Authenticate": CHALLENGE + f',scope="{scope}"'}
                )
            if scope not in header:
                challenge = CHALLENGE + f',scope="{scope}",error="insufficient_scope"'
                return httpx.Response(401, headers={**V2, "WWW-Authenticate": challenge})
            return httpx.Response(200, headers=V2, json={"name": repo, "tags": ["1.0"]})
        return httpx.Response(404, headers=V2)


def token_requests(seen: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in seen if r.url.host == "auth.example.com"]


# --- insufficient_scope -------------------------------------------------------------------------


def test_insufficient_scope_with_a_fresh_token_is_access_denied_after_one_token() -> None:
    server = TokenRegistry({"nopull": "pw"}, {})
    seen = use(server)
    reg = Registry(ConnectionSettings("https://r.example.com", username="nopull", password="pw"))
    with pytest.raises(AccessDenied, match="user 'nopull' from settings was accepted but has no permission"):
        reg.list_tags("team/app")
    # Re-asking the token service for exactly the same scopes cannot change its answer.
    assert len(token_requests(seen)) == 1


def test_insufficient_scope_with_a_cached_token_refetches_once() -> None:
    server = TokenRegistry({"ci": "pw"}, {"ci": set()})
    seen = use(server)
    settings = ConnectionSettings("https://r.example.com", username="ci", password="pw")
    with pytest.raises(AccessDenied):
        Registry(settings).list_tags("team/app")
    # The user is granted pull meanwhile; the cached (empty) token must not stick until expiry.
    server.grants["ci"] = {"repository:team/app:pull"}
    seen.clear()
    assert Registry(settings).list_tags("team/app") == ["1.0"]
    assert [(r.url.host, r.url.path) for r in seen] == [
        ("r.example.com", "/v2/team/app/tags/list"),
        ("auth.example.com", "/token"),
        ("r.example.com", "/v2/team/app/tags/list"),
    ]


# --- token cache --------------------------------------------------------------------------------


def test_token_cache_is_per_identity() -> None:
    server = TokenRegistry({"a": "pa", "b": "pb"}, {"a": {"repository:x:pull"}, "b": {"repository:x:pull"}})
    seen = use(server)
    for user in ("a", "b", "a", "b"):
        settings = ConnectionSettings("https://r.example.com", username=user, password=f"p{user}")
        Registry(settings).list_tags("x")
    assert [basic_credentials(r) for r in token_requests(seen)] == [("a", "pa"), ("b", "pb")]


def test_token_cache_honours_issued_at_and_at_least_60_seconds() -> None:
    clock = [1_700_000_000.0]
    # expires_in 5 counts as 60; issued_at 20 s ago leaves 40 s (minus the renewal margin).
    server = TokenRegistry(
        {"ci": "pw"},
        {"ci": {"repository:x:pull"}},
        body={"expires_in": 5, "issued_at": "2023-11-14T22:13:00Z"},
    )
    seen = use(server, clock=lambda: clock[0])
    settings = ConnectionSettings("https://r.example.com", username="ci", password="pw")
    Registry(settings).list_tags("x")
    clock[0] += 25  # 45 s after issue: still good
    Registry(settings).list_tags("x")
    assert len(token_requests(seen)) == 1
    clock[0] += 10  # 55 s after issue: inside the margin, renew
    Registry(settings).list_tags("x")
    assert len(token_requests(seen)) == 2


def test_token_born_expired_is_still_used_for_its_request() -> None:
    # A token service whose clock runs 100 s late: every token looks expired on arrival.
    clock = [1_700_000_000.0]
    server = TokenRegistry(
        {"ci": "pw"},
        {"ci": {"repository:x:pull"}},
        body={"expires_in": 60, "issued_at": "2023-11-14T22:11:40Z"},
    )
    seen = use(server, clock=lambda: clock[0])
    assert Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw")).list_tags(
        "x"
    ) == ["1.0"]
    assert len(token_requests(seen)) == 1


def test_access_token_only_answer_is_accepted() -> None:
    seen = use(TokenRegistry({"ci": "pw"}, {"ci": {"repository:x:pull"}}, legacy_field=False))
    assert Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw")).list_tags(
        "x"
    ) == ["1.0"]
    assert len(token_requests(seen)) == 1


# --- identity tokens ----------------------------------------------------------------------------


def identity_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str) -> ConnectionSettings:
    config = {"auths": {"r.example.com": {"auth": "", "identitytoken": token}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    return ConnectionSettings("https://r.example.com", use_docker_config=True)


def test_identity_token_uses_the_oauth2_post(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = TokenRegistry({}, {"ci": {"repository:x:pull"}}, refresh_tokens={"rt-123": "ci"})
    seen = use(server)
    settings = identity_settings(tmp_path, monkeypatch, "rt-123")
    assert Registry(settings).list_tags("x") == ["1.0"]
    post = token_requests(seen)[0]
    form = httpx.QueryParams(post.content.decode())
    assert post.method == "POST"
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "rt-123"
    assert form["scope"] == "repository:x:pull" and form["client_id"] and form["service"] == "r.example.com"


def test_identity_token_falls_back_to_get_on_404_in_listing_and_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = TokenRegistry({}, {"ci": {"repository:x:pull"}}, oauth=False, refresh_tokens={"rt-123": "ci"})
    seen = use(server)
    settings = identity_settings(tmp_path, monkeypatch, "rt-123")
    reg = Registry(settings)
    assert "accepted by the token service" in reg.validate(reg.ping())
    assert Registry(settings).list_tags("x") == ["1.0"]
    assert [(r.method, basic_credentials(r)) for r in token_requests(seen)] == [
        ("POST", None),
        ("GET", ("<token>", "rt-123")),
        ("POST", None),
        ("GET", ("<token>", "rt-123")),
    ]


# --- validation and errors ----------------------------------------------------------------------


def test_bad_credentials_name_the_token_service_its_service_and_the_user() -> None:
    use(TokenRegistry({"ci": "right"}, {}))
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="wrong-pw-123"))
    with pytest.raises(BadCredentials) as e:
        reg.validate(reg.ping())
    text = str(e.value)
    assert "https://auth.example.com/token (service 'r.example.com') rejected user 'ci'" in text
    assert "wrong-pw-123" not in text and "wrong-pw-123" not in repr(e.value)


def test_unreachable_token_service_is_named_not_the_registry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(401, headers={**V2, "WWW-Authenticate": CHALLENGE})

    use(handler)
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw"))
    info = reg.ping()
    with pytest.raises(Unreachable, match=r"GET https://auth.example.com/token\?.* could not connect"):
        reg.validate(info)
    with pytest.raises(
        Unreachable, match=r"auth.example.com/token.*while sending GET https://r.example.com/v2/x"
    ):
        reg.list_tags("x")


@pytest.mark.parametrize(
    "message",
    ["[Errno -2] Name or service not known", "[Errno -3] Temporary failure in name resolution"],
)
def test_dns_failure_is_reported_as_dns(message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(message, request=request)

    use(handler)
    with pytest.raises(Unreachable, match=r"'nowhere.example.com' does not resolve \(DNS\)"):
        Registry(ConnectionSettings("nowhere.example.com")).ping()


def test_https_to_a_plain_http_server_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)", request=request
        )

    use(handler)
    with pytest.raises(TLSFailure, match=r"does not speak TLS.*http://r\.example\.com:5000"):
        Registry(ConnectionSettings("https://r.example.com:5000")).ping()


def test_unusable_ca_certificate_is_an_input_error() -> None:
    with pytest.raises(InvalidConfiguration, match="caCertificate is not a usable PEM"):
        Registry(
            ConnectionSettings("https://r.example.com", ca_certificate="-----BEGIN CERTIFICATE-----\nnope\n")
        )


def test_redirect_to_another_host_drops_authorization() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.net":
            return httpx.Response(200, headers=V2, json={"tags": ["1.0"]})
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": 'Basic realm="r"'})
        if basic_credentials(request) is None:
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": 'Basic realm="r"'})
        return httpx.Response(307, headers={"Location": "https://cdn.example.net/list?sig=abc"})

    seen = use(handler)
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw"))
    assert reg.list_tags("app") == ["1.0"]
    cdn = [r for r in seen if r.url.host == "cdn.example.net"]
    assert cdn and all("authorization" not in r.headers for r in cdn)


def test_page_body_is_not_read_past_the_cap() -> None:
    sent: list[int] = []

    class Endless(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'{"tags": ['
            for _ in range(10_000):
                sent.append(1)
                yield b'"x",' * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": 'Basic realm="r"'})
        return httpx.Response(200, headers=V2, stream=Endless())

    use(handler, limits=Limits(page_bytes=64 * 1024))
    reg = Registry(ConnectionSettings("https://r.example.com", username="ci", password="pw"))
    with pytest.raises(ProtocolError, match="more than 65536 bytes"):
        reg.list_tags("app")
    assert len(sent) < 100


def test_catalog_steps_down_to_the_servers_default_page() -> None:
    # distribution with catalog.maxentries=5: any n above 5 is a 400; without n it pages by 5.
    repos = [f"demo/r{i}" for i in range(12)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        n = int(request.url.params.get("n", "5"))
        if n > 5:
            body = {"errors": [{"code": "PAGINATION_NUMBER_INVALID", "detail": {"n": n}}]}
            return httpx.Response(400, headers=V2, json=body)
        last = request.url.params.get("last")
        start = repos.index(last) + 1 if last else 0
        page = repos[start : start + n]
        headers = dict(V2)
        if start + n < len(repos):
            headers["Link"] = f'</v2/_catalog?last={page[-1]}&n={n}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"repositories": page})

    seen = use(handler)
    assert Registry(ConnectionSettings("https://r.example.com")).catalog() == repos
    assert [r.url.params.get("n") for r in seen[1:]] == ["10000", "1000", "100", None, "5", "5"]


# --- credentials --------------------------------------------------------------------------------


def test_docker_config_auths_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = base64.b64encode(b"ci:pa:ss").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"https://r.example.com": {"auth": entry}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    creds = docker_config_credentials(ConnectionSettings("r.example.com").address)
    assert creds is not None and (creds.username, creds.password) == ("ci", "pa:ss")
    assert "pa:ss" not in repr(creds)


def test_explicit_credentials_win_over_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "does-not-exist"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    settings = ConnectionSettings("r.example.com", username="u", password="p", use_docker_config=True)
    creds = resolve_credentials(settings)
    assert creds is not None and creds.source == "settings"


def test_missing_credential_helper_is_an_actionable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"r.example.com": "nosuchhelper"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(BadCredentials, match="docker-credential-nosuchhelper is not on PATH"):
        resolve_credentials(ConnectionSettings("r.example.com", use_docker_config=True))


def test_secrets_stay_out_of_reprs() -> None:
    settings = ConnectionSettings("r.example.com", username="ci", password="hunter2-secret")
    reg = Registry(settings)
    for obj in (settings, reg.credentials, reg.auth, reg):
        assert "hunter2-secret" not in repr(obj)


def test_concurrent_misses_fetch_one_token_per_scope() -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    gate = threading.Barrier(16)
    server = TokenRegistry({"ci": "pw"}, {"ci": {"repository:x:pull", "repository:y:pull"}})

    def slow_token_service(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            time.sleep(0.05)  # widen the window in which every thread misses the cache
        return server(request)

    seen = use(slow_token_service)
    settings = ConnectionSettings("https://r.example.com", username="ci", password="pw")
    Registry(settings).ping()

    def one(i: int) -> list[str]:
        gate.wait()
        return Registry(settings).list_tags("x" if i % 2 else "y")

    with ThreadPoolExecutor(16) as pool:
        assert all(tags == ["1.0"] for tags in pool.map(one, range(16)))
    scopes = sorted(r.url.params["scope"] for r in token_requests(seen))
    assert scopes == ["repository:x:pull", "repository:y:pull"]
