"""The Session owns the registry client's process state (issue 12), and error messages carry the
registry's own errors[] words. Replayed through httpx.MockTransport."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from dockerfeed.registry import (
    AccessDenied,
    BadCredentials,
    ConnectionSettings,
    CredentialsRequired,
    NotFound,
    Registry,
    RegistryError,
    Session,
    default_session,
)
from dockerfeed.registry import session as registry_session
from dockerfeed.registry._http import registry_errors
from dockerfeed.registry.retry import RetryPolicy
from dockerfeed.resolve import resolve_image
from dockerfeed.versions import VersionRule
from tests.support.recorded import V2

FEED = "https://r.example.com"
DIGEST = "sha256:" + "b" * 64
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="https://auth.example.com/token",service="r"'}


def bearer(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.example.com":
            return httpx.Response(200, json={"token": f"t{len(seen)}", "expires_in": 300})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return httpx.Response(401, headers={**V2, **CHALLENGE})
        if request.url.path.endswith("/tags/list"):
            return httpx.Response(200, headers=V2, json={"tags": ["1.0.0", "1.1.0"]})
        if "/manifests/" in request.url.path:
            return httpx.Response(200, headers={**V2, "Docker-Content-Digest": DIGEST})
        return httpx.Response(200, headers=V2)

    return httpx.MockTransport(handler)


# --- the session owns the state ------------------------------------------------------------------


def test_a_registry_uses_the_session_it_is_given_and_not_the_default() -> None:
    seen: list[httpx.Request] = []
    mine = Session(transport=bearer(seen), retry=RetryPolicy(sleep=lambda _s: None))
    assert Registry(ConnectionSettings(FEED), mine).list_tags("app") == ["1.0.0", "1.1.0"]
    assert len(seen) == 3  # ping (which learns the realm), token, listing
    assert Registry(ConnectionSettings(FEED), mine).session is mine
    assert Registry(ConnectionSettings(FEED)).session is default_session() is not mine


def test_sessions_share_nothing_and_reset_forgets_everything() -> None:
    seen: list[httpx.Request] = []
    one = Session(transport=bearer(seen))
    two = Session(transport=bearer(seen))
    rule = VersionRule.build()
    resolve_image(ConnectionSettings(FEED), "app", rule, cached=True, session=one)
    first = len(seen)
    resolve_image(ConnectionSettings(FEED), "app", rule, cached=True, session=one)
    assert len(seen) == first, "a warm session answers from its run cache"
    resolve_image(ConnectionSettings(FEED), "app", rule, cached=True, session=two)
    assert len(seen) == 2 * first, "another session pings, fetches a token and lists again"
    one.reset()
    resolve_image(ConnectionSettings(FEED), "app", rule, cached=True, session=one)
    assert len(seen) == 3 * first


def test_the_default_session_is_reset_in_one_call() -> None:
    seen: list[httpx.Request] = []
    previous = registry_session.set_default_session(Session(transport=bearer(seen)))
    try:
        Registry(ConnectionSettings(FEED)).list_tags("app")
        warm = len(seen)
        Registry(ConnectionSettings(FEED)).list_tags("app")
        assert len(seen) == warm + 1, "warm: one listing, no ping, no token"
        registry_session.reset()
        Registry(ConnectionSettings(FEED)).list_tags("app")
        assert len(seen) == 2 * warm + 1, "after reset: ping, token and listing again"
    finally:
        registry_session.set_default_session(previous).reset()


# --- credentials resolved once per session ---------------------------------------------------------


def helper_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """A Docker config naming the credential helper `counting`, and a log of its runs."""
    log = tmp_path / "runs.log"
    helper = tmp_path / "bin" / "docker-credential-counting"
    helper.parent.mkdir()
    helper.write_text(f"#!/bin/sh\necho run >> {log}\n{script}\n")
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"r.example.com": "counting"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{helper.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_a_credential_helper_runs_once_per_session_and_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = helper_config(
        tmp_path, monkeypatch, """echo '{"ServerURL":"r.example.com","Username":"ci","Secret":"s3cret"}'"""
    )
    session = Session(transport=bearer([]))
    settings = ConnectionSettings(FEED, use_docker_config=True)
    for _ in range(5):  # five ImageVersions of one feed
        assert Registry(settings, session).credentials is not None
    assert log.read_text().count("run") == 1
    assert Registry(settings, Session(transport=bearer([]))).credentials is not None
    assert log.read_text().count("run") == 2, "another session asks the helper again"
    # A rewritten config.json is read (and its helper run) again.
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"r.example.com": "counting"}, "x": 1}))
    Registry(settings, session)
    assert log.read_text().count("run") == 3


def test_a_failing_credential_helper_is_not_run_again_for_each_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = helper_config(tmp_path, monkeypatch, "echo 'keychain locked' >&2; exit 3")
    session = Session(transport=bearer([]))
    settings = ConnectionSettings(FEED, use_docker_config=True)
    for _ in range(3):
        with pytest.raises(BadCredentials, match="failed with exit code 3"):
            Registry(settings, session)
    assert log.read_text().count("run") == 1


# --- the registry's own words ----------------------------------------------------------------------


def errors_body(code: str, message: str) -> dict[str, object]:
    return {"errors": [{"code": code, "message": message, "detail": {"secret": "never shown"}}]}


def answering(status: int, body: object, headers: dict[str, str] | None = None) -> Session:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        return httpx.Response(status, headers={**V2, **(headers or {})}, json=body)

    return Session(transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize(
    ("status", "code", "message", "kind"),
    [
        (404, "NAME_UNKNOWN", "repository name not known to registry", NotFound),
        (401, "UNAUTHORIZED", "authentication required", CredentialsRequired),
        (403, "DENIED", "requested access to the resource is denied", AccessDenied),
        (500, "UNKNOWN", "unknown error", RegistryError),
    ],
)
def test_errors_name_the_registrys_own_code_and_message(
    status: int, code: str, message: str, kind: type[RegistryError]
) -> None:
    session = answering(status, errors_body(code, message))
    with pytest.raises(kind) as e:
        Registry(ConnectionSettings(FEED), session).list_tags("demo/app")
    text = str(e.value)
    assert f"answered {status}" in text or f"answered HTTP {status}" in text, text
    assert f"(the registry said: {code}: {message})" in text, text
    assert "never shown" not in text


def test_credentials_never_reach_an_error_even_when_the_registry_echoes_them() -> None:
    basic = {"WWW-Authenticate": 'Basic realm="r"'}
    session = answering(401, errors_body("UNAUTHORIZED", "bad password"), basic)
    settings = ConnectionSettings(FEED, username="ci", password="hunter2-pw")
    with pytest.raises(BadCredentials) as e:
        Registry(settings, session).list_tags("demo/app")
    assert "UNAUTHORIZED: bad password" in str(e.value) and "hunter2-pw" not in str(e.value)


def test_errors_bodies_that_say_nothing_usable_add_nothing() -> None:
    assert registry_errors(b"<html>500</html>") == ""
    assert registry_errors(b'{"errors": "DENIED"}') == ""
    assert registry_errors(b'{"errors": [1, {"code": 7}, {"message": " "}]}') == ""
    assert registry_errors(b"[" * 100_000) == ""  # RecursionError in json: refused too
    said = registry_errors(json.dumps(errors_body("DENIED", "no\x1b[31m" + "x" * 500)).encode())
    assert "\x1b" not in said and said.startswith("DENIED: no [31m") and len(said) < 250
    many = {"errors": [{"code": f"C{i}", "message": "m"} for i in range(10)]}
    assert registry_errors(json.dumps(many).encode()) == "C0: m; C1: m; C2: m"


# --- one rule for the settings, in the check and in the client --------------------------------------


@pytest.mark.parametrize(
    ("settings", "prop", "said"),
    [
        ({"ca_certificate": "not a certificate"}, "caCertificate", "caCertificate must be PEM text"),
        ({"username": "ci"}, "password", "only half of the credentials were given: password is missing"),
        ({"password": "pw"}, "username", "only half of the credentials were given: username is missing"),
        ({"username": "ci:x", "password": "pw"}, "username", "contains ':'"),
    ],
)
def test_the_check_and_the_client_refuse_the_same_settings_in_the_same_words(
    settings: dict[str, str], prop: str, said: str
) -> None:
    from dockerfeed.lifecycle.models import FeedInputs, check_failures
    from dockerfeed.registry import InvalidConfiguration

    camel = {"ca_certificate": "caCertificate"}
    props = {"feedUri": FEED, **{camel.get(k, k): v for k, v in settings.items()}}
    failures = check_failures(FeedInputs, props)
    assert [p for p, _ in failures] == [prop] and said in failures[0][1], failures
    with pytest.raises(InvalidConfiguration, match=said) as e:
        Registry(ConnectionSettings(FEED, **settings), Session())
    assert e.value.property == prop


def test_connections_that_start_together_ping_once() -> None:
    """A refresh starts several reads of one feed at once, on a session that knows nothing yet:
    one of them pings, the others take what it learned (single flight per connection)."""
    import threading
    import time

    threads = 8
    started = threading.Barrier(threads + 1, timeout=5)
    pings: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            pings.append(request)
            time.sleep(0.05)  # let the others reach their own ping, if they would send one
            return httpx.Response(200, headers=V2)
        return httpx.Response(200, headers=V2, json={"tags": ["1.0.0"]})

    session = Session(transport=httpx.MockTransport(handler), retry=RetryPolicy(sleep=lambda _s: None))
    results: list[list[str]] = []

    def lister() -> None:
        started.wait()
        results.append(Registry(ConnectionSettings(FEED), session).list_tags("app"))

    workers = [threading.Thread(target=lister) for _ in range(threads)]
    for w in workers:
        w.start()
    started.wait()
    for w in workers:
        w.join(10)
    assert results == [["1.0.0"]] * threads
    assert len(pings) == 1
