"""(a) tag listing side by side with peers and (b) resolve request counts, on one local v3 registry.

The registry is distribution v3.1.2 with token auth (JWT token server from tests/support), storage
in /dev/shm, default `tags.maxtags` (1000). One repository per size, seeded straight into storage.
Requests are counted from the registry's access log plus the token server's request log.
"""

from __future__ import annotations

import base64
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_select import realistic_tags
from benchmarks.common import VENV_BIN, RequestCounter, Requests, median, timed

USER = "bench"
REPO = "bench/app{size}"


def repo_for(size: int) -> str:
    return REPO.format(size=size)


def token_server(password: str) -> object:
    """The tests' JWT token server, with its realm named `localhost` instead of 127.0.0.1.

    Peers guard against SSRF through the realm: crane refuses a realm that is a loopback IP
    literal (unless it is the registry's own host:port), oras refuses any realm that resolves to
    loopback unless its host name is the registry's. So everyone talks to `localhost:PORT` and the
    realm is `http://localhost:TOKEN_PORT/token`, which both accept.
    """
    from tests.support.servers import default_grants
    from tests.support.tokenserver import TokenServer

    class LocalhostTokenServer(TokenServer):
        @property
        def realm(self) -> str:
            return f"http://localhost:{self.port}/token"

    users = {USER: password}
    return LocalhostTokenServer(users=users, grants=default_grants(users))


def registry(password: str) -> object:
    """distribution v3.1.2, token auth, default tags.maxtags (1000), storage in /dev/shm."""
    from tests.support.servers import RegistryServer

    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return RegistryServer(
        "v3", auth="token", users={USER: password}, token_server=token_server(password), tmp_root=shm
    )


def host_of(server: object) -> str:
    """The address every client uses: `localhost:PORT` (see token_server)."""
    return f"localhost:{server.port}"  # type: ignore[attr-defined]


def seed(server: object, sizes: list[int]) -> dict[int, float]:
    """Seed one repository per size; returns the seconds each took."""
    from tests.support.images import seed_tags_in_storage

    took: dict[int, float] = {}
    for size in sizes:
        start = time.perf_counter()
        tags = realistic_tags(size, seed=size)
        seed_tags_in_storage(
            server.url,
            server.storage_dir,
            repo_for(size),
            tags,
            auth=server.push_credentials,  # type: ignore[attr-defined]
        )
        took[size] = time.perf_counter() - start
    return took


@dataclass
class Client:
    """How to run one client's `list tags` against the registry."""

    name: str
    argv: Callable[[str, str], list[str]]  # (host, repo) -> argv
    env: dict[str, str]
    count: Callable[[str], int]  # stdout -> number of tags


def clients(host: str, password: str, peers: dict[str, str], home: Path) -> list[Client]:
    """dockerfeed and the four peers, each with the credentials in its own native place."""
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    docker_dir = home / ".docker"
    docker_dir.mkdir(parents=True, exist_ok=True)
    config = docker_dir / "config.json"
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    config.chmod(0o600)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER", "REGISTRY_AUTH"))}
    base.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_RUNTIME_DIR=str(home))
    docker_env = {**base, "DOCKER_CONFIG": str(docker_dir)}
    lines = lambda out: sum(1 for line in out.splitlines() if line.strip())  # noqa: E731
    out = [
        Client(
            "dockerfeed",
            lambda h, r: [str(VENV_BIN / "dockerfeed"), "tags", h, r, "-u", USER],
            {**base, "DOCKERFEED_PASSWORD": password},
            lines,
        ),
        Client(
            "skopeo",
            lambda h, r: [
                peers["SKOPEO"],
                "list-tags",
                "--tls-verify=false",
                "--authfile",
                str(config),
                f"docker://{h}/{r}",
            ],
            base,
            lambda out: len(json.loads(out).get("Tags") or []),
        ),
        Client("crane", lambda h, r: [peers["CRANE"], "ls", "--insecure", f"{h}/{r}"], docker_env, lines),
        Client("regctl", lambda h, r: [peers["REGCTL"], "tag", "ls", f"{h}/{r}"], docker_env, lines),
        Client(
            "oras",
            lambda h, r: [
                peers["ORAS"],
                "repo",
                "tags",
                "--plain-http",
                "--registry-config",
                str(config),
                f"{h}/{r}",
            ],
            base,
            lines,
        ),
    ]
    # regctl: plain http for this host (a local config write, no request).
    timed([peers["REGCTL"], "registry", "set", host, "--tls", "disabled"], env=docker_env)
    return out


@dataclass
class ListingResult:
    size: int
    times: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, list[int]] = field(default_factory=dict)
    server: dict[str, list[float]] = field(default_factory=dict)
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)

    def med_time(self, name: str) -> float:
        return median(self.times[name])

    def med_requests(self, name: str) -> float:
        return median(self.requests[name])


def bench_listing(server: object, cls: list[Client], size: int, repeat: int) -> ListingResult:
    """Alternating runs: every round runs each client once, in a rotated order."""
    counter = RequestCounter(server)
    repo = repo_for(size)
    res = ListingResult(size)
    for c in cls:  # one unmeasured warm-up each: page cache, binaries, Python bytecode
        _, out = timed(c.argv(host_of(server), repo), env=c.env)  # type: ignore[attr-defined]
        if c.count(out) != size:
            raise RuntimeError(f"{c.name} listed {c.count(out)} tags of {repo}, expected {size}")
    for rnd in range(repeat):
        order = cls[rnd % len(cls) :] + cls[: rnd % len(cls)]
        for c in order:
            mark = counter.mark()
            elapsed, out = timed(c.argv(host_of(server), repo), env=c.env)  # type: ignore[attr-defined]
            seen: Requests = counter.since(mark)
            if c.count(out) != size:
                raise RuntimeError(f"{c.name} listed {c.count(out)} tags of {repo}, expected {size}")
            res.times.setdefault(c.name, []).append(elapsed)
            res.requests.setdefault(c.name, []).append(seen.total)
            res.server.setdefault(c.name, []).append(seen.server_seconds)
            res.kinds[c.name] = seen.kinds()
    return res


# --------------------------------------------------------------------------- (b) resolve cost


@dataclass
class ResolveResult:
    size: int
    page: int
    cold: Requests
    warm: Requests
    cli: Requests
    cold_s: float
    warm_s: float

    @property
    def ideal_cold(self) -> int:
        return 2 + math.ceil(self.size / self.page) + 1

    @property
    def ideal_warm(self) -> int:
        return math.ceil(self.size / self.page) + 1


def bench_resolve(server: object, password: str, size: int, page: int) -> ResolveResult:
    """Requests of one cold and one warm in-process resolve, and of `dockerfeed resolve` (cold)."""
    from dockerfeed.registry import ConnectionSettings, session
    from dockerfeed.resolve import resolve_image
    from dockerfeed.versions import VersionRule

    host = host_of(server)
    settings = ConnectionSettings(feed_uri=host, username=USER, password=password)
    rule = VersionRule.build()
    counter = RequestCounter(server)
    session.reset()  # cold: no pooled connection, no learned host, no token
    mark = counter.mark()
    start = time.perf_counter()
    resolve_image(settings, repo_for(size), rule)
    cold_s = time.perf_counter() - start
    cold = counter.since(mark)
    mark = counter.mark()
    start = time.perf_counter()
    resolve_image(settings, repo_for(size), rule)
    warm_s = time.perf_counter() - start
    warm = counter.since(mark)
    env = {**os.environ, "DOCKERFEED_PASSWORD": password}
    mark = counter.mark()
    timed([str(VENV_BIN / "dockerfeed"), "resolve", host, repo_for(size), "-u", USER], env=env)
    cli = counter.since(mark)
    session.reset()
    return ResolveResult(size, page, cold, warm, cli, cold_s, warm_s)


def profile_tags(server: object, password: str, size: int, out: Path, top: int = 14) -> list[str]:
    """cProfile of one `dockerfeed tags` run; returns the top functions by own time."""
    import pstats
    import subprocess

    prof = out.with_suffix(".prof")
    env = {**os.environ, "DOCKERFEED_PASSWORD": password}
    subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "cProfile",
            "-o",
            str(prof),
            "-m",
            "dockerfeed.cli",
            "tags",
            host_of(server),
            repo_for(size),
            "-u",
            USER,
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in entries[:top]:
        short = filename.split("site-packages/")[-1].split("/provider/")[-1]
        rows.append(f"| {tt:.3f} | {ct:.3f} | {nc} | `{short}:{line}({func})` |")
    return [f"total profiled time {total:.2f} s", *rows]


def tmp_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="dockerfeed-bench-home-"))
