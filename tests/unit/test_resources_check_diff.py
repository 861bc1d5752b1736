"""check and diff of both providers, called directly (no engine, no registry)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from dockerfeed.resources.providers import DockerFeedProvider, ImageVersionProvider

FEED = {"feedUri": "localhost:5000", "username": "ci", "password": "s3cret-Zq9"}
IMAGE = {"feed": dict(FEED), "image": "demo/webapp", "preReleaseTag": "^$"}
PROVIDER = {"__provider": "gASVPgAAAAAAAACMJmRvY2tlcmZlZWQ"}


def failures(provider: Any, news: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, str]:
    result = provider.check(olds or {}, news)
    props = [f.property for f in result.failures]
    assert len(props) == len(set(props)), f"more than one failure for a property: {props}"
    return {f.property: f.reason for f in result.failures}


# ----------------------------------------------------------------------------------- check


def test_check_accepts_good_inputs() -> None:
    assert failures(DockerFeedProvider(), {**FEED, **PROVIDER}) == {}
    assert failures(ImageVersionProvider(), {**IMAGE, **PROVIDER}) == {}


def test_check_feed_one_failure_per_bad_property() -> None:
    found = failures(
        DockerFeedProvider(),
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
    assert set(failures(DockerFeedProvider(), {"registryPath": "r:5000"})) == {"feedUri"}
    only_user = failures(DockerFeedProvider(), {"feedUri": "localhost:5000", "username": "ci"})
    assert set(only_user) == {"password"}
    only_password = failures(DockerFeedProvider(), {"feedUri": "localhost:5000", "password": "x"})
    assert set(only_password) == {"username"}
    both = failures(DockerFeedProvider(), {**FEED, "useDockerConfig": True})
    assert set(both) == {"useDockerConfig"}


def test_check_never_echoes_the_password() -> None:
    found = failures(DockerFeedProvider(), {"feedUri": "bad host:x", "password": "s3cret-Zq9"})
    assert "s3cret-Zq9" not in repr(found)


def test_check_image_one_failure_per_bad_property() -> None:
    found = failures(
        ImageVersionProvider(),
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
    found = failures(
        ImageVersionProvider(), {"feed": {"feedUri": "localhost:5000", "username": "u"}, "image": "x"}
    )
    assert set(found) == {"feed.password"}
    assert set(failures(ImageVersionProvider(), {"feed": {}, "image": "x"})) == {"feed.feedUri"}
    assert set(failures(ImageVersionProvider(), {"image": "x"})) == {"feed"}


def test_check_image_variant_needs_the_docker_strategy() -> None:
    assert set(failures(ImageVersionProvider(), {**IMAGE, "variant": "alpine"})) == {"variant"}
    assert failures(ImageVersionProvider(), {**IMAGE, "variant": "alpine", "strategy": "docker"}) == {}


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
    assert failures(DockerFeedProvider(), news) == {}


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
    assert failures(ImageVersionProvider(), news) == {}


def test_check_still_reports_known_bad_values_next_to_unknowns() -> None:
    found = failures(
        ImageVersionProvider(),
        {
            "feed": {"feedUri": Unknown()},
            "image": Unknown(),
            "versionRange": "[1.0",
            "tagExclude": [Unknown(), "("],
        },
    )
    assert set(found) == {"versionRange", "tagExclude"}


def test_check_carries_the_pin_forward_from_olds() -> None:
    olds = {**IMAGE, "tag": "1.1.0", "digest": "sha256:" + "a" * 64}
    result = ImageVersionProvider().check(olds, dict(IMAGE))
    assert (result.inputs["tag"], result.inputs["digest"]) == ("1.1.0", "sha256:" + "a" * 64)
    assert "tag" not in ImageVersionProvider().check({}, dict(IMAGE)).inputs


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


def changed(provider: Any, olds: dict[str, Any], news: dict[str, Any]) -> bool:
    result = provider.diff("id", olds, news)
    # Nothing is ever replaced: a feed or pin is state in the stack, not a remote object.
    assert result.replaces == []
    assert result.delete_before_replace is False
    return bool(result.changes)


def test_diff_feed_same_inputs_no_change() -> None:
    assert not changed(DockerFeedProvider(), FEED_OUTS, dict(FEED))


def test_diff_feed_provider_alone_is_no_change() -> None:
    olds = {**FEED_OUTS, "__provider": "old-pickle"}
    assert not changed(DockerFeedProvider(), olds, {**FEED, "__provider": "new-pickle"})
    olds = {**IMAGE_OUTS, "__provider": "old-pickle"}
    assert not changed(ImageVersionProvider(), olds, {**IMAGE, **PIN, "__provider": "new-pickle"})


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
    assert changed(DockerFeedProvider(), FEED_OUTS, {**FEED, key: value})


@pytest.mark.parametrize("value", [None, "auto", "v2"])
def test_diff_feed_api_version_auto_accepts_what_was_detected(value: str | None) -> None:
    news = dict(FEED) if value is None else {**FEED, "apiVersion": value}
    assert not changed(DockerFeedProvider(), FEED_OUTS, news)


def test_diff_feed_computed_outputs_are_not_inputs() -> None:
    # Outputs the provider computed never count against the program's inputs.
    olds = {**FEED_OUTS, "catalogSupported": False, "authScheme": "bearer"}
    assert not changed(DockerFeedProvider(), olds, dict(FEED))


def test_diff_feed_unset_and_empty_are_the_same() -> None:
    assert not changed(DockerFeedProvider(), {**FEED_OUTS, "registryPath": ""}, dict(FEED))


def test_diff_unknown_input_is_a_change() -> None:
    assert changed(DockerFeedProvider(), FEED_OUTS, {**FEED, "feedUri": Unknown()})
    assert changed(DockerFeedProvider(), FEED_OUTS, {**FEED, "apiVersion": Unknown()})
    assert changed(ImageVersionProvider(), IMAGE_OUTS, {**IMAGE, **PIN, "versionRange": Unknown()})


def test_diff_image_same_inputs_no_change() -> None:
    assert not changed(ImageVersionProvider(), IMAGE_OUTS, {**IMAGE, **PIN})
    # No pin in the inputs (first up after an import of old state): still no change.
    assert not changed(ImageVersionProvider(), IMAGE_OUTS, dict(IMAGE))


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
    assert changed(ImageVersionProvider(), IMAGE_OUTS, {**IMAGE, **PIN, key: value})


@pytest.mark.parametrize(("key", "value"), [("feedUri", "localhost:5001"), ("password", "rotated")])
def test_diff_image_feed_settings_are_compared_property_by_property(key: str, value: str) -> None:
    news = {**IMAGE, **PIN, "feed": {**FEED, key: value}}
    assert changed(ImageVersionProvider(), IMAGE_OUTS, news)
    same = {**IMAGE, **PIN, "feed": dict(FEED)}
    assert not changed(ImageVersionProvider(), IMAGE_OUTS, same)


def test_diff_drift_rule() -> None:
    moved = {"tag": "1.2.0", "digest": "sha256:" + "2" * 64}
    refreshed = {**IMAGE_OUTS, **moved, "previousTag": "1.1.0"}
    # refresh: olds = refreshed outputs, news = the inputs stored before the refresh → drift.
    result = ImageVersionProvider().diff("id", refreshed, {**IMAGE, **PIN})
    assert result.changes
    # the next up: check carried the acknowledged pin into the inputs → nothing to do.
    assert not changed(ImageVersionProvider(), refreshed, {**IMAGE, **moved})
    # a pin that differs without a refresh having moved it (no previousTag) is not drift.
    assert not changed(ImageVersionProvider(), IMAGE_OUTS, {**IMAGE, **moved})
    # the same tag with a moved digest is drift too.
    same_tag = {**IMAGE_OUTS, "digest": moved["digest"], "previousTag": "1.1.0"}
    assert changed(ImageVersionProvider(), same_tag, {**IMAGE, **PIN})


@pytest.mark.parametrize("value", [None, "auto"])
def test_diff_image_feed_api_version_auto_accepts_what_was_detected(value: str | None) -> None:
    olds = {**IMAGE_OUTS, "feed": {**FEED, "apiVersion": "v2"}}
    feed = dict(FEED) if value is None else {**FEED, "apiVersion": value}
    assert not changed(ImageVersionProvider(), olds, {**IMAGE, **PIN, "feed": feed})
    assert changed(ImageVersionProvider(), olds, {**IMAGE, **PIN, "feed": {**FEED, "apiVersion": "v1"}})


def test_feed_diff_reports_an_api_version_change_found_by_refresh_until_acknowledged() -> None:
    provider = DockerFeedProvider()
    inputs = {"feedUri": "localhost:5000"}
    refreshed = {**inputs, "apiVersion": "v1", "previousApiVersion": "v2"}
    # The refresh's own diff: the stored inputs have not seen v1 yet.
    assert provider.diff("id", refreshed, inputs).changes is True
    # The refresh stored apiVersionSeen=v1; check carries it into the next up: no change.
    stored = {**inputs, "apiVersionSeen": "v1"}
    checked = provider.check(stored, dict(inputs)).inputs
    assert checked["apiVersionSeen"] == "v1"
    assert provider.diff("id", refreshed, checked).changes is False
    # Without a change found by a refresh there is nothing to acknowledge.
    assert provider.diff("id", {**inputs, "apiVersion": "v2"}, inputs).changes is False
