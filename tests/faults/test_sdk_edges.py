"""The Python SDK at its edges, under the real Pulumi engine (Automation API, file backend).

`ImageVersion(feed={...})` with a plain dict works (snake_case as FeedSettingsArgs, or the
schema's camelCase) and keeps the password secret; a dict or value that cannot be a feed,
`ResourceOptions(import_=...)` and `ImageVersion.get` with a digest that is not one fail the
program with one `dockerfeed:` error and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import DockerFeed, FeedSettingsArgs, ImageVersion
from tests.faults.conftest import APP, APP_STABLE, LIB, LIB_LATEST, Seeded
from tests.support.stack import raw_export, resources, stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def st(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    work = tmp_path_factory.mktemp("sdk-edges")
    yield stack(
        work,
        lambda: None,
        project="dockerfeed-sdk-edges",
        config={"feedUri": seeded.server.host, "username": seeded.user},
        secrets={"password": seeded.password},
    )


def fails_cleanly(st: auto.Stack, program: Callable[[], None], *parts: str) -> str:
    """The preview fails with a `dockerfeed:` error naming every part, and no traceback."""
    st.workspace.program = program
    with pytest.raises(auto.CommandError) as failure:
        st.preview()
    text = str(failure.value)
    assert "Traceback" not in text, text[-3000:]
    assert "error: dockerfeed: " in text, text[-3000:]
    for part in parts:
        assert part in text, f"{part!r} not in: {text[-3000:]}"
    return text


def feed_dict(camel: bool = False) -> dict[str, Any]:
    config = pulumi.Config()
    uri = "feedUri" if camel else "feed_uri"
    return {uri: config.require("feedUri"), "username": config.require("username"),
            "password": config.require_secret("password")}  # fmt: skip


def test_feed_given_as_a_dict_resolves_and_keeps_the_password_secret(st: auto.Stack, seeded: Seeded) -> None:
    def program() -> None:
        app = ImageVersion("app", feed=feed_dict(), image=APP, pre_release_tag="^$")
        lib = ImageVersion("lib", feed=feed_dict(camel=True), image=LIB)
        pulumi.export("app", app.tag)
        pulumi.export("lib", lib.tag)

    st.workspace.program = program
    try:
        result = st.up()
        assert result.outputs["app"].value == APP_STABLE
        assert result.outputs["lib"].value == LIB_LATEST
        assert seeded.password not in raw_export(st)
        assert seeded.password not in result.stdout
    finally:
        st.workspace.program = lambda: None
        st.destroy()
    assert resources(st) == []


def test_feed_dict_with_an_unknown_setting(st: auto.Stack) -> None:
    def program() -> None:
        ImageVersion("bad", feed={"feed_url": "r.example.com"}, image=APP)

    fails_cleanly(st, program, "ImageVersion 'bad': feed has the unknown setting 'feed_url'", "feed_uri")


def test_feed_that_is_not_a_feed(st: auto.Stack) -> None:
    def program() -> None:
        ImageVersion("bad", feed="r.example.com", image=APP)  # type: ignore[arg-type]

    fails_cleanly(st, program, "ImageVersion 'bad': feed must be a DockerFeed, a FeedSettingsArgs or a dict")


def test_import_of_a_feed_is_refused(st: auto.Stack) -> None:
    def program() -> None:
        DockerFeed("feed", feed_uri="r.example.com", opts=pulumi.ResourceOptions(import_="feed-id"))

    fails_cleanly(st, program, "DockerFeed 'feed' cannot be imported", "without import_")


def test_import_of_an_image_version_is_refused(st: auto.Stack) -> None:
    def program() -> None:
        ImageVersion("web", feed=FeedSettingsArgs(feed_uri="r.example.com"), image=APP,
                     opts=pulumi.ResourceOptions(import_="web-id"))  # fmt: skip

    fails_cleanly(st, program, "ImageVersion 'web' cannot be imported", "ImageVersion.get")


def test_get_with_a_digest_that_is_not_one(st: auto.Stack) -> None:
    def program() -> None:
        ImageVersion.get(
            "other", "other-id", feed=feed_dict(), image=APP, tag=APP_STABLE, digest="not-a-digest"
        )

    fails_cleanly(st, program, "ImageVersion.get 'other': digest 'not-a-digest' is not a sha256 digest")
    assert resources(st) == []
