"""Read-ahead against a real registry (distribution v3.1.2, token auth): a run that first reads
one repository fetches the last run's other repositories and pinned digests ahead, into the run
cache its later reads use, so those reads send nothing; a repository that is gone costs a
wasted request, and its read still fails with its own message (docs/design.md, "Read-ahead")."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from dockerfeed.registry import ConnectionSettings, NotFound, RegistryError, Session
from dockerfeed.registry.session import set_default_session
from dockerfeed.resolve import hints_key, read_ahead_of_feed, resolve_image
from dockerfeed.versions import VersionRule
from tests.support import images
from tests.support.servers import RegistryServer

RULE = VersionRule.build()


def settings_for(reg: RegistryServer) -> ConnectionSettings:
    return ConnectionSettings(reg.url, username=reg.username, password=reg.password)


def requests_for(reg: RegistryServer, since: int, repo: str) -> list[str]:
    """The access-log requests of `repo` written after byte `since` of the registry's log."""
    with open(reg.log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    return re.findall(rf'"((?:GET|HEAD) /v2/{re.escape(repo)}/[^" ]*)', text)


def wait_for(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # the access-log line comes just after the answer


def test_the_last_runs_repositories_are_fetched_ahead_and_serve_the_reads(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg, settings = registry_v3_token, settings_for(registry_v3_token)
    first, second = unique_repo("demo"), unique_repo("demo")
    images.seed_tags(reg.url, first, ["1.0.0", "1.1.0"], auth=reg.push_credentials)
    digest = images.seed_tags(reg.url, second, ["2.0.0", "2.1.0"], auth=reg.push_credentials)["2.1.0"]
    last_run = Session()
    for repo in (first, second):
        resolve_image(settings, repo, RULE, cached=True, session=last_run)

    run = Session()
    mark = reg.log_path.stat().st_size
    resolve_image(settings, first, RULE, current="1.1.0", cached=True, session=run)
    wait_for(lambda: len(requests_for(reg, mark, second)) >= 2)
    ahead = requests_for(reg, mark, second)
    assert any("/tags/list" in r for r in ahead), ahead
    assert f"HEAD /v2/{second}/manifests/2.1.0" in ahead
    mark = reg.log_path.stat().st_size
    pin = resolve_image(settings, second, RULE, current="2.1.0", cached=True, session=run)
    assert (pin.tag, pin.digest) == ("2.1.0", digest)
    time.sleep(0.2)
    assert requests_for(reg, mark, second) == [], "the read was served by what was fetched ahead"


def test_a_repository_that_is_gone_fails_its_own_read_with_its_own_message(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg, settings = registry_v3_token, settings_for(registry_v3_token)
    kept, gone = unique_repo("demo"), unique_repo("demo")
    images.seed_tags(reg.url, kept, ["1.0.0"], auth=reg.push_credentials)
    last_run = Session()
    resolve_image(settings, kept, RULE, cached=True, session=last_run)
    # A pin of a repository that no longer exists (or never did), as an old run left it.
    last_run.readahead.pinned(hints_key(settings), gone, "1.0.0", "auto")

    run = Session()
    mark = reg.log_path.stat().st_size
    resolve_image(settings, kept, RULE, cached=True, session=run)
    wait_for(lambda: any("/tags/list" in r for r in requests_for(reg, mark, gone)))
    with pytest.raises(NotFound, match=gone):
        resolve_image(settings, gone, RULE, cached=True, session=run)


def test_a_feeds_refresh_reads_ahead_over_the_connection_its_images_use(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg, settings = registry_v3_token, settings_for(registry_v3_token)
    repo = unique_repo("demo")
    images.seed_tags(reg.url, repo, ["1.0.0"], auth=reg.push_credentials)
    resolve_image(settings, repo, RULE, cached=True, session=Session())  # the last run

    run = Session()
    previous = set_default_session(run)
    try:
        mark = reg.log_path.stat().st_size
        # The feed's outputs hold the API version it found; its images asked with "auto".
        read_ahead_of_feed(replace(settings, api_version="v2"))
        wait_for(lambda: len(requests_for(reg, mark, repo)) >= 2)
        mark = reg.log_path.stat().st_size
        resolve_image(settings, repo, RULE, current="1.0.0", cached=True, session=run)
        time.sleep(0.2)
        assert requests_for(reg, mark, repo) == [], "the image's read found what the feed's fetched"
    finally:
        set_default_session(previous).reset()


def test_the_last_runs_repositories_share_one_token_request(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    """One token for every hinted repository (one `scope` each), not one token request per
    repository: each of those is a round trip to the token service before its listing."""
    reg, settings = registry_v3_token, settings_for(registry_v3_token)
    assert reg.token_server is not None
    first, *others = [unique_repo("demo") for _ in range(4)]
    for repo in (first, *others):
        images.seed_tags(reg.url, repo, ["1.0.0"], auth=reg.push_credentials)
    last_run = Session()
    for repo in (first, *others):
        resolve_image(settings, repo, RULE, cached=True, session=last_run)

    run = Session()
    asked = len(reg.token_server.requests)
    mark = reg.log_path.stat().st_size
    resolve_image(settings, first, RULE, current="1.0.0", cached=True, session=run)
    wait_for(lambda: all(len(requests_for(reg, mark, r)) >= 2 for r in others))
    tokens = reg.token_server.requests[asked:]
    # The read's own token, and one for every other repository the hints hold (other tests'
    # runs of this registry and user too).
    assert len(tokens) == 2, tokens
    assert {f"repository:{r}:pull" for r in others} <= set(max(tokens, key=lambda t: len(t.scopes)).scopes)
    for repo in others:
        mark = reg.log_path.stat().st_size
        resolve_image(settings, repo, RULE, current="1.0.0", cached=True, session=run)
        assert requests_for(reg, mark, repo) == []
    assert len(reg.token_server.requests) == asked + 2


def test_a_shared_token_that_does_not_cover_a_repository_is_replaced_by_its_own(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    """The token service grants what it may: a repository left out of the shared token gets the
    usual token request of its own on its first 401, and its read its usual message."""
    reg, settings = registry_v3_token, settings_for(registry_v3_token)
    kept = unique_repo("demo")
    images.seed_tags(reg.url, kept, ["1.0.0"], auth=reg.push_credentials)
    other = unique_repo("demo")
    images.seed_tags(reg.url, other, ["1.0.0"], auth=reg.push_credentials)
    last_run = Session()
    for repo in (kept, other):
        resolve_image(settings, repo, RULE, cached=True, session=last_run)
    # A hint the user may not pull (outside demo/*), as a run signed in otherwise left it.
    last_run.readahead.pinned(hints_key(settings), "private/app", "1.0.0", "auto")

    run = Session()
    mark = reg.log_path.stat().st_size
    resolve_image(settings, kept, RULE, cached=True, session=run)
    wait_for(lambda: any("/tags/list" in r for r in requests_for(reg, mark, "private/app")))
    assert resolve_image(settings, other, RULE, cached=True, session=run).tag == "1.0.0"
    with pytest.raises(RegistryError, match="private/app"):
        resolve_image(settings, "private/app", RULE, cached=True, session=run)
