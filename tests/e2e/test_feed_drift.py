"""DockerFeed refresh when the registry behind a feed changes API version (real CLI).

A fault proxy in front of a real registry plays the change: `/v2/` starts answering 404 and
`/v1/_ping` answers as a v1 registry. The refresh must show it as drift on `apiVersion`, record
`previousApiVersion`, and the next `up` must change nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_dockerfeed import DockerFeed
from tests.support.faultproxy import FaultProxy, respond
from tests.support.servers import RegistryServer
from tests.support.stack import raw_export, resource_state, stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def proxied() -> Iterator[tuple[RegistryServer, FaultProxy]]:
    with (
        RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(12)}) as server,
        FaultProxy(server.url, lifetime=300) as proxy,
    ):
        yield server, proxy


def feed_outputs(st: Any) -> dict[str, Any]:
    return dict(resource_state(st, "feed")["outputs"])


def test_refresh_shows_a_changed_api_version_as_drift(
    proxied: tuple[RegistryServer, FaultProxy], tmp_path: Path
) -> None:
    server, proxy = proxied
    assert server.credentials is not None
    user, password = server.credentials

    def program() -> None:
        feed = DockerFeed("feed", feed_uri=proxy.host, username=user, password=password)
        pulumi.export("apiVersion", feed.api_version)

    st = stack(tmp_path, program, project="dockerfeed-feed-drift")
    st.up()
    assert feed_outputs(st)["apiVersion"] == "v2"
    assert st.refresh().summary.resource_changes == {"same": 2}

    proxy.add("GET", r"^/v2/$", respond(404, "gone"), times=1000)
    proxy.add("GET", r"^/v1/_ping$", respond(200, {}, {"X-Docker-Registry-Version": "0.9.1"}), times=1000)
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 1, "update": 1}
    # The stored inputs hold what the registry answered, so the move shows as what it is (the
    # fake v1 ping asks for no credentials: the auth scheme changed too).
    assert re.search(r"DockerFeed feed updated .*\[diff: ~apiVersion,authScheme\]", refreshed.stdout), (
        refreshed.stdout
    )
    outs = feed_outputs(st)
    assert (outs["apiVersion"], outs["previousApiVersion"]) == ("v1", "v2")
    assert resource_state(st, "feed")["inputs"]["apiVersion"] == "v1"

    # The refresh was accepted into state: the next up changes no resource, and a further
    # refresh with nothing new is quiet.
    assert st.up().summary.resource_changes == {"same": 2}
    quiet = st.refresh()
    assert quiet.summary.resource_changes == {"same": 2}
    assert "[diff:" not in quiet.stdout
    assert password not in raw_export(st)
