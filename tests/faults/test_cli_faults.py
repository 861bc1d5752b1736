"""Transport and protocol faults injected by a proxy in front of a real token-auth registry,
seen through the `dockerfeed` CLI (in-process, so the retry sleeps and the timeout can be made
short). Each fault either is survived — the right pin after bounded retries — or fails with a
message that names the request and the cause, and never prints the password or a token.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.conftest import APP, APP_STABLE, APP_TAGS, LIB, Seeded, Sleeps
from tests.faults.helpers import CliRun, assert_clean_failure, feed_args, run_cli
from tests.support.faultproxy import (
    FaultProxy,
    delay,
    error_json,
    reset,
    respond,
    rewrite_body,
    set_headers,
    trickle,
    truncate,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TAGS = r"^/v2/demo/app/tags/list"
PAGE1 = TAGS + r"$"  # the first page: asked without `n` or a cursor
PAGE3 = TAGS + r"\?last=2\.0\.0-rc\.1"
TOKEN = r"^/token\?"


@pytest.fixture(autouse=True)
def _password_env(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERFEED_PASSWORD", seeded.password)


def resolve(capsys: pytest.CaptureFixture[str], proxy: FaultProxy, *extra: str) -> CliRun:
    return run_cli(capsys, ["resolve", *feed_args(proxy.host), APP, "--prerelease", "^$", "--json", *extra])


def tags(capsys: pytest.CaptureFixture[str], proxy: FaultProxy, image: str = APP) -> CliRun:
    return run_cli(capsys, ["tags", *feed_args(proxy.host), image, "--json"])


def secrets_of(seeded: Seeded, proxy: FaultProxy) -> list[str]:
    return [seeded.password, *proxy.tokens_seen]


def assert_pinned(run: CliRun, seeded: Seeded, proxy: FaultProxy) -> None:
    assert run.crash == "" and run.rc == 0, run.text
    pin = run.json()
    assert (pin["tag"], pin["digest"]) == (APP_STABLE, seeded.digest(APP, APP_STABLE))
    assert pin["imageRef"] == f"{proxy.host}/{APP}:{APP_STABLE}@{pin['digest']}"
    for secret in secrets_of(seeded, proxy):
        assert secret not in run.text


# ------------------------------------------------------------------------- survived by retrying


def test_baseline_three_pages_one_token(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    run = resolve(capsys, proxy)
    assert_pinned(run, seeded, proxy)
    assert len(proxy.requests("GET", TAGS)) == 3
    assert len(proxy.requests("GET", TOKEN)) == 1


def test_429_with_retry_after_is_honoured(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, fresh_client: Sleeps
) -> None:
    proxy.add("GET", PAGE1, respond(429, "slow down", {"Retry-After": "2"}))
    assert_pinned(resolve(capsys, proxy), seeded, proxy)
    assert fresh_client.asked == [2.0]  # the server's Retry-After, not the backoff


def test_429_without_retry_after_backs_off(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, fresh_client: Sleeps
) -> None:
    proxy.add("HEAD", r"/manifests/", error_json(429, "TOOMANYREQUESTS", "rate limited"), times=2)
    assert_pinned(resolve(capsys, proxy), seeded, proxy)
    assert len(fresh_client.asked) == 2 and fresh_client.asked[1] > fresh_client.asked[0] > 0


def test_429_with_a_retry_after_beyond_the_budget_fails_without_waiting(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, fresh_client: Sleeps
) -> None:
    proxy.add("GET", PAGE1, respond(429, "", {"Retry-After": "3600", "RateLimit-Limit": "100"}), times=50)
    run = resolve(capsys, proxy)
    assert_clean_failure(
        run,
        f"GET {proxy.url}/v2/{APP}/tags/list",
        "rate limited (HTTP 429)",
        secrets=secrets_of(seeded, proxy),
    )
    assert fresh_client.asked == []  # an hour-long Retry-After is not slept through
    assert len(proxy.requests("GET", PAGE1)) == 1


def test_429_forever_is_bounded(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, fresh_client: Sleeps
) -> None:
    proxy.add("GET", PAGE1, respond(429), times=1000)
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list", "HTTP 429")
    assert len(proxy.requests("GET", PAGE1)) == 4  # RetryPolicy.attempts
    assert len(fresh_client.asked) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_burst_is_retried(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, status: int
) -> None:
    proxy.add("GET", TAGS + r"\?last=", respond(status, "gateway trouble"), times=3)
    assert_pinned(resolve(capsys, proxy), seeded, proxy)
    assert len(proxy.requests("GET", TAGS)) == 3 + 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_outlasting_the_retries_fails_naming_request_and_status(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, status: int
) -> None:
    proxy.add("GET", PAGE3, respond(status), times=100)
    run = resolve(capsys, proxy)
    assert_clean_failure(
        run,
        f"GET {proxy.url}/v2/{APP}/tags/list?last=2.0.0-rc.1",
        f"HTTP {status}",
        secrets=secrets_of(seeded, proxy),
    )
    assert len(proxy.requests("GET", PAGE3)) == 4


@pytest.mark.parametrize("where", [PAGE1, PAGE3, r"^/v2/demo/app/manifests/", TOKEN])
def test_connection_reset_once_is_retried(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy, where: str
) -> None:
    fault = proxy.add(None, where, reset())
    assert_pinned(resolve(capsys, proxy), seeded, proxy)
    assert fault.fired == 1


def test_connection_reset_forever_fails_naming_request_and_cause(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", PAGE3, reset(), times=100)
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "failed")
    assert len(proxy.requests("GET", PAGE3)) == 4


def test_slow_first_byte_past_the_timeout_fails_naming_the_request(
    capsys: pytest.CaptureFixture[str],
    seeded: Seeded,
    proxy: FaultProxy,
    short_timeout: Callable[[float], None],
) -> None:
    short_timeout(0.5)
    proxy.add("GET", PAGE3, delay(2.0), times=10)
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "timed out")


def test_slow_first_byte_within_the_timeout_is_fine(
    capsys: pytest.CaptureFixture[str],
    seeded: Seeded,
    proxy: FaultProxy,
    short_timeout: Callable[[float], None],
) -> None:
    short_timeout(3.0)
    proxy.add(None, r"^/v2/demo/app/", delay(0.3), times=10)
    assert_pinned(resolve(capsys, proxy), seeded, proxy)


@pytest.mark.timeout(60)  # the guard: before request deadlines, each case took minutes
@pytest.mark.parametrize(
    ("where", "headers", "named"),
    [
        (r"^/v2/$", True, "GET {url}/v2/"),
        (r"^/v2/$", False, "GET {url}/v2/"),
        (TOKEN, False, "GET {url}/token?"),
    ],
    ids=["ping-status-line-and-headers", "ping-body", "token-body"],
)
def test_a_server_sending_one_byte_a_second_runs_into_the_deadline(
    capsys: pytest.CaptureFixture[str],
    seeded: Seeded,
    proxy: FaultProxy,
    short_timeout: Callable[[float], None],
    where: str,
    headers: bool,
    named: str,
) -> None:
    # Every byte arrives well within the timeout of a single read; the whole answer would take
    # minutes. DOCKERFEED_HTTP_TIMEOUT bounds the request as a whole.
    short_timeout(2)
    fault = proxy.add("GET", where, trickle(1.0, headers=headers), times=10)
    run = run_cli(capsys, ["test", *feed_args(proxy.host)])
    assert_clean_failure(
        run,
        named.format(url=proxy.url),
        "timed out",
        "within 2 s",
        "DOCKERFEED_HTTP_TIMEOUT",
        secrets=[seeded.password],
    )
    assert fault.fired == 1  # a request that ran out of time is not sent again


def test_truncated_body_fails_cleanly_naming_the_request(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", TAGS + r"\?last=1\.3\.0", truncate(0.5), times=100)
    run = tags(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list?last=1.3.0", "broke off")


def test_malformed_json_page_fails_naming_the_request(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", PAGE3, rewrite_body(lambda b: b[:-3] + b"}{,", "malformed json"))
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "not valid JSON")


def test_tags_that_are_not_strings_fail_naming_the_request(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", PAGE1, rewrite_body(lambda b: b'{"name":"demo/app","tags":[1,2,{"x":3}]}', "bad shape"))
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"GET {proxy.url}/v2/{APP}/tags/list", "not a list of strings")


def test_link_that_loops_back_to_page_one_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    # Page 1 is asked for without a query; a Link from page 2 back to it is a loop.
    proxy.add("GET", TAGS + r"\?last=1\.3\.0", set_headers(Link=f'</v2/{APP}/tags/list>; rel="next"'))
    run = resolve(capsys, proxy)
    assert_clean_failure(run, "loops", f"{proxy.url}/v2/{APP}/tags/list again")
    assert len(proxy.requests("GET", TAGS)) == 2  # bounded: no third request


def test_link_that_points_at_itself_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", PAGE1, set_headers(Link=f'</v2/{APP}/tags/list>; rel="next"'), times=100)
    run = tags(capsys, proxy)
    assert_clean_failure(run, "loops")
    assert len(proxy.requests("GET", TAGS)) == 1


def test_link_to_another_host_is_not_followed(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    with FaultProxy(None, lifetime=120) as other:
        other.add(None, ".*", respond(200, {"name": APP, "tags": ["9.9.9"]}), times=100)
        proxy.add(
            "GET",
            PAGE1,
            set_headers(Link=f'<http://localhost:{other.port}/v2/{APP}/tags/list?last=x>; rel="next"'),
        )
        run = resolve(capsys, proxy)
        assert_clean_failure(
            run, "another origin", f"localhost:{other.port}", f"GET {proxy.url}/v2/{APP}/tags/list"
        )
        assert other.log == []


def test_token_endpoint_failing_once_is_retried(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", TOKEN, respond(503, "token service restarting"))
    assert_pinned(resolve(capsys, proxy), seeded, proxy)
    assert [e.status for e in proxy.requests("GET", TOKEN)] == [503, 200]


def test_token_endpoint_failing_hard_names_the_token_service(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", TOKEN, respond(500, "token db down"), times=100)
    run = resolve(capsys, proxy)
    assert_clean_failure(run, f"token service {proxy.url}/token", "HTTP 500", secrets=[seeded.password])


def test_token_expiring_on_page_three_is_renewed_and_the_listing_completes(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    challenge = (
        f'Bearer realm="{proxy.url}/token",service="dockerfeed-test-registry",'
        f'scope="repository:{APP}:pull",error="invalid_token"'
    )
    proxy.add("GET", PAGE3, error_json(401, "UNAUTHORIZED", "token expired", {"WWW-Authenticate": challenge}))
    run = tags(capsys, proxy)
    assert run.crash == "" and run.rc == 0, run.text
    assert sorted(run.json()["tags"]) == sorted(APP_TAGS)  # complete: nothing lost at the expiry
    token_requests = proxy.requests("GET", TOKEN)
    assert len(token_requests) == 2
    page3 = proxy.requests("GET", PAGE3)
    assert [e.status for e in page3] == [401, 200]


def test_token_refused_every_time_fails_without_looping(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    challenge = (
        f'Bearer realm="{proxy.url}/token",service="dockerfeed-test-registry",'
        f'scope="repository:{APP}:pull",error="invalid_token"'
    )
    proxy.add(
        "GET", PAGE3, error_json(401, "UNAUTHORIZED", "expired", {"WWW-Authenticate": challenge}), times=100
    )
    run = tags(capsys, proxy)
    assert_clean_failure(
        run, f"GET {proxy.url}/v2/{APP}/tags/list?last=2.0.0-rc.1", "401", secrets=secrets_of(seeded, proxy)
    )
    assert len(proxy.requests("GET", PAGE3)) <= 3  # bounded re-authentication
    assert len(proxy.requests("GET", TOKEN)) <= 3


def test_lib_single_page_survives_everything_at_once(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, proxy: FaultProxy
) -> None:
    """One of each transient fault on the way to one pin."""
    proxy.add("GET", r"^/v2/$", respond(503))
    proxy.add("GET", TOKEN, reset())
    proxy.add("GET", r"^/v2/demo/lib/tags/list", respond(429, "", {"Retry-After": "1"}))
    proxy.add("HEAD", r"^/v2/demo/lib/manifests/", respond(502))
    run = run_cli(capsys, ["resolve", *feed_args(proxy.host), LIB, "--json"])
    assert run.crash == "" and run.rc == 0, run.text
    assert run.json()["digest"] == seeded.digest(LIB, "0.3.0")
