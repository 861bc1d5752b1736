"""Drive the real Pulumi CLI through the Automation API, on a local file backend.

Programs run inline: the Automation API hosts the Python language server in this process and
the CLI connects to it. The dynamic providers still run where Pulumi runs them, in the
`pulumi-resource-pulumi-python` plugin process, with this repository's virtualenv.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
VENV = ROOT / ".venv"


def tools_env() -> dict[str, str]:
    """KEY=VALUE lines the bootstrap wrote, overridden by the environment."""
    values: dict[str, str] = {}
    path = VENV / "tools.env"
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    values.update({k: v for k, v in os.environ.items() if k.startswith(("PULUMI_BIN", "DOCKERFEED_"))})
    return values


def pulumi_bin() -> Path:
    found = tools_env().get("PULUMI_BIN")
    if found and (Path(found) / "pulumi").exists():
        return Path(found)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "pulumi").exists():
            return Path(entry).resolve()
    raise RuntimeError("no pulumi CLI found: run scripts/bootstrap.sh (make test does)")


def example_program(name: str) -> Callable[[], None]:
    """Run examples/<name>/__main__.py as the Pulumi program, the way the CLI would."""
    main = EXAMPLES / name / "__main__.py"

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    return program


def stack_env(work_dir: Path, passphrase: str = "dockerfeed-test-passphrase") -> dict[str, str]:
    """The environment of the Pulumi CLI for a stack under `work_dir` (file backend there)."""
    bin_dir = pulumi_bin()
    state = work_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    python_dir = str(Path(sys.executable).parent)
    return {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_HOME": str(work_dir / "home"),
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        # The dynamic-provider plugin is a shell script that runs `python3 -m pulumi.dynamic`:
        # make that this virtualenv's Python, so it imports the same dockerfeed.
        "PULUMI_RUNTIME_VIRTUALENV": str(Path(sys.executable).parent.parent),
        "PATH": os.pathsep.join([str(bin_dir), python_dir, os.environ.get("PATH", "")]),
    }


def stack(
    work_dir: Path,
    program: Callable[[], None],
    *,
    project: str = "dockerfeed-quickstart",
    name: str = "dev",
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    passphrase: str = "dockerfeed-test-passphrase",
    env: Mapping[str, str] | None = None,
) -> auto.Stack:
    """A stack on a file backend under `work_dir`, with its config set."""
    env = {**stack_env(work_dir, passphrase), **(env or {})}
    bin_dir = pulumi_bin()
    options = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        pulumi_command=auto.PulumiCommand(root=str(bin_dir.parent), skip_version_check=True),
        env_vars=env,
        project_settings=auto.ProjectSettings(name=project, runtime="python"),
    )
    st = auto.create_or_select_stack(stack_name=name, project_name=project, program=program, opts=options)
    for key, value in (config or {}).items():
        st.set_config(key, auto.ConfigValue(value))
    for key, value in (secrets or {}).items():
        st.set_config(key, auto.ConfigValue(value, secret=True))
    return st


def resources(st: auto.Stack) -> list[dict[str, Any]]:
    """The stack's resources as `pulumi stack export` has them (secrets stay encrypted)."""
    return list(st.export_stack().deployment.get("resources") or [])


# How Pulumi marks a secret value in exported state: {SECRET_MARKER: SECRET_SIG, "ciphertext": …}.
SECRET_MARKER = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def state_snapshot(st: auto.Stack) -> list[dict[str, Any]]:
    """Each resource's urn, inputs and outputs: what a failed refresh must not touch.

    Secret ciphertexts are re-encrypted with a fresh nonce on every checkpoint write, so they
    are compared by presence, not by bytes.
    """

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(SECRET_MARKER) == SECRET_SIG:
                return "<secret>"
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return [
        {"urn": r["urn"], "inputs": scrub(r.get("inputs")), "outputs": scrub(r.get("outputs"))}
        for r in resources(st)
    ]


def resource_state(st: auto.Stack, name: str) -> dict[str, Any]:
    """One resource's exported state (`inputs`, `outputs`, …) by its logical name."""
    for res in resources(st):
        if res["urn"].endswith(f"::{name}"):
            return dict(res)
    raise AssertionError(f"{name} not in the state of {st.name}")


def raw_export(st: auto.Stack) -> str:
    """`pulumi stack export` run as a user runs it (no --show-secrets), as text."""
    env = dict(st.workspace.env_vars)
    done = subprocess.run(
        [str(pulumi_bin() / "pulumi"), "stack", "export", "--stack", st.name],
        cwd=st.workspace.work_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout
