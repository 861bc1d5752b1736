"""ImageVersion and DockerFeed through the real Pulumi CLI: pinning, every refresh drift case,
failed refreshes that leave the state alone, preview --refresh, preview with unknowns, bad input
at preview, get, platform digests, destroy.

Every test uses its own repository (or its own registry when it breaks the registry), so the
tests are independent of each other and of order.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import DockerFeed, FeedSettingsArgs, ImageVersion
from tests.support.images import delete_tag, list_tags, push_image, push_image_info
from tests.support.servers import RegistryServer
from tests.support.stack import raw_export, resource_state, resources, stack, state_snapshot

pytestmark = pytest.mark.e2e


def program() -> None:
    """One feed and one ImageVersion, everything from config."""
    config = pulumi.Config()
    feed = DockerFeed(
        "feed",
        feed_uri=config.require("feedUri"),
        registry_path=config.get("registryPath"),
        username=config.get("username"),
        password=config.get_secret("password"),
    )
    tag_exclude = config.get("tagExclude")
    app = ImageVersion(
        "app",
        feed=feed,
        image=config.require("image"),
        version_range=config.get("versionRange"),
        pre_release_tag=config.get("preReleaseTag"),
        tag_exclude=[tag_exclude] if tag_exclude else None,
        platform=config.get("platform"),
    )
    for name in ("tag", "version", "digest", "platform_digest", "image_ref", "previous_tag"):
        pulumi.export(name, getattr(app, name))
    pulumi.export("pullAddress", feed.pull_address)


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)}) as server:
        yield server


def make_stack(
    server: RegistryServer, work: Path, image: str, *, prog: Callable[[], None] = program, **config: str
) -> auto.Stack:
    user, password = server.credentials or (None, None)
    settings = {"feedUri": server.host, "image": image, **config}
    if user:
        settings["username"] = user
    return stack(work, prog, config=settings, secrets={"password": password} if password else None)


def push(server: RegistryServer, repo: str, *tags: str, salt: str = "") -> dict[str, str]:
    creds = server.push_credentials
    return {tag: push_image(server.url, repo, tag, auth=creds, salt=salt) for tag in tags}


def outputs_of(result: auto.UpResult) -> dict[str, Any]:
    return {k: v.value for k, v in result.outputs.items()}


def pin_of(st: auto.Stack) -> tuple[str, str, str | None]:
    outs = resource_state(st, "app")["outputs"]
    return outs["tag"], outs["digest"], outs.get("previousTag")


# ------------------------------------------------------------------------------ create, pin


def test_create_pins_tag_version_digest_and_registry_path(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0", "1.1.0", "2.0.0-rc.1")
    st = make_stack(registry, tmp_path, repo, preReleaseTag="^$", registryPath="mirror.internal:5000/hub")
    outs = outputs_of(st.up())
    assert (outs["tag"], outs["version"], outs["digest"]) == ("1.1.0", "1.1.0", digests["1.1.0"])
    assert outs["pullAddress"] == "mirror.internal:5000/hub"
    assert outs["image_ref"] == f"mirror.internal:5000/hub/{repo}:1.1.0@{digests['1.1.0']}"
    assert outs.get("platform_digest") is None and outs.get("previous_tag") is None
    # Pinned: a second up with nothing new changes nothing.
    assert st.up().summary.resource_changes == {"same": 3}


# --------------------------------------------------------------------------------- drift


def test_refresh_same_tag_moved_digest(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    first = push(registry, repo, "1.0.0")["1.0.0"]
    st = make_stack(registry, tmp_path, repo)
    st.up()
    assert pin_of(st) == ("1.0.0", first, None)

    moved = push(registry, repo, "1.0.0", salt="rebuilt")["1.0.0"]
    assert moved != first
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 2, "update": 1}
    assert pin_of(st) == ("1.0.0", moved, "1.0.0")
    assert resource_state(st, "app")["outputs"]["imageRef"].endswith(f":1.0.0@{moved}")
    again = st.up()
    assert again.summary.resource_changes == {"same": 3}
    assert again.outputs["digest"].value == moved


def test_refresh_pinned_tag_deleted_moves_to_best_remaining(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0", "1.1.0", "1.2.0")
    st = make_stack(registry, tmp_path, repo, versionRange="[1.0,1.2)")
    st.up()
    assert pin_of(st) == ("1.1.0", digests["1.1.0"], None)

    delete_tag(registry.url, repo, "1.1.0", auth=registry.push_credentials)
    assert "1.1.0" not in list_tags(registry.url, repo, auth=registry.push_credentials)
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 2, "update": 1}
    # 1.2.0 is out of range: the best remaining match is 1.0.0.
    assert pin_of(st) == ("1.0.0", digests["1.0.0"], "1.1.0")
    assert st.up().summary.resource_changes == {"same": 3}


def test_refresh_with_nothing_new_changes_nothing(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()
    before = state_snapshot(st)
    # A quiet refresh leaves inputs and outputs as they were, from the first one on (the pin is
    # in the stored inputs since create; tests/e2e/test_pin_semantics.py checks the events).
    assert st.refresh().summary.resource_changes == {"same": 3}
    assert state_snapshot(st) == before
    assert st.refresh().summary.resource_changes == {"same": 3}
    assert state_snapshot(st) == before
    # A preview of the unchanged program shows nothing to do either.
    assert st.preview().change_summary == {auto.OpType.SAME: 3}


def test_preview_refresh_shows_the_bump_without_writing_it(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()
    before = state_snapshot(st)

    newer = push(registry, repo, "1.1.0")["1.1.0"]
    preview = st.preview(refresh=True)
    # The refresh step shows the drift; the stack outputs show the tag it would move to.
    steps = [line for line in preview.stdout.splitlines() if "ImageVersion app refresh" in line]
    assert steps and "[diff: " in steps[-1] and "tag" in steps[-1] and "digest" in steps[-1], preview.stdout
    assert re.search(r'tag\s*: "1\.0\.0" => "1\.1\.0"', preview.stdout), preview.stdout
    assert newer in preview.stdout
    # Nothing was written: the stack still pins 1.0.0.
    assert state_snapshot(st) == before
    assert pin_of(st) == ("1.0.0", digests["1.0.0"], None)


# ---------------------------------------------------------- failed refreshes leave the state


def assert_refresh_fails(st: auto.Stack, *expected: str, never: tuple[str, ...] = ()) -> str:
    before = state_snapshot(st)
    with pytest.raises(auto.CommandError) as failure:
        st.refresh()
    text = str(failure.value)
    for part in expected:
        assert part in text, f"{part!r} not in the refresh error:\n{text[-3000:]}"
    for secret in never:
        assert secret not in text
    assert state_snapshot(st) == before
    return text


def test_refresh_with_registry_down_fails_and_keeps_state(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    server = start_registry("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)})
    push(server, "demo/app", "1.0.0")
    st = make_stack(server, tmp_path, "demo/app")
    st.up()
    address = server.url
    server.stop()
    assert server.password is not None
    assert_refresh_fails(st, f"GET {address}/v2/", "could not connect", never=(server.password,))


def test_refresh_on_empty_listing_fails_and_keeps_the_pin(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()
    delete_tag(registry.url, repo, "1.0.0", auth=registry.push_credentials)
    assert_refresh_fails(st, f"{repo} on {registry.url}", "nothing to pin")
    assert pin_of(st) == ("1.0.0", digests["1.0.0"], None)


def test_refresh_with_no_remaining_match_fails_and_keeps_the_pin(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0", "2.0.0")
    st = make_stack(registry, tmp_path, repo, versionRange="[1.0,2.0)")
    st.up()
    delete_tag(registry.url, repo, "1.0.0", auth=registry.push_credentials)
    assert_refresh_fails(st, "no tag of", "matches the version rules")
    assert pin_of(st) == ("1.0.0", digests["1.0.0"], None)


def test_refresh_with_revoked_credentials_fails_clearly(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    password = secrets.token_urlsafe(16)
    server = start_registry("v3", auth="token", users={"ci": password})
    push(server, "demo/app", "1.0.0")
    st = make_stack(server, tmp_path, "demo/app")
    st.up()
    assert resource_state(st, "feed")["outputs"]["authScheme"] == "bearer"

    # The token service stops accepting the stored password (a rotated or revoked token).
    assert server.token_server is not None
    server.token_server.users = {"ci": secrets.token_urlsafe(16)}
    text = assert_refresh_fails(st, "'ci'", never=(password,))
    assert "401" in text or "rejected" in text


# ---------------------------------------------------------------- preview: unknowns, bad input


def test_preview_on_empty_stack_with_unknown_feed_outputs(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo, preReleaseTag="^$", tagExclude="^old")
    preview = st.preview()
    # The ImageVersion's feed settings come from a DockerFeed not created yet: unknown values.
    assert preview.change_summary == {auto.OpType.CREATE: 3}
    assert resources(st) == []


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"versionRange": "[1.0"}, "versionRange"),
        ({"preReleaseTag": "(beta"}, "preReleaseTag"),
        ({"platform": "linux"}, "platform"),
        ({"feedUri": "ftp://registry.example.com"}, "feedUri"),
    ],
)
def test_bad_input_fails_at_preview_naming_the_property(
    registry: RegistryServer, tmp_path: Path, config: dict[str, str], named: str
) -> None:
    st = make_stack(registry, tmp_path, "demo/app", **config)
    with pytest.raises(auto.CommandError) as failure:
        st.preview()
    text = str(failure.value)
    assert named in text and next(iter(config.values())) in text
    assert resources(st) == []


# ------------------------------------------------------------------------------ get, import


def test_get_imports_an_existing_pin(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0", "1.1.0")
    assert registry.credentials is not None
    user, password = registry.credentials

    def reader() -> None:
        config = pulumi.Config()
        feed = FeedSettingsArgs(
            feed_uri=config.require("feedUri"), username=user, password=config.require_secret("password")
        )
        found = ImageVersion.get(
            "imported", "pinned-elsewhere", feed=feed, image=repo, tag="1.0.0", digest=digests["1.0.0"]
        )
        pulumi.export("tag", found.tag)
        pulumi.export("digest", found.digest)
        pulumi.export("previous_tag", found.previous_tag)
        pulumi.export("image_ref", found.image_ref)

    st = stack(tmp_path, reader, config={"feedUri": registry.host}, secrets={"password": password})
    outs = outputs_of(st.up())
    # The registry moved past the given pin: the read shows the current match and where it came from.
    assert (outs["tag"], outs["digest"], outs["previous_tag"]) == ("1.1.0", digests["1.1.0"], "1.0.0")
    assert outs["image_ref"] == f"{registry.host}/{repo}:1.1.0@{digests['1.1.0']}"
    imported = resource_state(st, "imported")
    assert imported.get("external") is True and imported["id"] == "pinned-elsewhere"
    assert password not in raw_export(st)
    st.destroy()
    # Reading never changes the registry, and destroying an external resource deletes nothing.
    assert set(list_tags(registry.url, repo, auth=registry.push_credentials)) == {"1.0.0", "1.1.0"}


# ------------------------------------------------------------------------- platform, destroy


def test_platform_digest_from_a_multi_platform_index(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    platforms = ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]
    pushed = push_image_info(registry.url, repo, "3.1.0", auth=registry.push_credentials, platforms=platforms)
    st = make_stack(registry, tmp_path, repo, platform="linux/arm64/v8")
    outs = outputs_of(st.up())
    assert outs["digest"] == pushed.digest  # the index: what `docker pull tag` resolves
    assert outs["platform_digest"] == pushed.platform_digests["linux/arm64/v8"]
    assert outs["platform_digest"] != pushed.platform_digests["linux/amd64"]
    assert outs["image_ref"].endswith(f":3.1.0@{pushed.digest}")


def test_platform_missing_from_the_index_fails_up(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push_image_info(registry.url, repo, "3.1.0", auth=registry.push_credentials, platforms=["linux/amd64"])
    st = make_stack(registry, tmp_path, repo, platform="linux/s390x")
    with pytest.raises(auto.CommandError) as failure:
        st.up()
    assert "linux/s390x" in str(failure.value)
    assert not [r for r in resources(st) if r["urn"].endswith("::app")]


def test_destroy_removes_state_and_nothing_remote(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()
    st.destroy()
    assert resources(st) == []
    assert list_tags(registry.url, repo, auth=registry.push_credentials) == ["1.0.0"]


# ---------------------------------------------------------------------------- concurrency


def test_many_image_versions_share_one_listing_per_repository(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    server = start_registry("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)})
    tags = ["1.0.0", "1.1.0", "2.0.0", "2.1.0-beta.1", "3.0.0"]
    digests = push(server, "demo/shared", *tags)
    ranges = ["[1.0,2.0)", "[2.0,3.0)", "^3", "1.0", "(,1.1.0]", "[1.0.0]", "~2.0", ">=1 <3"]
    user, password = server.credentials or ("", "")

    def many() -> None:
        config = pulumi.Config()
        feed = DockerFeed(
            "feed",
            feed_uri=config.require("feedUri"),
            username=user,
            password=config.require_secret("password"),
        )
        for i, version_range in enumerate(ranges):
            app = ImageVersion(
                f"app{i}", feed=feed, image="demo/shared", version_range=version_range, pre_release_tag="^$"
            )
            pulumi.export(f"app{i}", app.tag)

    st = stack(tmp_path, many, config={"feedUri": server.host}, secrets={"password": password})
    # Access-log lines of successful listings (the registry also logs each request twice more).
    listed = re.compile(r'"GET /v2/demo/shared/tags/list[^"]*" 200 ')

    def listings() -> int:
        return len(listed.findall(server.read_log()))

    before = listings()
    outs = {k: v.value for k, v in st.up().outputs.items()}
    expected = ["1.1.0", "2.0.0", "3.0.0", "3.0.0", "1.1.0", "1.0.0", "2.0.0", "2.0.0"]
    assert [outs[f"app{i}"] for i in range(len(ranges))] == expected
    # Eight resources resolved concurrently by the provider's 4 workers, one tag listing.
    assert listings() - before == 1
    assert resource_state(st, "app0")["outputs"]["digest"] == digests["1.1.0"]


def test_a_run_leaves_read_ahead_hints_and_the_refresh_after_it_lists_each_repository_once(
    start_registry: Callable[..., RegistryServer], tmp_path: Path, readahead_hints: Path
) -> None:
    server = start_registry("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)})
    repos = ["demo/ahead-a", "demo/ahead-b", "demo/ahead-c"]
    for repo in repos:
        push(server, repo, "1.0.0", "1.1.0")
    user, password = server.credentials or ("", "")

    def three() -> None:
        config = pulumi.Config()
        password = config.require_secret("password")
        feed = DockerFeed("feed", feed_uri=config.require("feedUri"), username=user, password=password)
        for i, repo in enumerate(repos):
            ImageVersion(f"app{i}", feed=feed, image=repo)

    st = stack(tmp_path, three, config={"feedUri": server.host}, secrets={"password": password})
    st.up()
    (hints,) = readahead_hints.glob("*.json")
    text = hints.read_text()
    assert password not in text, "names of repositories and tags only"
    assert json.loads(text)["repositories"] == {repo: ["1.1.0"] for repo in repos}

    listed = re.compile(r'"GET /v2/(demo/ahead-[abc])/tags/list[^"]*" 200 ')
    before = len(server.read_log())
    st.refresh()
    fetched = listed.findall(server.read_log()[before:])
    assert sorted(fetched) == repos, "each repository listed once, read ahead or not"
