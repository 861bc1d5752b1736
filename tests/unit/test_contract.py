"""One contract: schema.json is the source; everything generated from it is fresh and agrees."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

from dockerfeed import contract
from dockerfeed.lifecycle.models import FeedInputs, ImageVersionInputs
from dockerfeed.versions import STRATEGIES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schema.json").read_text())


def test_generated_python_is_fresh() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "codegen.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_enumerations_are_the_ones_the_core_knows() -> None:
    assert list(contract.STRATEGIES) == list(STRATEGIES)
    api = FeedInputs.model_fields["api_version"].annotation
    assert api is not None and set(getattr(api, "__args__", ())) == set(contract.API_VERSIONS)
    for token, values in (
        ("dockerfeed:index:ApiVersion", contract.API_VERSIONS),
        ("dockerfeed:index:Strategy", contract.STRATEGIES),
    ):
        assert [e["value"] for e in SCHEMA["types"][token]["enum"]] == list(values)
        assert all(e.get("description") for e in SCHEMA["types"][token]["enum"])


def test_defaults_are_the_models_defaults() -> None:
    feed = {f.alias: f.default for f in FeedInputs.model_fields.values()}
    image = {f.alias: f.default for f in ImageVersionInputs.model_fields.values()}
    assert {k: feed[k] for k in contract.FEED_DEFAULTS} == contract.FEED_DEFAULTS
    assert {k: image[k] for k in contract.IMAGE_DEFAULTS} == contract.IMAGE_DEFAULTS
    # Every property without a schema default defaults to "not set" in the models.
    for name, default in {**feed, **image}.items():
        if name not in {**contract.FEED_DEFAULTS, **contract.IMAGE_DEFAULTS} and name not in (
            "feedUri",
            "feed",
            "image",
        ):
            assert default is None, name


def test_functions_are_declared() -> None:
    functions = SCHEMA["functions"]
    assert set(functions) == {contract.GET_IMAGE_VERSION_TOKEN, contract.GET_TAGS_TOKEN}
    for fn in functions.values():
        assert fn["description"].strip()
        for prop in (*fn["inputs"]["properties"].values(), *fn["outputs"]["properties"].values()):
            assert prop.get("description", "").strip()
    image = SCHEMA["resources"][contract.IMAGE_TOKEN]
    # The function arguments are ImageVersion's inputs, declared identically.
    for name, prop in functions[contract.GET_IMAGE_VERSION_TOKEN]["inputs"]["properties"].items():
        assert prop == image["inputProperties"][name]
    for name, prop in functions[contract.GET_IMAGE_VERSION_TOKEN]["outputs"]["properties"].items():
        assert prop == image["properties"][name]


def test_one_version_everywhere() -> None:
    version = SCHEMA["version"]
    assert version == contract.VERSION
    assert importlib.metadata.version("pulumi-dockerfeed") == version
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert first and first.group(1) == version
    package_json = json.loads((ROOT / "sdk" / "nodejs" / "package.json").read_text())
    assert package_json["version"] == version
    assert package_json["pulumi"] == {"resource": True, "name": "dockerfeed", "version": version}
    go_plugin = json.loads((ROOT / "sdk" / "go" / "dockerfeed" / "pulumi-plugin.json").read_text())
    assert go_plugin["version"] == version


def test_license_is_the_apache_license() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
