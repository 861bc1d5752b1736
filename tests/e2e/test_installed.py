"""The release shape: the wheel `python -m build` made, installed into a fresh virtualenv (CI,
.ci/run, sets DOCKERFEED_INSTALLED_PYTHON to it and DOCKERFEED_PLUGIN to its plugin). One Pulumi
program per face runs from that install, so a file missing from the wheel fails CI, not a user."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockerfeed.contract import VERSION
from tests.support.faces import PLUGIN_FACES, Face
from tests.support.images import push_image
from tests.support.servers import RegistryServer
from tests.support.stack import EXAMPLES, ROOT, pulumi_bin

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("DOCKERFEED_INSTALLED_PYTHON"),
        reason="runs from the wheel installed by .ci/run (DOCKERFEED_INSTALLED_PYTHON)",
    ),
]


def installed() -> Path:
    return Path(os.environ["DOCKERFEED_INSTALLED_PYTHON"])


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)}) as server:
        for tag in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
            push_image(server.url, "installed/app", tag, auth=server.push_credentials)
        yield server


def test_the_commands_report_the_version() -> None:
    bin_dir = installed().parent
    for command in ("dockerfeed", "pulumi-resource-dockerfeed"):
        done = subprocess.run(
            [str(bin_dir / command), "--version"], capture_output=True, text=True, check=True
        )
        assert VERSION in done.stdout
    assert Path(os.environ["DOCKERFEED_PLUGIN"]).parent == bin_dir


def test_python_face_from_the_wheel(registry: RegistryServer, tmp_path: Path) -> None:
    user, password = registry.credentials or ("", "")
    env = {**os.environ, "PATH": os.pathsep.join([str(pulumi_bin()), os.environ.get("PATH", "")])}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [
            str(installed()),
            "-I",
            str(ROOT / "tests" / "support" / "run_installed.py"),
            str(tmp_path),
            str(EXAMPLES / "quickstart" / "__main__.py"),
            registry.host,
            "installed/app",
            user or "",
            password or "",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outputs"]["tag"] == "1.1.0"
    # The provider ran from the installed wheel, not from this checkout.
    assert not result["dockerfeed"].startswith(str(ROOT))
    assert sys.prefix not in result["dockerfeed"]


@pytest.mark.parametrize("face", PLUGIN_FACES)
def test_plugin_faces_from_the_wheel(face: str, registry: RegistryServer, tmp_path: Path) -> None:
    user, password = registry.credentials or ("", "")
    config = {
        "feedUri": registry.host,
        "image": "installed/app",
        "username": user or "",
        "preReleaseTag": "^$",
    }
    run = Face(face, tmp_path, config, {"password": password or ""}).up()
    assert run.outputs["tag"] == "1.1.0"
