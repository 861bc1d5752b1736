"""The native plugin as a user meets it: examples/yaml by a plain `pulumi up` in its directory,
`pulumi package get-schema`, `pulumi import`, and errors as one plain message."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockerfeed.contract import VERSION
from tests.support.images import push_image
from tests.support.servers import RegistryServer, Skopeo
from tests.support.stack import EXAMPLES, ROOT, pulumi_bin, stack_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)}) as server:
        yield server


class Shell:
    """`pulumi` run in a project directory with the plugin on PATH, as after `pip install`."""

    def __init__(self, work: Path, project: Path) -> None:
        self.project = project
        self.env = {
            **os.environ,
            **stack_env(work),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        # pulumi, pulumi-language-yaml (beside it) and this virtualenv's bin with the console script.
        self.env["PATH"] = os.pathsep.join(
            [str(pulumi_bin()), str(Path(sys.executable).parent), "/usr/bin", "/bin"]
        )

    def __call__(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pulumi", *args],
            cwd=self.project,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done


def yaml_project(tmp_path: Path, server: RegistryServer, image: str, **config: str) -> Shell:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "yaml", project)
    sh = Shell(tmp_path, project)
    sh("stack", "init", "dev")
    user, password = server.credentials or ("", "")
    for key, value in {"feedUri": server.host, "image": image, "username": user or "", **config}.items():
        sh("config", "set", key, value)
    sh("config", "set", "--secret", "password", password or "")
    return sh


def test_yaml_example_by_a_plain_pulumi_up(registry: RegistryServer, skopeo: Skopeo, tmp_path: Path) -> None:
    repo = "plugin/yaml-up"
    for tag in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        push_image(registry.url, repo, tag, auth=registry.push_credentials)
    sh = yaml_project(tmp_path, registry, repo, preReleaseTag="^$")
    up = sh("up", "--yes")
    assert "dockerfeed:index:ImageVersion" in up.stdout
    outputs = json.loads(sh("stack", "output", "--json").stdout)
    assert outputs["tag"] == "1.1.0"
    assert outputs["digest"] == skopeo.digest(registry, repo, "1.1.0")
    assert outputs["imageRef"] == f"{registry.host}/{repo}:1.1.0@{outputs['digest']}"
    # The function: the eligible tags, lowest first (secret, as it was called with the password).
    shown = json.loads(sh("stack", "output", "--json", "--show-secrets").stdout)
    assert shown["eligibleTags"] == ["1.0.0", "1.1.0"]
    exported = sh("stack", "export").stdout
    _, password = registry.credentials or ("", "")
    assert password and password not in exported and password not in up.stdout
    # Pinned: nothing changes on the next up.
    again = sh("up", "--yes")
    assert "3 unchanged" in again.stdout


def test_get_schema_is_schema_json(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    sh = Shell(tmp_path, project)
    plugin = Path(sys.executable).parent / "pulumi-resource-dockerfeed"
    # By path (a name asks the registry service, which tests cannot reach); docs/schema.md shows it.
    served = json.loads(sh("package", "get-schema", str(plugin)).stdout)
    # docs/schema.md shows exactly this output.
    doc = (ROOT / "docs" / "schema.md").read_text()
    assert served == json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    assert served.pop("config") == {}  # the CLI adds the (empty) provider config section
    assert served == json.loads((ROOT / "schema.json").read_text())
    version = subprocess.run(
        [str(plugin), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == VERSION


def test_import_an_image_version_by_id(registry: RegistryServer, skopeo: Skopeo, tmp_path: Path) -> None:
    repo = "plugin/import"
    for tag in ("1.0.0", "1.1.0"):
        push_image(registry.url, repo, tag, auth=registry.push_credentials)
    sh = yaml_project(tmp_path, registry, repo)
    user, password = registry.credentials or ("", "")
    resource_id = f"{registry.host}|{repo}|1.0.0"
    done = sh(
        "import",
        "dockerfeed:index:ImageVersion",
        "pinned",
        resource_id,
        "--yes",
        "--generate-code=false",
        DOCKERFEED_USERNAME=user or "",
        DOCKERFEED_PASSWORD=password or "",
    )
    assert "imported" in done.stdout
    state = json.loads(sh("stack", "export").stdout)
    pinned = next(r for r in state["deployment"]["resources"] if r["urn"].endswith("::pinned"))
    assert pinned["id"] == resource_id
    assert pinned["outputs"]["tag"] == "1.0.0"
    assert pinned["outputs"]["digest"] == skopeo.digest(registry, repo, "1.0.0")
    # The credentials of the read are not stored.
    assert password and password not in json.dumps(state)
    bad = sh("import", "dockerfeed:index:ImageVersion", "bad", "nope", "--yes", check=False)
    assert bad.returncode != 0
    assert "<feedUri>|<image>|<tag>" in bad.stdout + bad.stderr


def test_errors_are_one_plain_message(registry: RegistryServer, tmp_path: Path) -> None:
    repo = "plugin/errors"
    push_image(registry.url, repo, "1.0.0", auth=registry.push_credentials)
    sh = yaml_project(tmp_path, registry, repo)
    sh("config", "set", "--secret", "password", "wrong-password")
    done = sh("up", "--yes", check=False)
    text = done.stdout + done.stderr
    assert done.returncode != 0
    assert "ci" in text and registry.host in text
    assert "Traceback" not in text and "Unexpected <class" not in text and 'File "' not in text
