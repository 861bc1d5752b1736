"""Shared fixtures: real registry servers (session-scoped) and the skopeo peer client.

Servers start lazily, only when a test asks for them, so `pytest tests/unit` never spawns one.
A missing binary skips the tests that need it, except under CI (CI=true), where it fails:
CI must never go green by skipping the real-server tests.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/ has no __init__.py (pytest's rootdir-relative "prepend" import mode puts tests/ itself
# on sys.path); the support package is imported as `tests.support` everywhere — tests, e2e and
# the demo script alike — so the repository root must be importable too.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support import ToolNotFound, find_tool  # noqa: E402
from tests.support.servers import RegistryServer, Skopeo  # noqa: E402
from tests.support.tokenserver import Grant  # noqa: E402


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(key: str) -> str:
    """Path of a tool, or skip (locally) / fail (under CI) with a clear reason."""
    try:
        return find_tool(key)
    except ToolNotFound as err:
        if in_ci():
            pytest.fail(f"CI is set and a required tool is missing: {err}", pytrace=False)
        pytest.skip(f"not installed: {err}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Mark by directory so `-m "not integration"` / `-m e2e` select by where a test lives,
    # without every module repeating `pytestmark`.
    for item in items:
        parts = item.path.parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


# Read-ahead hints (registry/readahead.py) of fixtures wider than one test go here, never to the
# user's cache directory; each test gets its own directory below (readahead_hints).
os.environ["DOCKERFEED_READAHEAD_DIR"] = _HINTS = tempfile.mkdtemp(prefix="dockerfeed-test-readahead-")
atexit.register(shutil.rmtree, _HINTS, True)


@pytest.fixture(autouse=True)
def readahead_hints(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own read-ahead hints (registry/readahead.py), in its process and in the
    Pulumi processes it starts: one test's runs never send another's fetches ahead, and none
    writes to the user's cache directory."""
    directory = tmp_path_factory.mktemp("readahead")
    monkeypatch.setenv("DOCKERFEED_READAHEAD_DIR", str(directory))
    return directory


def _password() -> str:
    # Random per session: nothing can depend on (or leak) a well-known test password.
    return secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def registry_v2_htpasswd() -> Iterator[RegistryServer]:
    """distribution 2.8 (Debian), htpasswd auth, user "ci" (.username/.password).

    The reference implementation: tags/list ignores n/last and is not sorted.
    """
    binary = require_tool("DOCKERFEED_REGISTRY2")
    with RegistryServer("v2", auth="htpasswd", users={"ci": _password()}, binary=binary) as reg:
        yield reg


@pytest.fixture(scope="session")
def registry_v3_paginated() -> Iterator[RegistryServer]:
    """distribution v3.1.2, htpasswd user "ci", tags.maxtags=5 and catalog.maxentries=5.

    Pages only when the client sends `n` (3.1.2 returns everything without it); an `n` above 5
    is clamped to 5 and `Link: </v2/...?last=...&n=5>; rel="next"` leads on.
    """
    binary = require_tool("DOCKERFEED_REGISTRY3")
    with RegistryServer(
        "v3",
        auth="htpasswd",
        users={"ci": _password()},
        maxtags=5,
        maxentries=5,
        binary=binary,
    ) as reg:
        yield reg


# Who may do what on registry_v3_token. Tests push with .push_credentials ("admin").
TOKEN_GRANTS: tuple[Grant, ...] = (
    Grant("admin", "*", ("*",)),
    Grant("admin", "catalog", ("*",), type="registry"),
    Grant("ci", "demo/*", ("pull",)),
    Grant("ci", "catalog", ("*",), type="registry"),
    # Everyone, anonymous included, may pull public/*.
    Grant(None, "public/*", ("pull",)),
    # "nopull" authenticates fine but is granted nothing.
)


@pytest.fixture(scope="session")
def registry_v3_token() -> Iterator[RegistryServer]:
    """distribution v3.1.2 with token auth through a real JWT token server.

    Users: "ci" (main user: pull demo/*, catalog), "nopull" (valid login, no rights), "admin"
    (everything; .push_credentials). Anonymous may pull public/*. The token server is
    `.token_server` (its `.requests` log counts token round-trips, without secrets).
    """
    binary = require_tool("DOCKERFEED_REGISTRY3")
    users = {"ci": _password(), "nopull": _password(), "admin": _password()}
    with RegistryServer(
        "v3", auth="token", users=users, grants=TOKEN_GRANTS, pusher="admin", binary=binary
    ) as reg:
        yield reg


@pytest.fixture(scope="session")
def skopeo() -> Skopeo:
    """The skopeo peer client: `skopeo("list-tags", "//repo", registry=reg)` → parsed JSON;
    also .list_tags(reg, repo), .inspect_raw(reg, repo, ref) → bytes, .digest(reg, repo, ref).
    """
    return Skopeo(require_tool("DOCKERFEED_SKOPEO"))


@pytest.fixture
def start_registry() -> Iterator[Callable[..., RegistryServer]]:
    """Start extra, test-private registries: start_registry("v3", auth="token", ...).

    Takes RegistryServer's arguments; every server started is stopped after the test.
    """
    started: list[RegistryServer] = []

    def start(impl: str = "v3", **kwargs: Any) -> RegistryServer:
        key = "DOCKERFEED_REGISTRY2" if impl == "v2" else "DOCKERFEED_REGISTRY3"
        kwargs.setdefault("binary", require_tool(key))
        server = RegistryServer(impl, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Repository names private to one test (servers are shared by the whole session).

    unique_repo("demo") → "demo/<test-name>-<6 hex>".
    """
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40] or "t"

    def make(namespace: str = "demo") -> str:
        return f"{namespace}/{slug}-{secrets.token_hex(3)}"

    return make
