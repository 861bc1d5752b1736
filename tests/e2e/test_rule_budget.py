"""Rules must not hang, through the real Pulumi CLI: a tag pushed to make a stack's rule backtrack
fails `pulumi up` and `pulumi refresh` with a message naming the property and the tag, instead
of holding the provider until it is killed. A failed refresh leaves the state as it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import DockerFeed, ImageVersion
from tests.support.images import push_image
from tests.support.servers import RegistryServer
from tests.support.stack import resource_state, resources, stack, state_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Plain versions with an optional word suffix, written with overlapping alternatives: fine on
# every ordinary tag, exponential on a long suffix that ends in a second `-`.
INCLUDE = r"^\d+\.\d+\.\d+(-(\w|\w)+)?$"
HOSTILE = "1.2.0-" + "a" * 34 + "-x"


def program() -> None:
    config = pulumi.Config()
    feed = DockerFeed(
        "feed",
        feed_uri=config.require("feedUri"),
        username=config.require("username"),
        password=config.require_secret("password"),
    )
    app = ImageVersion(
        "app",
        feed=feed,
        image=config.require("image"),
        tag_include=config.get("tagInclude"),
        pre_release_tag=config.get("preReleaseTag"),
    )
    pulumi.export("tag", app.tag)


def make_stack(server: RegistryServer, work: Path, image: str, **config: str) -> auto.Stack:
    assert server.credentials is not None
    user, password = server.credentials
    settings = {"feedUri": server.host, "username": user, "image": image, **config}
    return stack(work, program, project="dockerfeed-rules", config=settings, secrets={"password": password})


def push(server: RegistryServer, repo: str, *tags: str) -> None:
    for tag in tags:
        push_image(server.url, repo, tag, auth=server.push_credentials, salt=secrets.token_hex(4))


def assert_clean(text: str, prop: str, pattern: str) -> None:
    # (The dynamic provider host prints a traceback above every provider error; the message is
    # the last line of it.)
    assert f"{prop}: {pattern!r} took too long on the tag {HOSTILE!r}" in text, text[-3000:]


def test_a_hostile_tag_fails_refresh_and_up_naming_the_rule(
    registry_v2_htpasswd: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    server = registry_v2_htpasswd
    repo = unique_repo("demo")
    push(server, repo, "1.0.0", "1.1.0")
    st = make_stack(server, tmp_path / "pinned", repo, tagInclude=INCLUDE)
    assert st.up().outputs["tag"].value == "1.1.0"
    before = state_snapshot(st)

    push(server, repo, HOSTILE)
    with pytest.raises(auto.CommandError) as failure:
        st.refresh()
    assert_clean(str(failure.value), "tagInclude", INCLUDE)
    assert state_snapshot(st) == before
    assert resource_state(st, "app")["outputs"]["tag"] == "1.1.0"

    fresh = make_stack(server, tmp_path / "fresh", repo, tagInclude=INCLUDE)
    with pytest.raises(auto.CommandError) as failure:
        fresh.up()
    assert_clean(str(failure.value), "tagInclude", INCLUDE)
    assert not [r for r in resources(fresh) if r["urn"].endswith("::app")]


def test_a_hostile_tag_fails_a_prerelease_rule(
    registry_v2_htpasswd: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    server = registry_v2_htpasswd
    repo = unique_repo("demo")
    rule = r"^(\w|\w)*$"  # letters and digits only, or none: the same overlap
    push(server, repo, "1.0.0", HOSTILE)
    st = make_stack(server, tmp_path, repo, preReleaseTag=rule)
    with pytest.raises(auto.CommandError) as failure:
        st.up()
    assert_clean(str(failure.value), "preReleaseTag", rule)
