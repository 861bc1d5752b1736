"""Stored outputs read without pydantic (lifecycle/plain.py) mean what the models make of them,
and anything of another shape is left to the models, whose messages stay the only ones."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from dockerfeed.lifecycle import LifecycleError, plain
from dockerfeed.lifecycle.feed import _model as feed_model
from dockerfeed.lifecycle.image import _model as image_model
from dockerfeed.lifecycle.models import FeedInputs, ImageVersionInputs

FEED = {"feedUri": "localhost:5000", "username": "ci", "password": "s3cret-Zq9", "apiVersion": "v2"}
STORED = {
    "feed": FEED,
    "image": "demo/webapp",
    "versionRange": "[1.0,2.0)",
    "preReleaseTag": "^$",
    "tagExclude": ["-rc"],
    "strategy": "octopus",
    "platform": "linux/amd64",
    # outputs the models ignore
    "tag": "1.2.0",
    "digest": "sha256:" + "0" * 64,
    "previousTag": None,
}
SHAPES: list[dict[str, Any]] = [
    STORED,
    {"feed": {"feedUri": "https://registry.example.com/v2/"}, "image": "library/nginx"},
    {"feed": {**FEED, "insecureSkipTlsVerify": True, "registryPath": "cdn.example.com/x"}, "image": "a/b"},
    {"feed": {"feedUri": "localhost:5000", "useDockerConfig": True}, "image": "x", "variant": "alpine",
     "strategy": "docker", "tagInclude": "^1\\."},
    {"feed": {"feedUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
              "credentials": {"source": "aws", "profile": "ci"}}, "image": "team/app"},
    {"feed": {"feedUri": "ghcr.io", "credentials": {"source": "env", "variable": "GITHUB_TOKEN",
              "username": "ci"}}, "image": "org/app"},
]  # fmt: skip


@pytest.mark.parametrize("props", SHAPES)
def test_plain_reading_means_what_the_models_mean(props: dict[str, Any]) -> None:
    found = plain.image(props)
    model = ImageVersionInputs.model_validate(props)
    assert found is not None
    assert found.feed.settings() == model.feed.settings()
    assert (found.image, found.platform, found.feed.api_version) == (
        model.image,
        model.platform,
        model.feed.api_version,
    )
    assert found.rule() == model.rule()
    assert plain.feed(props["feed"]) == found.feed
    assert plain.feed(props["feed"]).settings() == FeedInputs.model_validate(props["feed"]).settings()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "props",
    [
        {**STORED, "feed": {**FEED, "useDockerConfig": "yes"}},  # pydantic may coerce: its call
        {**STORED, "feed": {**FEED, "password": None}},  # half the credentials
        {**STORED, "feed": {**FEED, "feedUri": "http:/host"}},  # a failed check
        {**STORED, "feed": {**FEED, "apiVersion": "v3"}},
        {**STORED, "feed": {**FEED, "credentials": {"source": "env", "variable": "T"}}},  # two ways
        {**STORED, "feed": {"feedUri": "ghcr.io", "credentials": {"source": "nowhere"}}},
        {**STORED, "feed": {"feedUri": "ghcr.io", "credentials": ["env"]}},
        {**STORED, "feed": {"feed_uri": "localhost:5000"}},  # the models' own field names
        {**STORED, "tag_exclude": ["x"]},
        {**STORED, "tagExclude": ("x",)},
        {**STORED, "tagExclude": [1]},
        {**STORED, "image": 5},
        {**STORED, "image": "Upper/Case"},
        {**STORED, "strategy": None},
        {**STORED, "feed": None},
        {k: v for k, v in STORED.items() if k != "image"},
    ],
)
def test_other_shapes_are_left_to_the_models(props: dict[str, Any]) -> None:
    assert plain.image(props) is None


def test_a_bad_stored_state_still_fails_with_the_models_message() -> None:
    bad = {**STORED, "feed": {**FEED, "password": None}}
    half = "only half of the credentials"
    with pytest.raises(LifecycleError, match=rf"(?s)invalid ImageVersion inputs: .*{half}"):
        image_model(bad)
    with pytest.raises(LifecycleError, match=rf"(?s)invalid DockerFeed inputs: .*{half}"):
        feed_model(bad["feed"])


def test_reading_stored_outputs_imports_no_pydantic() -> None:
    """A refresh reads every resource; the first read no longer waits for pydantic."""
    code = (
        "import sys\n"
        "from dockerfeed.lifecycle.image import _model\n"
        "from dockerfeed.lifecycle.feed import _model as feed_model\n"
        f"props = {STORED!r}\n"
        "_model(props).feed.settings(); feed_model(props['feed']).settings(); _model(props).rule()\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
