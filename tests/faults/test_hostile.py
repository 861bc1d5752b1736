"""Hostile registries: answers built to exhaust memory or the stack, steal credentials or slip a
wrong digest in. Each must be refused with a clear error, with memory bounded and nothing sent
where it must not go.

Most go through the FaultProxy in front of the real registry; the https-only cases (a plain-http
realm for an https feed) use httpx.MockTransport, since the local registries speak plain http.
"""

from __future__ import annotations

import gc
import hashlib
import json
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from dockerfeed.registry import ConnectionSettings, ProtocolError, Registry, RegistryError
from tests.faults.conftest import APP, APP_STABLE, LIB, LIB_LATEST, Seeded
from tests.faults.helpers import CliRun, assert_clean_failure, feed_args, run_cli
from tests.support.faultproxy import (
    Action,
    FaultProxy,
    drop_headers,
    redirect,
    respond,
    rewrite_body,
    set_headers,
    stream,
)
from tests.support.recorded import use

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MiB = 1024 * 1024
TOKEN = r"^/token\?"
LIB_TAGS = r"^/v2/demo/lib/tags/list"


@pytest.fixture(autouse=True)
def _password_env(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERFEED_PASSWORD", seeded.password)


@pytest.fixture
def other_host() -> Iterator[FaultProxy]:
    """Another origin (localhost instead of 127.0.0.1, its own port) that records what it gets."""
    with FaultProxy(None, lifetime=120) as other:
        yield other


def settings(proxy: FaultProxy, seeded: Seeded) -> ConnectionSettings:
    return ConnectionSettings(feed_uri=proxy.host, username="ci", password=seeded.password)


def peak_while(fn: object) -> tuple[BaseException | None, int]:
    """Run fn() under tracemalloc; return what it raised and the peak of traced memory."""
    assert callable(fn)
    gc.collect()
    tracemalloc.start()
    try:
        try:
            fn()
        except BaseException as e:
            return e, tracemalloc.get_traced_memory()[1]
        return None, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------- big bodies


@pytest.mark.parametrize("announce_length", [True, False], ids=["content-length", "chunked"])
def test_50mb_tags_page_is_refused_with_memory_bounded(
    seeded: Seeded, proxy: FaultProxy, announce_length: bool
) -> None:
    proxy.add("GET", LIB_TAGS, stream(50 * MiB, announce_length=announce_length))
    reg = Registry(settings(proxy, seeded))
    error, peak = peak_while(lambda: reg.list_tags(LIB))
    assert isinstance(error, ProtocolError), repr(error)
    assert f"GET {proxy.url}/v2/{LIB}/tags/list" in str(error)
    assert "limit" in str(error) or "more than" in str(error)
    # The page cap is 32 MiB: never the whole 50 MB, never a second copy of the cap.
    assert peak < 40 * MiB, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize(
    "announce_length",
    [
        pytest.param(True, id="content-length"),
        pytest.param(False, id="chunked"),
    ],
)
def test_50mb_token_response_is_refused_with_memory_bounded(
    seeded: Seeded, proxy: FaultProxy, announce_length: bool
) -> None:
    proxy.add(
        "GET",
        TOKEN,
        stream(50 * MiB, head=b'{"token":"', filler=b"a", tail=b'"}', announce_length=announce_length),
    )
    reg = Registry(settings(proxy, seeded))
    error, peak = peak_while(lambda: reg.list_tags(LIB))
    assert isinstance(error, RegistryError), repr(error)
    assert f"{proxy.url}/token" in str(error)
    assert peak < 40 * MiB, f"peak {peak / MiB:.1f} MiB"


# --------------------------------------------------------------------------- deeply nested JSON


def nested(depth: int) -> bytes:
    return b'{"name":"demo/lib","tags":' + b"[" * depth + b"]" * depth + b"}"


def test_deeply_nested_tags_page_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", LIB_TAGS, rewrite_body(lambda _b: nested(200_000), "nested json"))
    run = run_cli(capsys, ["tags", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, f"GET {proxy.url}/v2/{LIB}/tags/list", "JSON")


def test_deeply_nested_token_response_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", TOKEN, respond(200, b'{"token":' + b"[" * 200_000 + b"]" * 200_000 + b"}"))
    run = run_cli(capsys, ["tags", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, f"token service {proxy.url}/token", secrets=[seeded.password])


# ------------------------------------------------------------------------------- token answers


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"expires_in": 300, "issued_at": "2024-01-01T00:00:00Z"}, "without a token"),
        ({"token": "", "access_token": None}, "without a token"),
        ({"token": 12345}, "without a token"),
        ("not json at all", "not valid JSON"),
        ('["token"]', "not an object"),
    ],
    ids=["no-token", "empty-token", "number-token", "not-json", "array"],
)
def test_token_response_without_a_usable_token_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, body: object, said: str
) -> None:
    proxy.add("GET", TOKEN, respond(200, body), times=10)  # type: ignore[arg-type]
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, f"token service {proxy.url}/token", said, secrets=[seeded.password])


def test_test_command_refuses_a_token_response_without_a_token(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", TOKEN, respond(200, {"expires_in": 60}), times=10)
    run = run_cli(capsys, ["test", *feed_args(proxy.host)])
    assert_clean_failure(run, "without a token", secrets=[seeded.password])


# ------------------------------------------------------------------- where credentials may go


def mock_registry(realm: str) -> list[httpx.Request]:
    """An https registry whose challenge sends clients to `realm`; records every request."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "registry.example.com":
            return httpx.Response(
                401,
                headers={
                    "Docker-Distribution-API-Version": "registry/2.0",
                    "WWW-Authenticate": f'Bearer realm="{realm}",service="registry.example.com"',
                },
            )
        return httpx.Response(200, json={"token": "stolen"})

    use(handle)
    return seen


@pytest.mark.parametrize("command", ["test", "tags", "resolve"])
def test_plain_http_realm_on_another_host_for_an_https_feed_gets_no_credentials(
    capsys: pytest.CaptureFixture[str], command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "hunter2-" + hashlib.sha256(command.encode()).hexdigest()[:12]
    monkeypatch.setenv("DOCKERFEED_PASSWORD", password)
    seen = mock_registry("http://auth.evil.example/token")
    argv = [command, "https://registry.example.com", "-u", "ci"] + ([] if command == "test" else ["team/app"])
    run = run_cli(capsys, argv)
    assert_clean_failure(run, "http://auth.evil.example/token", "not https", secrets=[password])
    assert [r for r in seen if r.url.host != "registry.example.com"] == []


def test_https_realm_on_another_host_is_normal_and_used(capsys: pytest.CaptureFixture[str]) -> None:
    # The contrast case: Docker Hub's realm lives on auth.docker.io. Only the realm may see them.
    seen = mock_registry("https://auth.example.net/token")
    run_cli(capsys, ["test", "https://registry.example.com", "-u", "ci"])  # DOCKERFEED_PASSWORD is set
    hosts = [r.url.host for r in seen]
    assert "auth.example.net" in hosts and set(hosts) == {"registry.example.com", "auth.example.net"}


def test_redirect_to_another_host_does_not_carry_authorization(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, other_host: FaultProxy
) -> None:
    other_host.add(None, ".*", respond(200, {"name": LIB, "tags": ["0.1.0", "0.2.0", "0.3.0"]}), times=100)
    proxy.add("GET", LIB_TAGS, redirect(f"http://localhost:{other_host.port}/v2/{LIB}/tags/list"), times=100)
    run = run_cli(capsys, ["tags", *feed_args(proxy.host), LIB, "--json"])
    assert other_host.log, "the redirect was not followed at all"
    assert [e for e in other_host.log if e.authorized] == []
    assert [e for e in proxy.requests("GET", LIB_TAGS) if e.auth_scheme == "bearer"]  # it had one
    assert seeded.password not in run.text


def test_redirect_to_another_host_that_challenges_gets_no_credentials(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, other_host: FaultProxy
) -> None:
    evil_realm = f"http://localhost:{other_host.port}/token"
    other_host.add(
        None,
        r"^/v2/",
        respond(401, "", {"WWW-Authenticate": f'Bearer realm="{evil_realm}",service="evil"'}),
        times=100,
    )
    other_host.add(None, r"^/token", respond(200, {"token": "evil-token"}), times=100)
    proxy.add("GET", LIB_TAGS, redirect(f"http://localhost:{other_host.port}/v2/{LIB}/tags/list"), times=100)
    run = run_cli(capsys, ["tags", *feed_args(proxy.host), LIB, "--json"])
    assert seeded.password not in run.text
    assert [e for e in other_host.log if e.authorized] == [], other_host.log


def test_redirect_loop_is_bounded(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", LIB_TAGS, redirect(f"/v2/{LIB}/tags/list?n=10000"), times=1000)
    run = run_cli(capsys, ["tags", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, f"GET {proxy.url}/v2/{LIB}/tags/list", "redirect")
    assert len(proxy.requests("GET", LIB_TAGS)) <= 25


@pytest.mark.parametrize(
    "link",
    [
        "file:///etc/passwd",
        "file:///v2/demo/lib/tags/list?last=0.3.0",
        "https://registry.example.org/v2/demo/lib/tags/list?last=0.3.0",
        "//localhost:1/v2/demo/lib/tags/list?last=0.3.0",
        "ftp://127.0.0.1/v2/demo/lib/tags/list",
    ],
)
def test_link_to_file_or_another_host_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, link: str
) -> None:
    proxy.add("GET", LIB_TAGS, set_headers(Link=f'<{link}>; rel="next"'))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, "another origin", "refusing", f"GET {proxy.url}/v2/{LIB}/tags/list")
    assert len(proxy.requests("GET", LIB_TAGS)) == 1


# -------------------------------------------------------------------------- manifests, digests


def test_manifest_body_not_matching_its_digest_header_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    # HEAD gives no digest, so the client GETs and hashes; the body was altered on the way.
    proxy.add("HEAD", r"^/v2/demo/lib/manifests/", drop_headers("Docker-Content-Digest"))
    proxy.add("GET", r"^/v2/demo/lib/manifests/", rewrite_body(lambda b: b + b"\n", "append newline"))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB])
    assert_clean_failure(
        run, f"GET {proxy.url}/v2/{LIB}/manifests/0.3.0", seeded.digest(LIB, "0.3.0"), "does not match"
    )


def test_manifest_without_digest_header_is_hashed_and_correct(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("HEAD", r"^/v2/demo/lib/manifests/", respond(405))
    proxy.add("GET", r"^/v2/demo/lib/manifests/", drop_headers("Docker-Content-Digest"))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB, "--json"])
    assert run.rc == 0, run.text
    assert run.json()["digest"] == seeded.digest(LIB, "0.3.0")


def test_manifest_header_naming_another_digest_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    other = seeded.digest(APP, APP_STABLE)
    proxy.add("HEAD", r"^/v2/demo/lib/manifests/", respond(405))
    proxy.add("GET", r"^/v2/demo/lib/manifests/", set_headers(Docker_Content_Digest=other))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, other, "does not match")


def test_oversized_manifest_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("HEAD", r"^/v2/demo/lib/manifests/", respond(405))
    proxy.add("GET", r"^/v2/demo/lib/manifests/", stream(8 * MiB, head=b"{", filler=b" ", tail=b"}"))
    run: CliRun = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB])
    assert_clean_failure(run, f"GET {proxy.url}/v2/{LIB}/manifests/0.3.0", "limit")


# ------------------------------------------------------------- registry data that is not a tag

# A "tag" that, put into a URL path, addresses another repository's manifest:
# /v2/demo/lib/manifests/zz/../../../other/secret/manifests/1.0?x=1 is
# /v2/demo/other/secret/manifests/1.0 once the dot segments are resolved.
TRAVERSAL = "zz/../../../other/secret/manifests/1.0?x=1"
SECRET_REPO = "demo/other/secret"


@pytest.fixture
def secret_repo(seeded: Seeded) -> str:
    """Another repository the test user may pull: what the traversal would reach."""
    from tests.support.images import seed_tags

    return seed_tags(seeded.server.url, SECRET_REPO, ["1.0"], auth=seeded.server.push_credentials)["1.0"]


def listing_also(*entries: str) -> Action:
    """Forward demo/lib's tag listing with `entries` added to it."""

    def add(body: bytes) -> bytes:
        data = json.loads(body)
        data["tags"] = [*data["tags"], *entries]
        return json.dumps(data).encode()

    return rewrite_body(add, f"list {entries!r} too")


def only_lib_requests(proxy: FaultProxy) -> list[str]:
    """The registry requests (beyond the ping) that named another repository than demo/lib."""
    return [
        f"{e.method} {e.path}"
        for e in proxy.log
        if e.path.startswith("/v2/") and e.path != "/v2/" and not e.path.startswith(f"/v2/{LIB}/")
    ]


def test_a_listed_traversal_is_skipped_and_never_becomes_a_path(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, secret_repo: str
) -> None:
    # alphabetical: `zz/…` sorts after every real tag, so it would be the winner.
    proxy.add("GET", LIB_TAGS, listing_also(TRAVERSAL))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB, "--strategy", "alphabetical", "--json"])
    assert run.rc == 0, run.text
    pin = run.json()
    assert (pin["tag"], pin["digest"]) == (LIB_LATEST, seeded.digest(LIB, LIB_LATEST))
    assert pin["digest"] != secret_repo
    assert ".." not in pin["imageRef"] and "secret" not in pin["imageRef"]
    assert only_lib_requests(proxy) == []


def test_a_listing_of_only_hostile_entries_explains_what_was_skipped(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, secret_repo: str
) -> None:
    proxy.add("GET", LIB_TAGS, listing_also(TRAVERSAL, "zz\x1b[31m", "-zz", "z" * 200))
    run = run_cli(
        capsys, ["resolve", *feed_args(proxy.host), LIB, "--strategy", "alphabetical", "--include", "^zz"]
    )
    # No real tag matches `^zz`, and none of the entries that do is a tag: nothing is pinned,
    # and the explanation counts and shows what was skipped (escaped, never raw bytes).
    assert_clean_failure(run, "no tag matched", "4 listed entries are not a valid tag name", repr(TRAVERSAL))
    assert "\x1b" not in run.err
    assert only_lib_requests(proxy) == []
