"""examples/dockerhub, ghcr and multi-image through the real Pulumi CLI.

They target Docker Hub and ghcr.io, which tests cannot reach. Each program takes its feed
address from config when set, so here they run — `pulumi up`, not only preview — against local
registries seeded with the same repository names and realistic tags. That proves the programs
compile, declare the resources they document and resolve what their READMEs promise; the
internet registries themselves are covered by the protocol tests' recorded behaviour.
"""

from __future__ import annotations

import ast
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.images import push_image
from tests.support.servers import RegistryServer
from tests.support.stack import EXAMPLES, example_program, raw_export, stack

pytestmark = pytest.mark.e2e

NEW_EXAMPLES = ("dockerhub", "ghcr", "multi-image")


@pytest.mark.parametrize("name", [*NEW_EXAMPLES, "quickstart"])
def test_example_layout(name: str) -> None:
    folder = EXAMPLES / name
    # Pulumi.yaml as quickstart's: the python runtime on this repository's virtualenv (no YAML
    # parser among the dependencies, and the files are four fixed lines).
    project = (folder / "Pulumi.yaml").read_text()
    assert f"name: dockerfeed-{name}\n" in project
    runtime = "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: ../../.venv\n"
    assert runtime in project
    ast.parse((folder / "__main__.py").read_text())
    if name in NEW_EXAMPLES:
        assert "pulumi up" in (folder / "README.md").read_text()


def test_dockerhub_example_pins_the_latest_stable_nginx(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    hub = start_registry("v3")
    tags = ["1.26.2", "1.27.3", "1.27.3-alpine", "1.28.0-alpine", "stable", "mainline", "latest"]
    digests = {tag: push_image(hub.url, "nginx", tag) for tag in tags}
    program = example_program("dockerhub")
    st = stack(tmp_path, program, project="dockerfeed-dockerhub", config={"feedUri": hub.host})
    outs = {k: v.value for k, v in st.up().outputs.items()}
    assert (outs["tag"], outs["digest"]) == ("1.27.3", digests["1.27.3"])
    assert outs["imageRef"] == f"{hub.host}/nginx:1.27.3@{digests['1.27.3']}"
    st.destroy()


def test_ghcr_example_pins_6x_and_the_arm64_image(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    ghcr = start_registry("v3")
    repo = "stefanprodan/podinfo"
    platforms = ["linux/amd64", "linux/arm64"]
    for tag in ("5.2.1", "6.6.0", "6.7.1", "6.8.0-rc.1", "7.0.0", "latest"):
        push_image(ghcr.url, repo, tag, platforms=platforms)
    st = stack(tmp_path, example_program("ghcr"), project="dockerfeed-ghcr", config={"feedUri": ghcr.host})
    outs = {k: v.value for k, v in st.up().outputs.items()}
    assert outs["tag"] == "6.7.1"
    assert outs["arm64Digest"] and outs["arm64Digest"] != outs["digest"]
    st.destroy()


def test_multi_image_example_two_feeds_and_a_registry_path(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    hub = start_registry("v3")
    password = secrets.token_urlsafe(16)
    internal = start_registry("v2", auth="htpasswd", users={"deploy": password})
    for tag in ("1.27.3", "1.27.3-alpine", "stable"):
        push_image(hub.url, "nginx", tag)
    for tag in ("6.2.14", "7.2.4", "7.4.1", "8.0.0"):
        push_image(hub.url, "redis", tag)
    for tag in ("1.9.0", "2.3.0", "2.4.0-beta.1", "3.0.0"):
        push_image(internal.url, "team/api", tag, auth=internal.credentials)
    for tag in ("0.9.0", "1.0.0-rc.2", "1.0.0-beta.1"):
        push_image(internal.url, "team/worker", tag, auth=internal.credentials)
    st = stack(
        tmp_path,
        example_program("multi-image"),
        project="dockerfeed-multi-image",
        config={
            "hubUri": hub.host,
            "internalUri": internal.host,
            "internalUser": "deploy",
            "internalRegistryPath": "mirror.internal:5000",
        },
        secrets={"internalPassword": password},
    )
    up = st.up()
    assert up.summary.resource_changes == {"create": 7}
    tags = up.outputs["tags"].value
    assert tags == {"nginx": "1.27.3", "redis": "7.4.1", "api": "2.3.0", "worker": "1.0.0-rc.2"}
    refs = up.outputs["imageRefs"].value
    assert refs["api"].startswith("mirror.internal:5000/team/api:2.3.0@sha256:")
    assert refs["nginx"].startswith(f"{hub.host}/nginx:1.27.3@sha256:")
    assert password not in raw_export(st)
    st.destroy()
