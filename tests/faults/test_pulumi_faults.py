"""Faults under the real Pulumi CLI: `up` survives transient faults with the right pins, a
refresh that meets a lasting fault fails naming the request and the cause and leaves every
resource's inputs and outputs exactly as they were, and at the end the password and every token
the proxy handed out are nowhere: not in `pulumi stack export`, the state files, nor any output.

One stack (a DockerFeed and two ImageVersions, all through one FaultProxy) serves the whole
module; the tests run in file order (up first, the audit last).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import ImageVersion
from tests.faults.conftest import APP, APP_STABLE, LIB, LIB_LATEST, MAXTAGS, Seeded
from tests.faults.helpers import config_feed, feed_config
from tests.support.faultproxy import (
    Action,
    FaultProxy,
    delay,
    drop_headers,
    error_json,
    reset,
    respond,
    rewrite_body,
    set_headers,
    truncate,
)
from tests.support.stack import SECRET_MARKER, raw_export, resource_state, stack, state_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PROVIDER_TIMEOUT = 4.0  # seconds, DOCKERFEED_HTTP_TIMEOUT for the provider process
TAGS = r"^/v2/demo/app/tags/list"
PAGE1 = TAGS + r"$"  # the first page: asked without `n` or a cursor
PAGE2 = TAGS + r"\?last=1\.3\.0"
PAGE3 = TAGS + r"\?last=2\.0\.0-rc\.1"
TOKEN = r"^/token\?"


def program() -> None:
    feed = config_feed()
    app = ImageVersion("app", feed=feed, image=APP, pre_release_tag="^$")
    lib = ImageVersion("lib", feed=feed, image=LIB)
    pulumi.export("app", pulumi.Output.all(app.tag, app.digest))
    pulumi.export("lib", pulumi.Output.all(lib.tag, lib.digest))


@dataclass
class Scenario:
    st: auto.Stack
    proxy: FaultProxy
    seeded: Seeded
    work: Path
    texts: list[str] = field(default_factory=list)  # every output and error, for the audit


@pytest.fixture(scope="module")
def scenario(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    work = tmp_path_factory.mktemp("pulumi-faults")
    with FaultProxy(
        seeded.server.url, token_upstream=seeded.token_upstream, lifetime=600, default_page=MAXTAGS
    ) as proxy:
        st = stack(
            work,
            program,
            project="dockerfeed-faults",
            **feed_config(proxy.host, seeded),
            # The provider process reads it: a slow first byte past it is a clean failure.
            env={"DOCKERFEED_HTTP_TIMEOUT": str(PROVIDER_TIMEOUT)},
        )
        yield Scenario(st, proxy, seeded, work)


def pins(st: auto.Stack) -> dict[str, tuple[str, str]]:
    return {
        n: (resource_state(st, n)["outputs"]["tag"], resource_state(st, n)["outputs"]["digest"])
        for n in ("app", "lib")
    }


def expected(seeded: Seeded) -> dict[str, tuple[str, str]]:
    return {
        "app": (APP_STABLE, seeded.digest(APP, APP_STABLE)),
        "lib": (LIB_LATEST, seeded.digest(LIB, LIB_LATEST)),
    }


def invalid_token(proxy: FaultProxy) -> Action:
    challenge = (
        f'Bearer realm="{proxy.url}/token",service="dockerfeed-test-registry",'
        f'scope="repository:{APP}:pull",error="invalid_token"'
    )
    return error_json(401, "UNAUTHORIZED", "token expired", {"WWW-Authenticate": challenge})


# ------------------------------------------------------------------------------------ survive


def test_up_survives_transient_faults_with_the_right_pins(scenario: Scenario) -> None:
    proxy = scenario.proxy
    faults = [
        proxy.add("GET", PAGE1, respond(503, "warming up"), times=2),
        proxy.add("GET", TOKEN, reset()),
        proxy.add("HEAD", r"^/v2/demo/app/manifests/", respond(429, "", {"Retry-After": "1"})),
        proxy.add("GET", PAGE3, invalid_token(proxy)),  # the token "expires" on page 3
        proxy.add("GET", r"^/v2/demo/lib/tags/list", respond(502)),
    ]
    result = scenario.st.up()
    scenario.texts.append(result.stdout + result.stderr)
    proxy.clear()
    assert [f.fired for f in faults] == [2, 1, 1, 1, 1]
    assert pins(scenario.st) == expected(scenario.seeded)
    assert {k: v.value for k, v in result.outputs.items()} == {
        k: list(v) for k, v in expected(scenario.seeded).items()
    }


def test_refresh_survives_transient_faults_and_changes_nothing(scenario: Scenario) -> None:
    proxy = scenario.proxy
    scenario.st.refresh()  # a clean refresh first: the state the faulted one must leave alone
    before = state_snapshot(scenario.st)
    faults = [
        proxy.add("GET", TOKEN, respond(503, "token service restarting")),
        proxy.add("GET", PAGE2, reset()),
        proxy.add("GET", PAGE3, invalid_token(proxy)),
    ]
    result = scenario.st.refresh()
    scenario.texts.append(result.stdout + result.stderr)
    proxy.clear()
    assert [f.fired for f in faults] == [1, 1, 1]
    assert result.summary.resource_changes == {"same": 4}
    assert state_snapshot(scenario.st) == before


# --------------------------------------------------------------- lasting faults: fail, keep state


def _lasting(proxy: FaultProxy, name: str) -> list[str]:
    """Install a lasting fault; return what the refresh error must name."""
    url = proxy.url
    if name == "link-loop":
        proxy.add("GET", PAGE2, set_headers(Link=f'</v2/{APP}/tags/list>; rel="next"'), times=100)
        return ["loops", f"{url}/v2/{APP}/tags/list again"]
    if name == "link-other-host":
        proxy.add(
            "GET",
            PAGE1,
            set_headers(Link='<http://localhost:1/v2/demo/app/tags/list?last=z>; rel="next"'),
            times=100,
        )
        return ["another origin", f"GET {url}/v2/{APP}/tags/list"]
    if name == "malformed-json":
        proxy.add("GET", PAGE3, rewrite_body(lambda b: b[:-2] + b",]", "malformed"), times=100)
        return [f"GET {url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "not valid JSON"]
    if name == "503-forever":
        proxy.add("GET", PAGE3, respond(503), times=100)
        return [f"GET {url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "HTTP 503"]
    if name == "token-500":
        proxy.add("GET", TOKEN, respond(500, "token db down"), times=100)
        return [f"token service {url}/token", "HTTP 500"]
    if name == "digest-mismatch":
        proxy.add("HEAD", r"^/v2/demo/app/manifests/", drop_headers("Docker-Content-Digest"), times=100)
        proxy.add("GET", r"^/v2/demo/app/manifests/", rewrite_body(lambda b: b + b" ", "pad"), times=100)
        return [f"GET {url}/v2/{APP}/manifests/{APP_STABLE}", "does not match"]
    if name == "truncated-page":
        proxy.add("GET", PAGE2, truncate(0.5), times=100)
        return [f"GET {url}/v2/{APP}/tags/list?last=1.3.0", "broke off"]
    if name == "slow-first-byte":
        proxy.add("GET", PAGE2, delay(PROVIDER_TIMEOUT + 3), times=100)
        return [f"GET {url}/v2/{APP}/tags/list?last=1.3.0", "timed out"]
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name",
    [
        "link-loop",
        "link-other-host",
        "malformed-json",
        "503-forever",
        "token-500",
        "digest-mismatch",
        "truncated-page",
        "slow-first-byte",
    ],
)
def test_refresh_with_a_lasting_fault_fails_cleanly_and_keeps_state(scenario: Scenario, name: str) -> None:
    st, proxy = scenario.st, scenario.proxy
    before = state_snapshot(st)
    must_name = _lasting(proxy, name)
    try:
        with pytest.raises(auto.CommandError) as failure:
            st.refresh()
    finally:
        proxy.clear()
    text = str(failure.value)
    scenario.texts.append(text)
    assert state_snapshot(st) == before, "a failed refresh changed the state"
    assert pins(st) == expected(scenario.seeded)
    for part in must_name:
        assert part in text, f"{part!r} not in the refresh error:\n{text[-3000:]}"


def test_after_the_faults_a_refresh_is_quiet_again(scenario: Scenario) -> None:
    before = state_snapshot(scenario.st)
    result = scenario.st.refresh()
    scenario.texts.append(result.stdout + result.stderr)
    assert result.summary.resource_changes == {"same": 4}
    assert state_snapshot(scenario.st) == before


# ------------------------------------------------------------------------------ secrets audit


def test_secrets_audit_finds_no_password_and_no_token(scenario: Scenario) -> None:
    tokens = scenario.proxy.tokens_seen
    assert tokens, "the audit needs the tokens the scenarios used"
    secrets = [scenario.seeded.password, *tokens]
    exported = raw_export(scenario.st)  # `pulumi stack export`, no --show-secrets
    assert '"__provider"' in exported and SECRET_MARKER in exported  # we looked at the real thing
    places: dict[str, bytes] = {"pulumi stack export": exported.encode()}
    for path in scenario.work.rglob("*"):
        if path.is_file() and path.stat().st_size < 50 * 1024 * 1024:
            places[str(path.relative_to(scenario.work))] = path.read_bytes()
    for i, text in enumerate(scenario.texts):
        places[f"output/error #{i}"] = text.encode()
    hits = [(where, n) for where, data in places.items() for n, s in enumerate(secrets) if s.encode() in data]
    assert hits == [], f"secrets found in: {hits}"
    assert len(scenario.texts) >= 8 and len(places) > len(scenario.texts)
