"""One program, every face: the same stack driven through the dynamic provider (Python) or the
native plugin (YAML, TypeScript, Go), each through the real Pulumi CLI.

* python: tests/support/stack.py's inline Automation API stack with the dynamic SDK.
* yaml: a copy of examples/yaml, run by the CLI in its directory (local program).
* typescript / go: examples/typescript and examples/go, built by scripts/build-examples.sh into
  the cache; their drivers run the program through the Node.js / Go Automation API inline.

The plugin is installed the way a user installs it, `pulumi plugin install resource dockerfeed
<version> --file <the pulumi-resource-dockerfeed console script>`, into the test's PULUMI_HOME,
with automatic plugin downloads off so that a missing plugin fails at once. Config and state
are read and written through a Python Automation API handle on the same project directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi import automation as auto

from dockerfeed.contract import VERSION
from tests.support.stack import EXAMPLES, ROOT, pulumi_bin, stack, stack_env

FACES = ("python", "yaml", "typescript", "go")
PLUGIN_FACES = ("yaml", "typescript", "go")
PROJECTS = {
    "python": "dockerfeed-faces",
    "yaml": "dockerfeed-yaml",
    "typescript": "dockerfeed-typescript",
    "go": "dockerfeed-go",
}
RUNTIMES = {"typescript": "nodejs", "go": "go"}


class FaceError(Exception):
    """A Pulumi command of a face failed; the message has everything it printed."""


@dataclass
class Run:
    summary: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""


def python_program() -> None:
    """The dynamic face's program: what examples/yaml declares, in Python."""
    from pulumi_dockerfeed import DockerFeed, ImageVersion

    config = pulumi.Config()
    feed = DockerFeed(
        "feed",
        feed_uri=config.require("feedUri"),
        username=config.get("username"),
        password=config.get_secret("password"),
    )
    app = ImageVersion(
        "app",
        feed=feed,
        image=config.require("image"),
        version_range=config.get("versionRange"),
        pre_release_tag=config.get("preReleaseTag"),
    )
    pulumi.export("tag", app.tag)
    pulumi.export("digest", app.digest)
    pulumi.export("imageRef", app.image_ref)
    pulumi.export("previousTag", app.previous_tag)


def plugin_script() -> Path:
    """The `pulumi-resource-dockerfeed` console script of this virtualenv, or $DOCKERFEED_PLUGIN
    (CI points it at the one of the wheel installed into a fresh virtualenv)."""
    given = os.environ.get("DOCKERFEED_PLUGIN")
    found = Path(given) if given else Path(sys.executable).parent / "pulumi-resource-dockerfeed"
    if not found.exists():
        raise FileNotFoundError(f"{found} is missing: run scripts/bootstrap.sh (pip install -e .)")
    return found


def built_example(name: str) -> Path:
    """examples/<name> built into the cache by scripts/build-examples.sh (the bootstrap runs it;
    here it only checks the sources' hash, or rebuilds after an edit)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "build-examples.sh"), name], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ExampleMissing(f"cannot build examples/{name}: {done.stderr.strip()[-500:]}")
    return Path(done.stdout.strip().splitlines()[-1])


class ExampleMissing(Exception):
    """A face's toolchain (Node.js, Go) is not installed."""


class Face:
    """A stack of one face in `work`, with config and secrets set."""

    def __init__(
        self,
        name: str,
        work: Path,
        config: Mapping[str, str],
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.work = work
        self.project_dir = work / "project"
        self.project_dir.mkdir(parents=True, exist_ok=True)
        # A missing plugin fails at once instead of retrying a download.
        self.env = {**stack_env(work), "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
        if name != "python":
            # Only the installed plugin: this virtualenv's bin (with the console script) off PATH.
            venv_bin = str(Path(sys.executable).parent)
            path = [p for p in self.env["PATH"].split(os.pathsep) if p != venv_bin]
            self.env["PATH"] = os.pathsep.join(path)
        if name == "python":
            self.stack = stack(
                self.project_dir,
                python_program,
                project=PROJECTS[name],
                config=config,
                secrets=secrets,
                env=self.env,
            )
            return
        self._install_plugin()
        if name == "yaml":
            shutil.copytree(EXAMPLES / "yaml", self.project_dir, dirs_exist_ok=True)
        else:
            runtime = RUNTIMES[name]
            (self.project_dir / "Pulumi.yaml").write_text(f"name: {PROJECTS[name]}\nruntime: {runtime}\n")
            self.built = built_example(name)
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project_dir),
            pulumi_command=auto.PulumiCommand(root=str(pulumi_bin().parent), skip_version_check=True),
            env_vars=self.env,
        )
        self.stack = auto.create_or_select_stack(
            stack_name="dev", work_dir=str(self.project_dir), opts=options
        )
        for key, value in config.items():
            self.stack.set_config(key, auto.ConfigValue(value))
        for key, value in (secrets or {}).items():
            self.stack.set_config(key, auto.ConfigValue(value, secret=True))

    def _install_plugin(self) -> None:
        done = self.cli(
            "plugin", "install", "resource", "dockerfeed", VERSION, "--file", str(plugin_script())
        )
        if done.returncode != 0:
            raise FaceError(f"pulumi plugin install failed:\n{done.stdout}\n{done.stderr}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The `pulumi` command itself, in the project directory, as a user's shell runs it."""
        return subprocess.run(
            [str(pulumi_bin() / "pulumi"), *args],
            cwd=self.project_dir,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )

    # -- commands ------------------------------------------------------------------------------

    def up(self) -> Run:
        if self.name in ("python", "yaml"):
            out: list[str] = []
            result = self._auto(lambda: self.stack.up(on_output=out.append))
            return Run(_changes(result.summary.resource_changes), _values(result.outputs), "".join(out))
        return self._driver("up")

    def preview(self, *, refresh: bool = False) -> Run:
        if self.name in ("python", "yaml"):
            out: list[str] = []
            result = self._auto(lambda: self.stack.preview(on_output=out.append, refresh=refresh, diff=True))
            return Run(_changes(result.change_summary), {}, "".join(out))
        return self._driver("preview-refresh" if refresh else "preview")

    def refresh(self) -> Run:
        if self.name in ("python", "yaml"):
            out: list[str] = []
            result = self._auto(lambda: self.stack.refresh(on_output=out.append))
            return Run(_changes(result.summary.resource_changes), {}, "".join(out))
        return self._driver("refresh")

    def _auto(self, call: Any) -> Any:
        try:
            return call()
        except auto.CommandError as e:
            raise FaceError(str(e)) from None

    def _driver(self, command: str) -> Run:
        if self.name == "typescript":
            argv = ["node", str(self.built / "example" / "automation.js")]
        else:
            argv = [str(self.built / "dockerfeed-example-go")]
        done = subprocess.run(
            [*argv, str(self.project_dir), command],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise FaceError(f"{self.name} {command} failed:\n{done.stdout}\n{done.stderr}")
        data = json.loads(done.stdout.strip().splitlines()[-1])
        return Run(_changes(data.get("summary")), data.get("outputs") or {}, data.get("stdout") or "")


def _changes(summary: Mapping[Any, Any] | None) -> dict[str, int]:
    return {str(getattr(k, "value", k)): int(v) for k, v in (summary or {}).items() if v}


def _values(outputs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in outputs.items()}
