"""Test support: real registry servers, a JWT token server and a docker-less image pusher.

Shared by the integration tests, the e2e tests and the `make demo` script, so nothing here
imports pytest: callers decide whether a missing tool means "skip" or "fail".
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

__all__ = [
    "REPO_ROOT",
    "ToolNotFound",
    "find_tool",
    "free_port",
    "read_tools_env",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

# Where the bootstrap writes the locations of the tools it installed or built.
TOOLS_ENV = REPO_ROOT / ".venv" / "tools.env"

# Last-resort locations when neither the environment nor tools.env names a tool: the PATH
# name, then the bootstrap's build cache (keyed by version, see scripts/bootstrap.sh).
_CACHE = Path(os.environ.get("DOCKERFEED_CACHE", Path.home() / ".cache" / "pulumi-dockerfeed"))
_FALLBACKS: dict[str, list[str]] = {
    "DOCKERFEED_REGISTRY2": ["docker-registry", "/usr/bin/docker-registry"],
    "DOCKERFEED_REGISTRY3": [
        str(_CACHE / "registry-v3.1.2" / "registry"),
        "registry",
    ],
    "DOCKERFEED_SKOPEO": ["skopeo", "/usr/bin/skopeo"],
}


class ToolNotFound(LookupError):
    """A required binary (registry, skopeo) is not installed on this machine."""


def read_tools_env(path: Path = TOOLS_ENV) -> dict[str, str]:
    """Parse the bootstrap's KEY=VALUE file; a missing file is simply empty."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _executable(candidate: str) -> str | None:
    if os.sep in candidate:
        return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None
    return shutil.which(candidate)


def find_tool(key: str) -> str:
    """Locate a tool: environment variable, then tools.env, then PATH / build cache.

    The order lets CI or a developer override everything with an env var, while a plain
    `pytest` after the bootstrap just works. An env var or tools.env entry that points at a
    missing file falls through to the next source instead of failing, because tools.env can be
    stale while the bootstrap rebuilds.
    """
    candidates: list[str] = []
    if os.environ.get(key):
        candidates.append(os.environ[key])
    file_value = read_tools_env().get(key)
    if file_value:
        candidates.append(file_value)
    candidates.extend(_FALLBACKS.get(key, []))
    for candidate in candidates:
        found = _executable(candidate)
        if found:
            return found
    raise ToolNotFound(f"{key}: none of {candidates} is an executable (run the bootstrap)")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago.

    distribution cannot bind port 0 and report it back, so we ask the kernel for a free port
    and hand it over; callers retry on the (rare) race where someone else takes it first.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
