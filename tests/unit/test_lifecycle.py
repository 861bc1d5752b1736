"""The lifecycle on plain dicts: when a pin is resolved, kept or moved, and what each operation
stores. The registry is a fake (tags per repository) behind the real version selection; the
registry client itself is tested elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi.output import Unknown

from dockerfeed import lifecycle
from dockerfeed.lifecycle import FEED, IMAGE, UNKNOWN, LifecycleError, is_unknown
from dockerfeed.lifecycle import feed as feed_module
from dockerfeed.lifecycle import image as image_module
from dockerfeed.resolve import Pin
from dockerfeed.resources.providers import DRY_RUN, DockerFeedProvider, ImageVersionProvider, ProviderError
from dockerfeed.versions import select_latest

FEED_IN = {"feedUri": "localhost:5000", "username": "ci", "password": "s3cret-Zq9"}
IMAGE_IN = {"feed": dict(FEED_IN), "image": "demo/webapp", "preReleaseTag": "^$"}


def digest(tag: str, salt: str = "") -> str:
    return "sha256:" + (format(abs(hash((tag, salt))), "x") * 8)[:64].rjust(64, "0")


@dataclass
class FakeRegistry:
    """Tags per repository; records every resolve (with its `current`) and verification."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    resolves: list[tuple[str, str | None]] = field(default_factory=list)
    verified: list[tuple[str, str, str | None]] = field(default_factory=list)
    down: bool = False
    seen: dict[str, Any] = field(default_factory=dict)
    connects: int = 0

    def push(self, repo: str, *tags: str, salt: str = "") -> None:
        for tag in tags:
            self.tags.setdefault(repo, {})[tag] = digest(tag, salt)

    def resolve_pin(self, props: dict[str, Any], current: str | None) -> Pin:
        model = image_module._model(props)
        self.resolves.append((model.image, current))
        if self.down:
            raise LifecycleError("GET http://localhost:5000/v2/ could not connect")
        tags = self.tags.get(model.image, {})
        winner = select_latest(list(tags), model.rule(), current=current).winner
        if winner is None:
            raise LifecycleError(f"no tag of {model.image} matches the version rules")
        return Pin(tag=winner.tag, version=winner.version, digest=tags[winner.tag], image_ref="(unused)")

    def verify_pin(self, props: dict[str, Any], tag: str, pinned: str) -> None:
        self.verified.append((tag, pinned, props["feed"].get("username")))
        if self.down:
            raise LifecycleError("the pinned manifest could not be verified")

    def connect(
        self, props: dict[str, Any], *, redetect: bool = False, catalog: bool = True
    ) -> dict[str, Any]:
        self.connects += 1
        if self.down:
            raise LifecycleError("GET http://localhost:5000/v2/ could not connect")
        return {
            "apiVersion": self.seen.get("apiVersion", "v2"),
            "registryUrl": "http://localhost:5000",
            "pullAddress": props.get("registryPath") or "localhost:5000",
            "authScheme": self.seen.get("authScheme", "basic"),
            "catalogSupported": self.seen.get("catalogSupported", True)
            if catalog
            else props["catalogSupported"],
        }


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    monkeypatch.setattr(image_module, "resolve_pin", fake.resolve_pin)
    monkeypatch.setattr(image_module, "verify_pin", fake.verify_pin)
    monkeypatch.setattr(feed_module, "connect", fake.connect)
    yield fake


def agree(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    """Inputs and outputs agree on every property both hold."""
    for key in set(inputs) & set(outputs):
        assert inputs[key] == outputs[key], key


def up_image(
    olds_in: dict[str, Any], olds_out: dict[str, Any] | None, news: dict[str, Any]
) -> tuple[dict, dict]:
    """One `up` of an ImageVersion as the dynamic face runs it: check (+settle), diff, create/update."""
    checked = IMAGE.check(olds_in, news)
    assert checked.failures == []
    inputs = IMAGE.settle(olds_in, checked.inputs)
    if olds_out is None:
        return inputs, IMAGE.create(inputs)[1]
    if not IMAGE.diff("id", olds_out, inputs).changes:
        return inputs, olds_out
    return inputs, IMAGE.update("id", olds_out, inputs)


# ---------------------------------------------------------------------------------- values


def test_unknown_is_either_spelling() -> None:
    assert is_unknown(Unknown()) and is_unknown(UNKNOWN) and is_unknown(lifecycle.UNKNOWN)
    assert not is_unknown("1.0.0") and not is_unknown(None) and not is_unknown([UNKNOWN])


def test_lifecycles_name_their_tokens() -> None:
    assert (FEED.token, IMAGE.token) == ("dockerfeed:index:DockerFeed", "dockerfeed:index:ImageVersion")
    assert FEED.__dict__ == {} and IMAGE.__dict__ == {}  # no state on the singletons


# ---------------------------------------------------------------------------- ImageVersion


def test_create_resolves_fresh_and_inputs_agree(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0", "1.1.0", "2.0.0-rc.1")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    assert registry.resolves == [("demo/webapp", None)]
    assert (outputs["tag"], outputs["digest"], outputs["previousTag"]) == ("1.1.0", digest("1.1.0"), None)
    assert outputs["imageRef"] == f"localhost:5000/demo/webapp:1.1.0@{digest('1.1.0')}"
    assert inputs["tag"] == "1.1.0"  # the dynamic face stores the pin with the inputs
    agree(inputs, outputs)
    # The pin resolved by check is the pin created: no second resolve.
    assert len(registry.resolves) == 1
    # The native face's check stores no pin on a create; create resolves.
    assert "tag" not in IMAGE.check({}, dict(IMAGE_IN)).inputs


def test_connection_changes_keep_and_verify_the_pin(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    registry.push("demo/webapp", "1.1.0")  # newer, unreviewed
    for feed in (
        {**FEED_IN, "username": "rotated", "password": "new-secret"},
        {**FEED_IN, "registryPath": "mirror:5000/hub"},
        {**FEED_IN, "feedUri": "http://localhost:5000/"},
        {**FEED_IN, "apiVersion": "v2"},
        {**FEED_IN, "caCertificate": "-----BEGIN CERTIFICATE-----\n…", "insecureSkipTlsVerify": True},
    ):
        news = {**IMAGE_IN, "feed": feed}
        assert IMAGE.diff("id", outputs, IMAGE.check(inputs, news).inputs).changed[0] == "feed"
        stored, outs = up_image(inputs, outputs, news)
        assert (outs["tag"], outs["digest"], outs["previousTag"]) == ("1.0.0", digest("1.0.0"), None), feed
        pull = feed.get("registryPath", "localhost:5000")
        assert outs["imageRef"] == f"{pull}/demo/webapp:1.0.0@{digest('1.0.0')}"
        agree(stored, outs)
    assert registry.resolves == [("demo/webapp", None)]
    assert [v[0] for v in registry.verified] == ["1.0.0"] * 5
    assert registry.verified[0][2] == "rotated"  # verified with the new credentials


def test_connection_change_without_a_stored_pin_keeps_the_outputs_pin(registry: FakeRegistry) -> None:
    # The native face (and state from before pins were stored in the inputs): no pin in the
    # inputs, the outputs' pin is kept and verified.
    registry.push("demo/webapp", "1.0.0")
    _, outputs = IMAGE.create(dict(IMAGE_IN))
    registry.push("demo/webapp", "1.1.0")
    news = IMAGE.check(dict(IMAGE_IN), {**IMAGE_IN, "feed": {**FEED_IN, "registryPath": "m:5000"}}).inputs
    assert "tag" not in news
    outs = IMAGE.update("id", outputs, news)
    assert (outs["tag"], outs["imageRef"]) == ("1.0.0", f"m:5000/demo/webapp:1.0.0@{digest('1.0.0')}")
    assert registry.resolves == [("demo/webapp", None)] and len(registry.verified) == 1


def test_a_rule_change_resolves_from_the_pinned_tag_and_sets_previous_tag(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0", "1.1.0", "2.0.0")
    inputs, outputs = up_image({}, None, {**IMAGE_IN, "versionRange": "[1.0,1.1)"})
    assert outputs["tag"] == "1.0.0"
    stored, outs = up_image(inputs, outputs, {**IMAGE_IN, "versionRange": "[1.0,2.0)"})
    assert registry.resolves[-1] == ("demo/webapp", "1.0.0")
    assert (outs["tag"], outs["previousTag"]) == ("1.1.0", "1.0.0")
    assert (stored["tag"], stored["digest"]) == ("1.1.0", digest("1.1.0"))
    agree(stored, outs)
    # A rule change that picks the same pin keeps previousTag as it was.
    again, outs2 = up_image(stored, outs, {**IMAGE_IN, "versionRange": "[1.1,2.0)"})
    assert (outs2["tag"], outs2["previousTag"]) == ("1.1.0", "1.0.0")
    agree(again, outs2)


def test_a_new_image_resolves_fresh_with_the_docker_strategy(registry: FakeRegistry) -> None:
    registry.push("demo/pg2", "16", "17")
    registry.push("demo/tool", "1.2.3", "1.2.4")
    inputs, outputs = up_image({}, None, {**IMAGE_IN, "image": "demo/pg2", "strategy": "docker"})
    assert outputs["tag"] == "17"
    stored, outs = up_image(inputs, outputs, {**IMAGE_IN, "image": "demo/tool", "strategy": "docker"})
    assert registry.resolves[-1] == ("demo/tool", None)  # not the old pin's variant and part count
    assert (outs["tag"], outs["previousTag"]) == ("1.2.4", "17")
    agree(stored, outs)
    # The same through the native face: update resolves fresh too.
    native = IMAGE.update(
        "id", outputs, IMAGE.check({}, {**IMAGE_IN, "image": "demo/tool", "strategy": "docker"}).inputs
    )
    assert native["tag"] == "1.2.4"


def test_read_with_nothing_new_gives_back_exactly_what_is_stored(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    found = IMAGE.read("id", outputs)
    assert found.outputs == outputs and found.inputs == inputs
    native_inputs = IMAGE.check({}, dict(IMAGE_IN)).inputs  # a native create stores no pin
    assert IMAGE.read("id", outputs, native_inputs).inputs == native_inputs
    assert registry.resolves[-1] == ("demo/webapp", "1.0.0")


def test_read_moves_the_pin_in_outputs_and_inputs(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    registry.push("demo/webapp", "1.1.0")
    found = IMAGE.read("id", outputs)
    assert (found.outputs["tag"], found.outputs["previousTag"]) == ("1.1.0", "1.0.0")
    assert found.outputs["__moved"] == {"tag": "1.0.0", "digest": digest("1.0.0")}
    assert {k for k in found.inputs if found.inputs[k] != inputs.get(k)} == {
        "tag",
        "version",
        "digest",
        "imageRef",
    }
    agree(found.inputs, found.outputs)
    # The refresh's diff (stored inputs against refreshed outputs) shows it; the next up does not.
    assert IMAGE.diff("id", found.outputs, inputs).changed == ["tag", "version", "digest", "imageRef"]
    stored, outs = up_image(found.inputs, found.outputs, dict(IMAGE_IN))
    assert outs is found.outputs and stored == found.inputs
    # The same tag rebuilt (its digest moved): previousTag is that tag.
    registry.push("demo/webapp", "1.1.0", salt="rebuilt")
    rebuilt = IMAGE.read("id", found.outputs)
    assert (rebuilt.outputs["tag"], rebuilt.outputs["previousTag"]) == ("1.1.0", "1.1.0")
    assert IMAGE.diff("id", rebuilt.outputs, found.inputs).changed == ["digest", "imageRef"]


def test_read_moves_the_same_way_whatever_the_stored_inputs(registry: FakeRegistry) -> None:
    # Native: inputs without a pin (after create) and with one (after a move) get the same keys.
    registry.push("demo/webapp", "1.0.0")
    _, outputs = IMAGE.create(dict(IMAGE_IN))
    bare = IMAGE.check({}, dict(IMAGE_IN)).inputs
    registry.push("demo/webapp", "1.1.0")
    first = IMAGE.read("id", outputs, bare)
    assert IMAGE.diff("id", first.outputs, bare).changed == ["tag", "digest"]  # (the refresh's mark)
    registry.push("demo/webapp", "1.2.0")
    second = IMAGE.read("id", first.outputs, first.inputs)
    assert IMAGE.diff("id", second.outputs, first.inputs).changed == ["tag", "version", "digest", "imageRef"]


def test_read_never_moves_on_a_failed_resolve(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    _, outputs = up_image({}, None, dict(IMAGE_IN))
    registry.down = True
    with pytest.raises(LifecycleError, match="could not connect"):
        IMAGE.read("id", outputs)


def test_get_reads_a_given_pin(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0", "1.1.0")
    given = {**IMAGE_IN, "tag": "1.0.0", "digest": digest("1.0.0")}
    found = IMAGE.read("elsewhere", given)
    assert (found.outputs["tag"], found.outputs["previousTag"]) == ("1.1.0", "1.0.0")
    current = IMAGE.read("elsewhere", {**IMAGE_IN, "tag": "1.1.0", "digest": digest("1.1.0")})
    assert current.outputs["previousTag"] is None and current.outputs["version"] == "1.1.0"


def test_preview_knows_what_is_kept_and_not_what_a_resolve_decides(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    moved_pull = {**IMAGE_IN, "feed": {**FEED_IN, "registryPath": "mirror:5000"}}
    for olds in (inputs, outputs):  # the dynamic face passes the stored inputs, the native the outputs
        shown = IMAGE.preview(olds, IMAGE.check(inputs, moved_pull).inputs)
        assert shown["imageRef"] == f"mirror:5000/demo/webapp:1.0.0@{digest('1.0.0')}"
        assert shown["tag"] == "1.0.0"
    # A password not known yet (another resource's output) is no reason not to know imageRef.
    unknown_password = {**IMAGE_IN, "feed": {**FEED_IN, "password": Unknown(), "registryPath": "mirror:5000"}}
    shown = IMAGE.preview(outputs, IMAGE.check(inputs, unknown_password).inputs)
    assert (shown["tag"], shown["imageRef"]) == ("1.0.0", f"mirror:5000/demo/webapp:1.0.0@{digest('1.0.0')}")
    shown = IMAGE.preview(outputs, IMAGE.check({}, moved_pull).inputs)  # native: no pin in inputs
    assert shown["tag"] == "1.0.0" and shown["previousTag"] is None
    rule = IMAGE.check(inputs, {**IMAGE_IN, "versionRange": "[2.0,3.0)"}).inputs
    shown = IMAGE.preview(outputs, rule)
    assert {shown[k] for k in ("tag", "version", "digest", "imageRef", "previousTag")} == {UNKNOWN}
    assert shown["platformDigest"] is None  # no platform asked for
    created = IMAGE.preview({}, IMAGE.check({}, dict(IMAGE_IN)).inputs)
    assert created["tag"] == UNKNOWN and created["previousTag"] is None
    # Stored inputs without a pin and nothing to resolve: nothing to show, nothing will change.
    legacy = IMAGE.preview(dict(IMAGE_IN), dict(IMAGE_IN))
    assert "tag" not in legacy
    assert registry.resolves == [("demo/webapp", None)]  # previews never resolve


def test_settle_resolves_only_when_a_resolve_is_due(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs = IMAGE.settle({}, IMAGE.check({}, dict(IMAGE_IN)).inputs)
    assert inputs["tag"] == "1.0.0" and len(registry.resolves) == 1
    assert IMAGE.settle(inputs, IMAGE.check(inputs, dict(IMAGE_IN)).inputs) == inputs
    legacy = IMAGE.settle(dict(IMAGE_IN), IMAGE.check(dict(IMAGE_IN), dict(IMAGE_IN)).inputs)
    assert "tag" not in legacy  # state from before: never resolved silently
    assert len(registry.resolves) == 1


def test_update_trusts_a_pin_its_check_resolved(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    inputs, outputs = up_image({}, None, dict(IMAGE_IN))
    registry.push("demo/webapp", "1.1.0")
    news = IMAGE.settle(inputs, IMAGE.check(inputs, {**IMAGE_IN, "preReleaseTag": "^$|^rc"}).inputs)
    registry.push("demo/webapp", "1.2.0")  # between check and update: update keeps check's pin
    outs = IMAGE.update("id", outputs, news)
    assert outs["tag"] == news["tag"] == "1.1.0"
    assert registry.verified == []


# ---------------------------------------------------------------------------------- DockerFeed


def up_feed(
    olds_in: dict[str, Any], olds_out: dict[str, Any] | None, news: dict[str, Any]
) -> tuple[dict, dict]:
    checked = FEED.check(olds_in, news)
    assert checked.failures == []
    inputs = FEED.settle(olds_in, checked.inputs)
    if olds_out is None:
        return inputs, FEED.create(inputs)[1]
    if not FEED.diff("id", olds_out, inputs).changes:
        return inputs, olds_out
    return inputs, FEED.update("id", olds_out, inputs)


def test_feed_create_update_and_quiet_up(registry: FakeRegistry) -> None:
    inputs, outputs = up_feed({}, None, dict(FEED_IN))
    assert registry.connects == 1
    assert (outputs["apiVersion"], outputs["authScheme"], outputs["previousApiVersion"]) == (
        "v2",
        "basic",
        None,
    )
    assert inputs["apiVersion"] == "v2"  # what was found, acknowledged
    agree(inputs, outputs)
    _, same_out = up_feed(inputs, outputs, dict(FEED_IN))
    assert same_out is outputs and registry.connects == 1
    rotated_in, rotated_out = up_feed(inputs, outputs, {**FEED_IN, "password": "rotated"})
    assert registry.connects == 2 and rotated_out["password"] == "rotated"
    agree(rotated_in, rotated_out)
    # An update that finds another API version records the old one.
    registry.seen["apiVersion"] = "v1"
    moved_in, moved_out = up_feed(rotated_in, rotated_out, {**FEED_IN, "password": "again"})
    assert (moved_out["apiVersion"], moved_out["previousApiVersion"]) == ("v1", "v2")
    agree(moved_in, moved_out)


def test_feed_read_quiet_and_moved(registry: FakeRegistry) -> None:
    inputs, outputs = up_feed({}, None, dict(FEED_IN))
    quiet = FEED.read("id", outputs)
    assert quiet.outputs == outputs and quiet.inputs == inputs
    registry.seen.update(apiVersion="v1", catalogSupported=False)
    moved = FEED.read("id", outputs)
    assert (moved.outputs["apiVersion"], moved.outputs["previousApiVersion"]) == ("v1", "v2")
    assert moved.outputs["catalogSupported"] is True  # probed by create and update only
    assert moved.inputs["apiVersion"] == "v1"
    agree(moved.inputs, moved.outputs)
    assert FEED.diff("id", moved.outputs, inputs).changed == ["apiVersion"]
    _, outs = up_feed(moved.inputs, moved.outputs, dict(FEED_IN))
    assert outs is moved.outputs


def test_feed_preview(registry: FakeRegistry) -> None:
    inputs, outputs = up_feed({}, None, dict(FEED_IN))
    kept = FEED.preview(outputs, FEED.check(inputs, dict(FEED_IN)).inputs)
    assert (kept["apiVersion"], kept["authScheme"]) == ("v2", "basic")
    rotated = FEED.preview(outputs, FEED.check(inputs, {**FEED_IN, "registryPath": "m:5000"}).inputs)
    assert rotated["pullAddress"] == "m:5000" and rotated["authScheme"] == UNKNOWN
    assert registry.connects == 1


# ------------------------------------------------------------------ the dynamic face (adapter)


def test_dynamic_check_in_a_preview_shows_unknown_where_a_resolve_decides(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    stored = IMAGE.settle({}, IMAGE.check({}, dict(IMAGE_IN)).inputs)
    provider = ImageVersionProvider()
    preview = provider.check(stored, {**IMAGE_IN, "versionRange": "[2.0,3.0)", DRY_RUN: True})
    assert preview.inputs["tag"] == UNKNOWN and DRY_RUN not in preview.inputs
    kept = provider.check(stored, {**IMAGE_IN, "feed": {**FEED_IN, "registryPath": "m:5000"}, DRY_RUN: True})
    assert kept.inputs["imageRef"] == f"m:5000/demo/webapp:1.0.0@{digest('1.0.0')}"
    assert len(registry.resolves) == 1
    up = provider.check(stored, {**IMAGE_IN, "versionRange": "[1.0,2.0)"})
    assert up.inputs["tag"] == "1.0.0" and len(registry.resolves) == 2


def test_dynamic_read_leaves_the_inputs_alone_unless_the_pin_moved(registry: FakeRegistry) -> None:
    registry.push("demo/webapp", "1.0.0")
    _, outputs = up_image({}, None, dict(IMAGE_IN))
    provider = ImageVersionProvider()
    quiet = provider.read("id", {**outputs, "__provider": "pickle"})
    assert quiet.inputs is None and quiet.outs == outputs
    registry.push("demo/webapp", "1.1.0")
    moved = provider.read("id", {**outputs, "__provider": "pickle"})
    assert moved.inputs is not None and moved.inputs["tag"] == "1.1.0"
    assert "__provider" not in moved.inputs


def test_dynamic_errors_are_one_plain_message(registry: FakeRegistry) -> None:
    registry.down = True
    with pytest.raises(ProviderError, match="could not connect"):
        ImageVersionProvider().check({}, dict(IMAGE_IN))
    with pytest.raises(ProviderError, match="could not connect"):
        DockerFeedProvider().create(dict(FEED_IN))
    failures = ImageVersionProvider().check({}, {**IMAGE_IN, "versionRange": "[1.0"}).failures
    assert [f.property for f in failures] == ["versionRange"]
