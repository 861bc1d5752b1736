"""(c) stack scale: `pulumi up` and `pulumi refresh` of 100 ImageVersions over 2 feeds and 10
repositories, against the same shape made of no-op dynamic resources (the engine's floor), on the
real Pulumi CLI through the Automation API (tests/support/stack.py), with a local file backend.

Two distribution v3.1.2 registries with token auth (one per feed), 5 repositories each, seeded
with realistic tags; 10 ImageVersions per repository with different version rules.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_select import realistic_tags
from benchmarks.common import ROOT, RequestCounter, Requests, median

FEEDS = 2
REPOS_PER_FEED = 5
IMAGES_PER_REPO = 10
TAGS_PER_REPO = 300

# Ten rules per repository; a rule that matches nothing in a repository falls back to the default.
RULES: list[dict[str, Any]] = [
    {},
    {"version_range": "[1.0,20.0)", "pre_release_tag": "^$"},
    {"version_range": "[1.0,5.0)"},
    {"strategy": "docker", "variant": "alpine"},
    {"tag_include": r"^\d+\.\d+\.\d+$"},
    {"pre_release_tag": "^$"},
    {"version_range": ">=1.2 <10"},
    {"strategy": "semver"},
    {"version_range": "(,10.0)", "pre_release_tag": "^$"},
    {"strategy": "docker", "variant": "slim"},
]


def repo_name(feed: int, repo: int) -> str:
    return f"team{feed}/svc{repo}"


def plan(tags: list[str]) -> list[dict[str, Any]]:
    from dockerfeed.versions import VersionRule, select_latest

    out = []
    for rule in RULES:
        built = VersionRule.build(**rule)
        out.append(rule if select_latest(tags, built).winner else {})
    return out


@contextmanager
def seeded_registries() -> Iterator[tuple[list[Any], list[tuple[str, str]], dict[str, list[dict[str, Any]]]]]:
    """The bench's two registries, started and seeded: the servers, the feeds (address and
    password) and each repository's rules (`plan`); the servers stop on exit."""
    from benchmarks.listing import registry
    from tests.support.images import seed_tags_in_storage

    passwords = [secrets.token_urlsafe(12) for _ in range(FEEDS)]
    servers = [registry(pw) for pw in passwords]
    try:
        for s in servers:
            s.start()
        rules: dict[str, list[dict[str, Any]]] = {}
        for f, s in enumerate(servers):
            for r in range(REPOS_PER_FEED):
                repo = repo_name(f, r)
                tags = realistic_tags(TAGS_PER_REPO, seed=100 * f + r)
                seed_tags_in_storage(s.url, s.storage_dir, repo, tags, auth=s.push_credentials)
                rules[repo] = plan(tags)
        yield servers, [(f"localhost:{s.port}", pw) for s, pw in zip(servers, passwords, strict=True)], rules
    finally:
        for s in servers:
            s.stop()
            if s.token_server is not None:
                s.token_server.stop()


def real_program(feeds: list[tuple[str, str]], rules: dict[str, list[dict[str, Any]]]) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        from pulumi_dockerfeed import DockerFeed, ImageVersion

        for f, (host, password) in enumerate(feeds):
            feed = DockerFeed(
                f"feed{f}", feed_uri=host, username="bench", password=pulumi.Output.secret(password)
            )
            for r in range(REPOS_PER_FEED):
                repo = repo_name(f, r)
                for i, rule in enumerate(rules[repo]):
                    ImageVersion(f"img-{f}-{r}-{i}", feed=feed, image=repo, **rule)

    return program


def noop_program(secret_per_image: bool = False) -> Callable[[], None]:
    """The floor's program; with `secret_per_image`, every image also carries a feed with a
    secret password, as every ImageVersion does (its provider needs the credentials on read)."""

    def program() -> None:
        import pulumi

        from benchmarks.noop import Noop

        for f in range(FEEDS):
            password = pulumi.Output.secret("x")
            feed_props = {"feedUri": f"localhost:{f}", "username": "bench", "password": password}
            feed = Noop(f"feed{f}", feed_props)
            for r in range(REPOS_PER_FEED):
                for i in range(IMAGES_PER_REPO):
                    props: dict[str, Any] = {"feedId": feed.id, "image": repo_name(f, r), "rule": i}
                    if secret_per_image:
                        props["feed"] = feed_props
                    Noop(f"img-{f}-{r}-{i}", props)

    return program


@dataclass
class StackResult:
    times: dict[str, list[float]] = field(default_factory=dict)  # "real up", "noop refresh", …
    requests: dict[str, Requests] = field(default_factory=dict)  # last real up / refresh
    listings: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> repo -> 200 listings
    resources: int = 0
    samples: dict[str, Any] = field(default_factory=dict)  # op -> sampler output (profiled round)
    replay: dict[str, float] = field(default_factory=dict)  # replay variant -> median seconds

    def med(self, key: str) -> float:
        return median(self.times.get(key, []))


def _listings(req: Requests) -> dict[str, int]:
    counts: dict[str, int] = {}
    for method, uri, status in req.registry:
        path = uri.split("?")[0]
        # A listing starts with a request without a `last` cursor; continuations and the
        # completeness probe belong to the same listing (they show in the request totals).
        if method == "GET" and path.endswith("/tags/list") and status == 200 and "last=" not in uri:
            repo = path.removeprefix("/v2/").removesuffix("/tags/list")
            counts[repo] = counts.get(repo, 0) + 1
    return counts


def _merge_samples(directory: Path) -> dict[str, Any] | None:
    """The samples of every provider host of one operation, summed; None when no host left a
    file (one that lived less than the sampler's write interval)."""
    import json

    paths = sorted(directory.glob("samples-*.json"))
    if not paths:
        return None
    merged: dict[str, Any] = {"busy": 0, "inclusive": {}, "leaf": {}}
    for path in paths:
        data = json.loads(path.read_text())
        merged["busy"] += data["busy"]
        merged["interval"] = data["interval"]
        for part in ("inclusive", "leaf"):
            for k, v in data[part].items():
                merged[part][k] = merged[part].get(k, 0) + v
    return merged


# The latency the replay adds to every request for its read-ahead comparison (a registry nearby).
REPLAY_LATENCY = 0.02


class _Delayed(httpx.BaseTransport):
    """The network, each request `delay` seconds later (a registry that far away)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def replay_refresh(
    feeds: list[tuple[str, str]], rules: dict[str, list[dict[str, Any]]], repeat: int
) -> dict[str, float]:
    """The provider work of one refresh without the engine: the same 102 reads, in state order,
    in this process, from a cold state (no connection, token or run cache), on a pool of 4
    threads as Pulumi's Python dynamic-provider host has, and on 16 for comparison, without
    read-ahead; on 4 with it (its hints left by the creates, as `up` leaves them); then on 4
    with REPLAY_LATENCY added to every request, without and with read-ahead."""
    from concurrent.futures import ThreadPoolExecutor

    from dockerfeed.registry import Session, session
    from dockerfeed.resources.providers import DockerFeedProvider, ImageVersionProvider

    saved = {k: os.environ.get(k) for k in ("DOCKERFEED_READAHEAD", "DOCKERFEED_READAHEAD_DIR")}
    hints = tempfile.mkdtemp(prefix="dockerfeed-bench-hints-")
    os.environ["DOCKERFEED_READAHEAD_DIR"] = hints
    feed_provider, image_provider = DockerFeedProvider(), ImageVersionProvider()
    feed_props = [{"feedUri": host, "username": "bench", "password": pw} for host, pw in feeds]
    image_props = [
        {"feed": feed_props[f], "image": repo_name(f, r), **{_camel(k): v for k, v in rule.items()}}
        for f in range(FEEDS)
        for r in range(REPOS_PER_FEED)
        for rule in rules[repo_name(f, r)]
    ]
    # The stored outputs a refresh hands to read(), as `up` made them.
    states = [("feed", feed_provider.create(p).outs) for p in feed_props]
    states += [("image", image_provider.create(p).outs) for p in image_props]

    def read(state: tuple[str, dict[str, Any]]) -> None:
        kind, outs = state
        (feed_provider if kind == "feed" else image_provider).read("id", outs)

    variants = [
        ("4 threads", 4, 0.0, False),
        ("16 threads", 16, 0.0, False),
        ("4 threads, read-ahead", 4, 0.0, True),
        (f"4 threads, {REPLAY_LATENCY * 1000:.0f} ms per request, no read-ahead", 4, REPLAY_LATENCY, False),
        (f"4 threads, {REPLAY_LATENCY * 1000:.0f} ms per request, read-ahead", 4, REPLAY_LATENCY, True),
    ]
    medians: dict[str, float] = {}
    try:
        for label, workers, delay, ahead in variants:
            os.environ["DOCKERFEED_READAHEAD"] = "1" if ahead else "0"
            previous = session.set_default_session(Session(transport=_Delayed(delay))) if delay else None
            times = []
            for _ in range(repeat):
                session.reset()  # clients, tokens, hosts, the run cache and read-ahead state
                start = time.perf_counter()
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(read, states))
                times.append(time.perf_counter() - start)
            if previous is not None:
                session.set_default_session(previous).reset()
            medians[label] = median(times)
    finally:
        session.reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(hints, ignore_errors=True)
    return medians


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def run(repeat: int, log: Callable[[str], None], profile: bool = False) -> StackResult:
    from tests.support.stack import stack

    result = StackResult(resources=FEEDS * (1 + REPOS_PER_FEED * IMAGES_PER_REPO))
    with (
        seeded_registries() as (servers, feeds, rules),
        tempfile.TemporaryDirectory(prefix="dockerfeed-bench-stack-", ignore_cleanup_errors=True) as tmp,
    ):
        work_root = Path(tmp)
        counter = RequestCounter(*servers)
        programs = {
            "real": real_program(feeds, rules),
            "noop": noop_program(),
            "noop+secret": noop_program(secret_per_image=True),
        }
        kinds = list(programs)
        rounds = [(rnd, kind) for rnd in range(repeat) for kind in kinds[rnd % 3 :] + kinds[: rnd % 3]]
        if profile:
            rounds.append((repeat, "profiled"))
        for rnd, kind in rounds:
            profiled = kind == "profiled"
            kind = "real" if profiled else kind
            work = work_root / f"{kind}-{rnd}"
            st = stack(work, programs[kind], project=f"bench-{kind.replace('+', '-')}", name="bench")
            # The dynamic-provider host must import benchmarks.noop by reference.
            st.workspace.env_vars["PYTHONPATH"] = str(ROOT)
            # Read-ahead hints outlive a round, as on a real machine, but not the bench run.
            st.workspace.env_vars["DOCKERFEED_READAHEAD_DIR"] = str(work_root / "readahead")
            if profiled:
                st.workspace.env_vars["PYTHONPATH"] += f":{ROOT / 'benchmarks' / 'sampler'}"
            for op in ("up", "refresh"):
                sample_dir = work / f"samples-{op}"
                if profiled:
                    sample_dir.mkdir(parents=True)
                    st.workspace.env_vars["DOCKERFEED_BENCH_SAMPLE"] = str(sample_dir)
                mark = counter.mark()
                start = time.perf_counter()
                if op == "up":
                    up = st.up(on_output=lambda _line: None)
                    changed = (up.summary.resource_changes or {}).get("create", 0)
                    if changed < result.resources:
                        raise RuntimeError(f"{kind} up created {changed} of {result.resources}")
                else:
                    st.refresh(on_output=lambda _line: None)
                elapsed = time.perf_counter() - start
                if profiled:
                    time.sleep(1.2)
                    samples = _merge_samples(sample_dir)
                    if samples is None:
                        log(f"  stack profiled real {op}: {elapsed:.2f} s; its provider host left no samples")
                    else:
                        result.samples[op] = samples | {"wall": elapsed}
                        log(f"  stack profiled real {op}: {elapsed:.2f} s")
                    continue
                result.times.setdefault(f"{kind} {op}", []).append(elapsed)
                if kind == "real":
                    req = counter.since(mark)
                    result.requests[op] = req
                    result.listings[op] = _listings(req)
                log(f"  stack {kind} {op} round {rnd + 1}: {elapsed:.2f} s")
            st.destroy(on_output=lambda _line: None)
            shutil.rmtree(work, ignore_errors=True)
        result.replay = replay_refresh(feeds, rules, repeat=max(repeat, 3))
    return result
