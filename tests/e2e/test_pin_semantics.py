"""Pin and drift semantics through the real Pulumi engine (issue 10, points 1-4).

* With the registry unchanged, `refresh`, `preview --refresh` and `up --refresh` show no diff on
  any resource, in the display and in the engine's events: after create, after an update, after
  an acknowledged move.
* A real move shows the same way every time (after create, after an acknowledged move, twice in
  a row).
* Connection settings (credentials, registryPath, a feedUri alias, apiVersion) re-validate and
  keep the pin; imageRef follows registryPath; the preview shows it known.
* A new image or rule resolves anew (unknown tag in the preview) and records previousTag; the
  docker strategy does not carry the old image's variant and part count to a new image.
* Stored inputs and outputs agree after every operation.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pulumi.automation import events as ev

from pulumi_dockerfeed import DockerFeed, ImageVersion
from tests.support.images import push_image
from tests.support.servers import RegistryServer
from tests.support.stack import resource_state, stack, state_snapshot

pytestmark = pytest.mark.e2e

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # how the engine's events show an unknown value
FEED_SETTINGS = ("feedUri", "registryPath", "apiVersion", "username", "insecureSkipTlsVerify")


def program() -> None:
    config = pulumi.Config()
    ca_file = config.get("caFile")
    feed = DockerFeed(
        "feed",
        feed_uri=config.require("feedUri"),
        registry_path=config.get("registryPath"),
        api_version=config.get("apiVersion"),
        username=config.get("username"),
        password=config.get_secret("password"),
        ca_certificate=Path(ca_file).read_text() if ca_file else None,
        insecure_skip_tls_verify=config.get_bool("insecureSkipTlsVerify"),
    )
    app = ImageVersion(
        "app",
        feed=feed,
        image=config.require("image"),
        version_range=config.get("versionRange"),
        strategy=config.get("strategy"),
    )
    for name in ("tag", "version", "digest", "image_ref", "previous_tag"):
        pulumi.export(name, getattr(app, name))


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    users = {"ci": secrets.token_urlsafe(16), "rotated": secrets.token_urlsafe(16)}
    with RegistryServer("v3", auth="htpasswd", users=users) as server:
        yield server


def push(server: RegistryServer, repo: str, *tags: str, salt: str = "") -> dict[str, str]:
    return {tag: push_image(server.url, repo, tag, auth=server.push_credentials, salt=salt) for tag in tags}


def make_stack(server: RegistryServer, work: Path, image: str, **config: str) -> auto.Stack:
    assert server.credentials is not None
    user, password = server.credentials
    settings = {"feedUri": server.host, "username": user, "image": image, **config}
    return stack(work, program, project="dockerfeed-pins", config=settings, secrets={"password": password})


def configure(st: auto.Stack, **config: str | None) -> None:
    for key, value in config.items():
        if value is None:
            st.remove_config(key)
        elif key == "password":
            st.set_config(key, auto.ConfigValue(value, secret=True))
        else:
            st.set_config(key, auto.ConfigValue(value))


def app_outputs(st: auto.Stack) -> dict[str, Any]:
    return dict(resource_state(st, "app")["outputs"])


class Recorded:
    """The engine events and the display text of one operation."""

    def __init__(self) -> None:
        self.events: list[ev.EngineEvent] = []
        self.lines: list[str] = []

    def steps(self) -> list[ev.StepEventMetadata]:
        found = []
        for e in self.events:
            for event in (e.resource_pre_event, e.res_outputs_event):
                if event is not None and event.metadata is not None:
                    found.append(event.metadata)
        return found

    def of(self, name: str) -> list[ev.StepEventMetadata]:
        return [m for m in self.steps() if m.urn.endswith(f"::{name}")]

    def done(self, name: str) -> list[ev.StepEventMetadata]:
        """The finished steps of one resource (their outputs events)."""
        found = [e.res_outputs_event.metadata for e in self.events if e.res_outputs_event is not None]
        return [m for m in found if m.urn.endswith(f"::{name}")]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def diff_of(self, name: str) -> set[str]:
        """The `[diff: …]` parts of the display lines of one resource."""
        return set(re.findall(rf"\b{name} .*\[diff: ([^\]]*)\]", self.text))


def run(op: Callable[..., Any], **kwargs: Any) -> tuple[Any, Recorded]:
    rec = Recorded()
    result = op(on_event=rec.events.append, on_output=rec.lines.append, **kwargs)
    return result, rec


def assert_no_diff(rec: Recorded, what: str) -> None:
    """No resource step shows or carries a difference."""
    assert "[diff:" not in rec.text, f"{what} displays a diff:\n{rec.text}"
    for step in rec.steps():
        where = f"{what}: {step.op.value} {step.urn}"
        assert step.op in (ev.OpType.SAME, ev.OpType.REFRESH, ev.OpType.READ), where
        assert not step.diffs and not step.detailed_diff, where
        if step.old is not None and step.new is not None:
            assert step.new.inputs == step.old.inputs, f"{where}: inputs differ"
    # Outputs as finished steps report them (a step about to run has none yet).
    for name in ("feed", "app"):
        for done in rec.done(name):
            if done.old is not None and done.new is not None:
                assert done.new.outputs == done.old.outputs, f"{what}: {done.urn}: outputs differ"


def assert_quiet(st: auto.Stack) -> None:
    """refresh, preview --refresh and up --refresh with nothing new: no diff anywhere."""
    before = state_snapshot(st)
    refreshed, rec = run(st.refresh)
    assert refreshed.summary.resource_changes == {"same": 3}
    assert_no_diff(rec, "refresh")
    preview, rec = run(st.preview, refresh=True)
    assert preview.change_summary == {auto.OpType.SAME: 3}
    assert_no_diff(rec, "preview --refresh")
    up, rec = run(st.up, refresh=True)
    assert up.summary.resource_changes == {"same": 3}
    assert_no_diff(rec, "up --refresh")
    assert state_snapshot(st) == before


def assert_agree(st: auto.Stack) -> None:
    """Every property stored both as an input and as an output has the same value in both."""
    for res in state_snapshot(st):
        inputs, outputs = res["inputs"] or {}, res["outputs"] or {}
        for key in sorted(set(inputs) & set(outputs) - {"__provider"}):
            assert inputs[key] == outputs[key], (
                f"{res['urn']}: input {key} {inputs[key]!r} != {outputs[key]!r}"
            )


def preview_outputs(rec: Recorded, name: str) -> dict[str, Any]:
    """The outputs the preview shows for one resource (UNKNOWN where it does not know them)."""
    found = [m.new.outputs for m in rec.done(name) if m.new is not None and m.new.outputs]
    assert found, f"no outputs of {name} in the preview's events"
    return dict(found[-1])


# ----------------------------------------------------------------------- 1. no false drift


def test_no_diff_on_a_quiet_refresh_after_create_update_and_an_acknowledged_move(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()
    assert_agree(st)
    assert_quiet(st)

    configure(st, registryPath="mirror.internal:5000/hub")  # an update that keeps the pin
    assert st.up().summary.resource_changes == {"same": 1, "update": 2}
    assert_agree(st)
    assert_quiet(st)

    newer = push(registry, repo, "1.1.0")["1.1.0"]
    assert st.refresh().summary.resource_changes == {"same": 2, "update": 1}
    assert_agree(st)
    assert st.up().summary.resource_changes == {"same": 3}  # the move is acknowledged
    assert app_outputs(st)["digest"] == newer
    assert_agree(st)
    assert_quiet(st)


# ---------------------------------------------------------- 1. a move shows the same each time


def test_a_real_move_displays_the_same_way_every_time(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    push(registry, repo, "1.0.0")
    st = make_stack(registry, tmp_path, repo)
    st.up()

    def move(tag: str) -> tuple[str, set[str], str]:
        push(registry, repo, tag)
        preview, shown = run(st.preview, refresh=True)
        refreshed, rec = run(st.refresh)
        assert refreshed.summary.resource_changes == {"same": 2, "update": 1}
        [step] = rec.done("app")
        assert step.old is not None and step.new is not None
        assert step.op == ev.OpType.UPDATE
        keys = {
            k
            for k in {*step.old.inputs, *step.new.inputs}
            if step.old.inputs.get(k) != step.new.inputs.get(k)
        }
        [line] = rec.diff_of("app")
        assert shown.diff_of("app") == {line}, shown.text
        assert app_outputs(st)["tag"] == tag
        assert_agree(st)
        return line, keys, str(preview.change_summary)

    after_create = move("1.1.0")
    st.up()  # acknowledges the move
    after_acknowledged = move("1.2.0")
    in_a_row = move("1.3.0")  # a second move before any up
    assert after_create == after_acknowledged == in_a_row
    line, keys, _ = after_create
    assert keys == {"tag", "version", "digest", "imageRef"}
    assert not line.startswith("+") and "tag" in line and "digest" in line, line
    assert st.up().summary.resource_changes == {"same": 3}
    assert app_outputs(st)["previousTag"] == "1.2.0"


# ------------------------------------------------------------ 2. connections do not move pins


@pytest.mark.parametrize(
    "change",
    ["credentials", "registryPath", "feedUri alias", "apiVersion"],
)
def test_a_connection_change_keeps_the_pin(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str], change: str
) -> None:
    repo = unique_repo("demo")
    pinned = push(registry, repo, "1.0.0")["1.0.0"]
    st = make_stack(registry, tmp_path, repo)
    st.up()
    push(registry, repo, "1.1.0")  # newer, not reviewed: must not be picked up by a settings change
    pull = registry.host
    if change == "credentials":
        configure(st, username="rotated", password=registry.password_for("rotated"))
    elif change == "registryPath":
        pull = "mirror.internal:5000/hub"
        configure(st, registryPath=pull)
    elif change == "feedUri alias":
        configure(st, feedUri=f"http://{registry.host}/v2/")
    else:
        configure(st, apiVersion="v2")
    expected_ref = f"{pull}/{repo}:1.0.0@{pinned}"

    # An explicit apiVersion the feed already answers is no change to the feed itself.
    updates = 1 if change == "apiVersion" else 2
    preview, rec = run(st.preview)
    assert preview.change_summary == {auto.OpType.SAME: 3 - updates, auto.OpType.UPDATE: updates}
    shown = preview_outputs(rec, "app")
    assert (shown.get("tag"), shown.get("digest"), shown.get("imageRef")) == ("1.0.0", pinned, expected_ref)
    assert UNKNOWN not in {shown.get(k) for k in ("tag", "version", "digest", "imageRef")}
    [line] = rec.diff_of("app")
    assert line == ("~feed,imageRef" if change == "registryPath" else "~feed"), rec.text

    assert st.up().summary.resource_changes == {"same": 3 - updates, "update": updates}
    outs = app_outputs(st)
    assert (outs["tag"], outs["digest"], outs["imageRef"]) == ("1.0.0", pinned, expected_ref)
    assert outs.get("previousTag") is None
    assert_agree(st)


def test_tls_settings_keep_the_pin(
    start_registry: Callable[..., RegistryServer], tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    server = start_registry("v3", tls=True, auth="htpasswd", users={"ci": secrets.token_urlsafe(16)})
    assert server.ca_cert_path is not None
    repo = unique_repo("demo")
    pinned = push_image(server.url, repo, "1.0.0", auth=server.push_credentials, verify=server.verify)
    st = make_stack(server, tmp_path, repo, feedUri=f"https://{server.host}", caFile=str(server.ca_cert_path))
    st.up()
    push_image(server.url, repo, "1.1.0", auth=server.push_credentials, verify=server.verify)
    # The CA dropped for insecureSkipTlsVerify, then the CA again without the flag.
    for change in ({"caFile": None, "insecureSkipTlsVerify": "true"}, {"caFile": str(server.ca_cert_path)}):
        configure(st, **change)
        if "insecureSkipTlsVerify" not in change:
            configure(st, insecureSkipTlsVerify=None)
        preview, rec = run(st.preview)
        assert preview.change_summary == {auto.OpType.SAME: 1, auto.OpType.UPDATE: 2}
        assert preview_outputs(rec, "app").get("tag") == "1.0.0"
        assert st.up().summary.resource_changes == {"same": 1, "update": 2}
        outs = app_outputs(st)
        assert (outs["tag"], outs["digest"], outs.get("previousTag")) == ("1.0.0", pinned, None)
        assert_agree(st)


# --------------------------------------------------- 2.-4. a new rule or image: a new resolve


def test_a_rule_change_resolves_anew_records_previous_tag_and_inputs_follow(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("demo")
    digests = push(registry, repo, "1.0.0", "1.1.0", "2.0.0")
    st = make_stack(registry, tmp_path, repo, versionRange="[1.0,1.1)")
    st.up()
    st.refresh()  # (a refresh used to write the pin into the stored inputs)
    assert app_outputs(st)["tag"] == "1.0.0"

    configure(st, versionRange="[1.0,2.0)")
    preview, rec = run(st.preview)
    assert preview.change_summary == {auto.OpType.SAME: 2, auto.OpType.UPDATE: 1}
    shown = preview_outputs(rec, "app")
    assert shown.get("tag") == UNKNOWN and shown.get("imageRef") == UNKNOWN  # the resolve decides

    assert st.up().summary.resource_changes == {"same": 2, "update": 1}
    outs = app_outputs(st)
    assert (outs["tag"], outs["digest"], outs["previousTag"]) == ("1.1.0", digests["1.1.0"], "1.0.0")
    inputs = resource_state(st, "app")["inputs"]
    assert (inputs.get("tag"), inputs.get("digest")) == ("1.1.0", digests["1.1.0"])
    assert_agree(st)
    assert_quiet(st)


def test_switching_image_with_the_docker_strategy_resolves_fresh(
    registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    pg, tool = unique_repo("demo"), unique_repo("demo")
    push(registry, pg, "16", "17")
    digests = push(registry, tool, "1.2.3", "1.2.4")
    st = make_stack(registry, tmp_path, pg, strategy="docker")
    st.up()
    assert app_outputs(st)["tag"] == "17"

    configure(st, image=tool)
    assert st.up().summary.resource_changes == {"same": 2, "update": 1}
    outs = app_outputs(st)
    assert (outs["tag"], outs["digest"], outs["previousTag"]) == ("1.2.4", digests["1.2.4"], "17")
    assert_agree(st)
