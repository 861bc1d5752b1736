"""Concurrency under a slow, flaky registry: 100 resolutions at once in one process (as the
dynamic provider host serves them, only wider), then a Pulumi stack of 12 ImageVersions.

The proxy delays every registry answer and answers 503 to a few requests of each kind, fewer
than the client's attempts at one request, so every request must get through. Every pin must be
exactly right, nothing may deadlock (bounded joins), and the token server should see one
token request per scope.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pytest

from dockerfeed.registry import ConnectionSettings
from dockerfeed.resolve import Pin, resolve_image
from dockerfeed.versions import VersionRule
from pulumi_dockerfeed import ImageVersion
from tests.faults.conftest import APP, LIB, MAXTAGS, Seeded
from tests.faults.helpers import config_feed, feed_config
from tests.support.faultproxy import FaultProxy, delay, respond
from tests.support.stack import stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# (image, rule kwargs, expected tag)
RULES: list[tuple[str, dict[str, str], str]] = [
    (APP, {"pre_release_tag": "^$"}, "2.0.0"),
    (APP, {"version_range": "[1.0,1.5)"}, "1.4.0"),
    (APP, {}, "2.1.0-beta.1"),
    (LIB, {}, "0.3.0"),
    (APP, {"version_range": "~1.0"}, "1.0.1"),
]
N = 100


def flaky(proxy: FaultProxy) -> None:
    """Slow answers everywhere, and a 503 on the 3rd, 10th and 17th tags and manifest requests.

    Three 503s of each kind at most: the client tries a request four times, so every request
    gets through whichever thread the 503s hit. (A 503 on every 7th request let one request
    meet four in a row now and then, and the test failed by chance.)
    """
    proxy.add(None, r"^/v2/", delay(0.05), times=1_000_000)
    proxy.add(None, r"^/token", delay(0.05), times=1_000_000)
    for nth in (3, 10, 17):
        proxy.add("GET", r"/tags/list", respond(503, "busy"), nth=nth)
        proxy.add("HEAD", r"/manifests/", respond(503, "busy"), nth=nth)


@dataclass
class Crowd:
    results: dict[int, Pin | BaseException]
    alive: list[str]
    token_scopes: Counter[tuple[str, ...]]
    fired_503: int


@pytest.fixture(scope="module")
def crowd(seeded: Seeded) -> Iterator[Crowd]:
    token_server = seeded.server.token_server
    assert token_server is not None
    with FaultProxy(
        seeded.server.url, token_upstream=seeded.token_upstream, lifetime=300, default_page=MAXTAGS
    ) as proxy:
        flaky(proxy)
        settings = ConnectionSettings(feed_uri=proxy.host, username=seeded.user, password=seeded.password)
        token_server.clear_requests()
        results: dict[int, Pin | BaseException] = {}
        start = threading.Barrier(N, timeout=30)

        def work(i: int) -> None:
            image, rule, _ = RULES[i % len(RULES)]
            try:
                start.wait()
                results[i] = resolve_image(settings, image, VersionRule.build(**rule))
            except BaseException as e:
                results[i] = e

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=150)  # bounded: a deadlock shows up as a live thread, not a hang
        alive = [t.name for t in threads if t.is_alive()]
        scopes = Counter(r.scopes for r in token_server.requests)
        fired = sum(f.fired for f in proxy._faults if "503" in repr(f.action))
        yield Crowd(results, alive, scopes, fired)


def test_100_parallel_resolutions_all_pin_correctly(crowd: Crowd, seeded: Seeded) -> None:
    assert crowd.alive == [], "threads still running: deadlock or unbounded retry"
    assert crowd.fired_503 > 0, "the scenario injected no 503s"
    wrong = []
    for i in range(N):
        image, _, tag = RULES[i % len(RULES)]
        got = crowd.results.get(i)
        if not isinstance(got, Pin) or (got.tag, got.digest) != (tag, seeded.digest(image, tag)):
            wrong.append((i, image, tag, got))
    assert wrong == []


def test_100_parallel_resolutions_ask_one_token_per_scope(crowd: Crowd) -> None:
    assert crowd.token_scopes, "no token requests recorded"
    assert {scope: n for scope, n in crowd.token_scopes.items() if n != 1} == {}


# --------------------------------------------------------------------------- a Pulumi stack


def crowd_program() -> None:
    feed = config_feed()
    for i in range(12):
        image, rule, _ = RULES[i % len(RULES)]
        iv = ImageVersion(f"iv{i}", feed=feed, image=image, **rule)
        pulumi.export(f"iv{i}", pulumi.Output.all(iv.tag, iv.digest))


@pytest.mark.e2e
def test_pulumi_stack_of_12_under_slow_flaky_registry(seeded: Seeded, tmp_path: Path) -> None:
    token_server = seeded.server.token_server
    assert token_server is not None
    with FaultProxy(
        seeded.server.url, token_upstream=seeded.token_upstream, lifetime=300, default_page=MAXTAGS
    ) as proxy:
        flaky(proxy)
        st = stack(
            tmp_path,
            crowd_program,
            project="dockerfeed-crowd",
            **feed_config(proxy.host, seeded),
        )
        token_server.clear_requests()
        result = st.up()
        fired = sum(f.fired for f in proxy._faults if "503" in repr(f.action))
        scopes = Counter(r.scopes for r in token_server.requests)
    outs = {k: v.value for k, v in result.outputs.items()}
    for i in range(12):
        image, _, tag = RULES[i % len(RULES)]
        assert outs[f"iv{i}"] == [tag, seeded.digest(image, tag)], i
    assert fired > 0
    # The provider host resolves 4 at a time; listings are single-flight per repository.
    assert scopes[(f"repository:{APP}:pull",)] == 1 and scopes[(f"repository:{LIB}:pull",)] == 1, scopes
    assert seeded.password not in result.stdout + result.stderr
