"""check and diff of both resources' lifecycle on plain dicts (no engine, no registry)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from dockerfeed.lifecycle import FEED as FEED_LC
from dockerfeed.lifecycle import IMAGE as IMAGE_LC
from dockerfeed.lifecycle import UNKNOWN, FeedLifecycle, ImageVersionLifecycle

Lifecycle = FeedLifecycle | ImageVersionLifecycle

FEED = {"feedUri": "localhost:5000", "username": "ci", "password": "s3cret-Zq9"}
IMAGE = {"feed": dict(FEED), "image": "demo/webapp", "preReleaseTag": "^$"}
PROVIDER = {"__provider": "gASVPgAAAAAAAACMJmRvY2tlcmZlZWQ"}


def failures(
    lifecycle: Lifecycle, news: dict[str, Any], olds: dict[str, Any] | None = None
) -> dict[str, str]:
    result = lifecycle.check(olds or {}, news)
    props = [prop for prop, _ in result.failures]
    assert len(props) == len(set(props)), f"more than one failure for a property: {props}"
    return dict(result.failures)


# ----------------------------------------------------------------------------------- check


def test_check_accepts_good_inputs() -> None:
    assert failures(FEED_LC, {**FEED, **PROVIDER}) == {}
    assert failures(IMAGE_LC, {**IMAGE, **PROVIDER}) == {}


def test_check_feed_one_failure_per_bad_property() -> None:
    found = failures(
        FEED_LC,
        {
            "feedUri": "ftp://registry.example.com",
            "registryPath": "has space",
            "apiVersion": "v9",
            "caCertificate": "not pem",
            **PROVIDER,
        },
    )
    assert set(found) == {"feedUri", "registryPath", "apiVersion", "caCertificate"}
    assert "ftp" in found["feedUri"]
    assert "'auto', 'v2' or 'v1'" in found["apiVersion"]


def test_check_feed_required_and_credential_pairs() -> None:
    assert set(failures(FEED_LC, {"registryPath": "r:5000"})) == {"feedUri"}
    only_user = failures(FEED_LC, {"feedUri": "localhost:5000", "username": "ci"})
    assert set(only_user) == {"password"}
    only_password = failures(FEED_LC, {"feedUri": "localhost:5000", "password": "x"})
    assert set(only_password) == {"username"}
    both = failures(FEED_LC, {**FEED, "useDockerConfig": True})
    assert set(both) == {"useDockerConfig"}


def test_check_never_echoes_the_password() -> None:
    found = failures(FEED_LC, {"feedUri": "bad host:x", "password": "s3cret-Zq9"})
    assert "s3cret-Zq9" not in repr(found)


def test_check_image_one_failure_per_bad_property() -> None:
    found = failures(
        IMAGE_LC,
        {
            "feed": {"feedUri": "ftp://x"},
            "image": "Not A Repo",
            "versionRange": "[1.0",
            "preReleaseTag": "(",
            "tagInclude": "[",
            "tagExclude": ["ok", "("],
            "strategy": "newest",
            "platform": "linux",
        },
    )
    assert set(found) == {
        "feed.feedUri",
        "image",
        "versionRange",
        "preReleaseTag",
        "tagInclude",
        "tagExclude",
        "strategy",
        "platform",
    }
    assert "newest" in found["strategy"]


def test_check_image_nested_feed_properties_are_named_in_full() -> None:
    found = failures(IMAGE_LC, {"feed": {"feedUri": "localhost:5000", "username": "u"}, "image": "x"})
    assert set(found) == {"feed.password"}
    assert set(failures(IMAGE_LC, {"feed": {}, "image": "x"})) == {"feed.feedUri"}
    assert set(failures(IMAGE_LC, {"image": "x"})) == {"feed"}


def test_check_image_variant_needs_the_docker_strategy() -> None:
    assert set(failures(IMAGE_LC, {**IMAGE, "variant": "alpine"})) == {"variant"}
    assert failures(IMAGE_LC, {**IMAGE, "variant": "alpine", "strategy": "docker"}) == {}


@pytest.mark.parametrize(
    "news",
    [
        {"feedUri": Unknown()},
        {"feedUri": "localhost:5000", "username": Unknown(), "password": Unknown()},
        {"feedUri": "localhost:5000", "username": "ci", "password": Unknown()},
        {"feedUri": "localhost:5000", "apiVersion": Unknown(), "registryPath": Unknown()},
    ],
)
def test_check_feed_tolerates_unknowns(news: dict[str, Any]) -> None:
    assert failures(FEED_LC, news) == {}


@pytest.mark.parametrize(
    "news",
    [
        {"feed": Unknown(), "image": Unknown()},
        # A DockerFeed created in the same run: its outputs are unknown during preview.
        {
            "feed": {"feedUri": Unknown(), "username": "ci", "password": Unknown(), "apiVersion": Unknown()},
            "image": "x",
        },
        {"feed": {"feedUri": "localhost:5000"}, "image": "x", "versionRange": Unknown()},
        {"feed": {"feedUri": "localhost:5000"}, "image": "x", "tagExclude": [Unknown(), "^old"]},
        {"feed": {"feedUri": "localhost:5000"}, "image": "x", "tagExclude": Unknown()},
        {"feed": {"feedUri": "localhost:5000"}, "image": "x", "strategy": Unknown(), "variant": "alpine"},
        {"feed": {"feedUri": "localhost:5000"}, "image": "x", "strategy": "docker", "variant": Unknown()},
    ],
)
def test_check_image_tolerates_unknowns(news: dict[str, Any]) -> None:
    assert failures(IMAGE_LC, news) == {}


def test_check_still_reports_known_bad_values_next_to_unknowns() -> None:
    found = failures(
        IMAGE_LC,
        {
            "feed": {"feedUri": Unknown()},
            "image": Unknown(),
            "versionRange": "[1.0",
            "tagExclude": [Unknown(), "("],
        },
    )
    assert set(found) == {"versionRange", "tagExclude"}


def test_check_carries_the_stored_pin_while_no_resolve_is_due() -> None:
    digest = "sha256:" + "a" * 64
    pin = {
        "tag": "1.1.0",
        "version": "1.1.0",
        "digest": digest,
        "imageRef": f"localhost:5000/demo/webapp:1.1.0@{digest}",
    }
    olds = {**IMAGE, **pin}
    assert {k: IMAGE_LC.check(olds, dict(IMAGE)).inputs.get(k) for k in pin} == pin
    # imageRef follows the pull address; credentials, aliases and apiVersion keep the pin.
    moved = {**IMAGE, "feed": {**FEED, "registryPath": "mirror:5000/hub"}}
    assert IMAGE_LC.check(olds, moved).inputs["imageRef"] == f"mirror:5000/hub/demo/webapp:1.1.0@{digest}"
    for feed in (
        {**FEED, "username": "other", "password": "rotated"},
        {**FEED, "feedUri": "http://localhost:5000/v2/"},
        {**FEED, "apiVersion": "v2"},
        {**FEED, "insecureSkipTlsVerify": True},
    ):
        assert IMAGE_LC.check(olds, {**IMAGE, "feed": feed}).inputs.get("tag") == "1.1.0", feed
    # No stored pin (a create), a legacy one (tag and digest only), or a resolve due: none carried.
    assert "tag" not in IMAGE_LC.check({}, dict(IMAGE)).inputs
    assert "tag" not in IMAGE_LC.check({**IMAGE, "tag": "1.1.0", "digest": digest}, dict(IMAGE)).inputs
    for news in (
        {**IMAGE, "versionRange": "[2.0,3.0)"},
        {**IMAGE, "image": "demo/other"},
        {**IMAGE, "strategy": "docker"},
        {**IMAGE, "feed": {**FEED, "feedUri": "localhost:5001"}},
        {**IMAGE, "preReleaseTag": Unknown()},
    ):
        assert "tag" not in IMAGE_LC.check(olds, news).inputs, news
    # The default strategy written out is no new rule.
    assert IMAGE_LC.check(olds, {**IMAGE, "strategy": "octopus"}).inputs.get("tag") == "1.1.0"


# ------------------------------------------------------------------------------------ diff

FEED_OUTS = {
    **FEED,
    "apiVersion": "v2",
    "registryUrl": "http://localhost:5000",
    "pullAddress": "localhost:5000",
    "authScheme": "basic",
    "catalogSupported": True,
}
PIN = {"tag": "1.1.0", "digest": "sha256:" + "1" * 64}
IMAGE_OUTS = {
    **IMAGE,
    **PIN,
    "version": "1.1.0",
    "imageRef": "localhost:5000/demo/webapp:1.1.0@sha256:" + "1" * 64,
}


def changed(lifecycle: Lifecycle, olds: dict[str, Any], news: dict[str, Any]) -> bool:
    result = lifecycle.diff("id", olds, news)
    # Nothing is ever replaced: a feed or pin is state in the stack, not a remote object.
    assert result.replaces == []
    assert result.changes == bool(result.changed)
    return result.changes


def test_diff_feed_same_inputs_no_change() -> None:
    assert not changed(FEED_LC, FEED_OUTS, dict(FEED))


def test_diff_feed_provider_alone_is_no_change() -> None:
    olds = {**FEED_OUTS, "__provider": "old-pickle"}
    assert not changed(FEED_LC, olds, {**FEED, "__provider": "new-pickle"})
    olds = {**IMAGE_OUTS, "__provider": "old-pickle"}
    assert not changed(IMAGE_LC, olds, {**IMAGE, **PIN, "__provider": "new-pickle"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("feedUri", "localhost:5001"),
        ("registryPath", "mirror.internal:5000"),
        ("username", "other"),
        ("password", "another-password"),
        ("useDockerConfig", True),
        ("caCertificate", "-----BEGIN CERTIFICATE-----\n..."),
        ("insecureSkipTlsVerify", True),
        ("apiVersion", "v1"),
    ],
)
def test_diff_feed_each_input_is_a_change(key: str, value: Any) -> None:
    assert changed(FEED_LC, FEED_OUTS, {**FEED, key: value})


@pytest.mark.parametrize("value", [None, "auto", "v2"])
def test_diff_feed_api_version_auto_accepts_what_was_detected(value: str | None) -> None:
    news = dict(FEED) if value is None else {**FEED, "apiVersion": value}
    assert not changed(FEED_LC, FEED_OUTS, news)


def test_diff_feed_computed_outputs_are_not_inputs() -> None:
    # Outputs the provider computed never count against the program's inputs.
    olds = {**FEED_OUTS, "catalogSupported": False, "authScheme": "bearer"}
    assert not changed(FEED_LC, olds, dict(FEED))


def test_diff_feed_unset_and_empty_are_the_same() -> None:
    assert not changed(FEED_LC, {**FEED_OUTS, "registryPath": ""}, dict(FEED))


def test_diff_unknown_input_is_a_change() -> None:
    assert changed(FEED_LC, FEED_OUTS, {**FEED, "feedUri": Unknown()})
    assert changed(FEED_LC, FEED_OUTS, {**FEED, "apiVersion": Unknown()})
    assert changed(IMAGE_LC, IMAGE_OUTS, {**IMAGE, **PIN, "versionRange": Unknown()})


def test_diff_image_same_inputs_no_change() -> None:
    assert not changed(IMAGE_LC, IMAGE_OUTS, {**IMAGE, **PIN})
    # No pin in the inputs (first up after an import of old state): still no change.
    assert not changed(IMAGE_LC, IMAGE_OUTS, dict(IMAGE))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("image", "demo/other"),
        ("versionRange", "[1.0,2.0)"),
        ("preReleaseTag", "^beta"),
        ("tagInclude", "^1\\."),
        ("tagExclude", ["^1\\.0"]),
        ("strategy", "semver"),
        ("variant", "alpine"),
        ("platform", "linux/arm64"),
    ],
)
def test_diff_image_each_input_is_a_change(key: str, value: Any) -> None:
    assert changed(IMAGE_LC, IMAGE_OUTS, {**IMAGE, **PIN, key: value})


@pytest.mark.parametrize(("key", "value"), [("feedUri", "localhost:5001"), ("password", "rotated")])
def test_diff_image_feed_settings_are_compared_property_by_property(key: str, value: str) -> None:
    news = {**IMAGE, **PIN, "feed": {**FEED, key: value}}
    assert changed(IMAGE_LC, IMAGE_OUTS, news)
    same = {**IMAGE, **PIN, "feed": dict(FEED)}
    assert not changed(IMAGE_LC, IMAGE_OUTS, same)


def test_diff_drift_rule() -> None:
    moved = {"tag": "1.2.0", "version": "1.2.0", "digest": "sha256:" + "2" * 64}
    moved["imageRef"] = f"localhost:5000/demo/webapp:1.2.0@{moved['digest']}"
    stored = {**IMAGE, **PIN, "version": "1.1.0", "imageRef": IMAGE_OUTS["imageRef"]}
    refreshed = {**IMAGE_OUTS, **moved, "previousTag": "1.1.0"}
    # refresh: olds = refreshed outputs, news = the inputs stored before the refresh → drift.
    assert IMAGE_LC.diff("id", refreshed, stored).changed == ["tag", "version", "digest", "imageRef"]
    # the next up: check carried the refreshed pin (which read stored) into the inputs → nothing.
    acknowledged = IMAGE_LC.check({**IMAGE, **moved}, dict(IMAGE)).inputs
    assert not changed(IMAGE_LC, refreshed, acknowledged)
    # the same tag with a moved digest is drift too.
    same_tag = {**IMAGE_OUTS, "digest": moved["digest"], "previousTag": "1.1.0"}
    assert IMAGE_LC.diff("id", same_tag, stored).changed == ["digest"]
    # Inputs stored before any refresh moved the pin (no pin in them): the refresh's mark says it.
    marked = {**refreshed, "__moved": {"tag": "1.1.0", "digest": PIN["digest"]}}
    assert IMAGE_LC.diff("id", marked, dict(IMAGE)).changed == ["tag", "digest"]
    assert not changed(IMAGE_LC, refreshed, dict(IMAGE))  # a pin no refresh moved is no drift
    # A new resolve's unknown pin (preview) is a change.
    assert changed(
        IMAGE_LC,
        IMAGE_OUTS,
        {**IMAGE, "tag": UNKNOWN, "digest": UNKNOWN, "version": UNKNOWN, "imageRef": UNKNOWN},
    )


@pytest.mark.parametrize("value", [None, "auto"])
def test_diff_image_feed_api_version_auto_accepts_what_was_detected(value: str | None) -> None:
    olds = {**IMAGE_OUTS, "feed": {**FEED, "apiVersion": "v2"}}
    feed = dict(FEED) if value is None else {**FEED, "apiVersion": value}
    assert not changed(IMAGE_LC, olds, {**IMAGE, **PIN, "feed": feed})
    assert changed(IMAGE_LC, olds, {**IMAGE, **PIN, "feed": {**FEED, "apiVersion": "v1"}})


def test_feed_diff_reports_an_api_version_change_found_by_refresh_until_acknowledged() -> None:
    inputs = {"feedUri": "localhost:5000"}
    seen = {"registryUrl": "http://localhost:5000", "pullAddress": "localhost:5000", "authScheme": "basic"}
    stored = {**inputs, **seen, "apiVersion": "v2", "catalogSupported": True}
    refreshed = {**stored, "apiVersion": "v1", "previousApiVersion": "v2", "__moved": {"apiVersion": "v2"}}
    # The refresh's own diff: the stored inputs acknowledge v2, the registry answers v1.
    assert FEED_LC.diff("id", refreshed, stored).changed == ["apiVersion"]
    # The refresh stored v1 in the inputs; check carries it into the next up: no change.
    checked = FEED_LC.check({**stored, "apiVersion": "v1"}, dict(inputs)).inputs
    assert checked["apiVersion"] == "v1"
    assert not changed(FEED_LC, refreshed, checked)
    # Inputs stored without what was seen (before any refresh): the refresh's mark says it.
    assert FEED_LC.diff("id", refreshed, dict(inputs)).changed == ["apiVersion"]
    unmarked = {k: v for k, v in refreshed.items() if k != "__moved"}
    assert not changed(FEED_LC, unmarked, dict(inputs))
    # An explicit apiVersion is verified against what was found.
    assert changed(FEED_LC, {**stored}, {**stored, "apiVersion": "v1"})
