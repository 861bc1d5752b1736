"""Fixtures of the fault-injection suite: one real token-auth registry with tag pagination, seeded
once, and a fresh FaultProxy in front of it for every test.

The registry is distribution v3.1.2 with `tags.maxtags=5` behind a real JWT token server, so a
listing of `demo/app` takes three pages and every request carries a Bearer token the proxy can
see (and fault) on its way.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dockerfeed.registry import transport  # noqa: E402
from dockerfeed.registry.retry import RetryPolicy  # noqa: E402
from dockerfeed.registry.session import Session, default_session, set_default_session  # noqa: E402
from tests.support import ToolNotFound, find_tool  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.images import seed_tags  # noqa: E402
from tests.support.servers import RegistryServer  # noqa: E402
from tests.support.tokenserver import Grant  # noqa: E402

# demo/app: 12 tags, three pages of at most 5. With preReleaseTag '^$' the pin is 2.0.0.
# Pages of 5: the proxy asks for them (default_page) as a registry that pages by default would.
MAXTAGS = 5
APP = "demo/app"
APP_TAGS = (
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.2.0",
    "1.3.0",
    "1.4.0",
    "1.5.0",
    "1.6.0",
    "2.0.0-rc.1",
    "2.0.0",
    "2.1.0-beta.1",
    "latest",
)
APP_STABLE = "2.0.0"
# demo/lib: one page (3 tags); the pin is 0.3.0.
LIB = "demo/lib"
LIB_TAGS = ("0.1.0", "0.2.0", "0.3.0")
LIB_LATEST = "0.3.0"

GRANTS = (
    Grant("admin", "*", ("*",)),
    Grant("admin", "catalog", ("*",), type="registry"),
    Grant("ci", "demo/*", ("pull",)),
    Grant("ci", "catalog", ("*",), type="registry"),
)


def _tool(key: str) -> str:
    try:
        return find_tool(key)
    except ToolNotFound as err:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set and a required tool is missing: {err}", pytrace=False)
        pytest.skip(f"not installed: {err}")


@dataclass
class Seeded:
    server: RegistryServer
    digests: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def user(self) -> str:
        return "ci"

    @property
    def password(self) -> str:
        return self.server.password_for("ci")

    @property
    def token_upstream(self) -> str:
        assert self.server.token_server is not None
        return f"http://127.0.0.1:{self.server.token_server.port}"

    def digest(self, repo: str, tag: str) -> str:
        return self.digests[repo][tag]


@pytest.fixture(scope="session")
def seeded() -> Iterator[Seeded]:
    binary = _tool("DOCKERFEED_REGISTRY3")
    users = {"ci": secrets.token_urlsafe(18), "admin": secrets.token_urlsafe(18)}
    with RegistryServer(
        "v3", auth="token", users=users, grants=GRANTS, pusher="admin", maxtags=MAXTAGS, binary=binary
    ) as server:
        creds = server.push_credentials
        seeded = Seeded(server)
        seeded.digests[APP] = seed_tags(server.url, APP, APP_TAGS, auth=creds, workers=4)
        seeded.digests[LIB] = seed_tags(server.url, LIB, LIB_TAGS, auth=creds, workers=2)
        yield seeded


@pytest.fixture
def proxy(seeded: Seeded) -> Iterator[FaultProxy]:
    """A fresh proxy (its own port, so no client cache carries over) in front of `seeded`."""
    with FaultProxy(
        seeded.server.url, token_upstream=seeded.token_upstream, lifetime=600, default_page=MAXTAGS
    ) as p:
        yield p


@dataclass
class Sleeps:
    """Replaces the retry policy's sleep: records what the product asked for, waits briefly."""

    asked: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        import time

        time.sleep(min(seconds, 0.02))


@pytest.fixture(autouse=True)
def fresh_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sleeps]:
    """Every test starts with a Session of its own: no pooled client, no learned hosts, tokens
    or listings, and a retry policy whose sleeps are recorded."""
    sleeps = Sleeps()
    previous = set_default_session(Session(retry=RetryPolicy(sleep=sleeps)))
    monkeypatch.delenv("DOCKERFEED_USERNAME", raising=False)
    monkeypatch.delenv("DOCKERFEED_PASSWORD", raising=False)
    yield sleeps
    set_default_session(previous).reset()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Make the client's timeout small through DOCKERFEED_HTTP_TIMEOUT, as a user would."""

    def set_timeout(seconds: float) -> None:
        default_session().reset()
        monkeypatch.setenv(transport.TIMEOUT_ENV, str(seconds))

    return set_timeout
