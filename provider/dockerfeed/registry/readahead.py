"""Read-ahead for a Pulumi run: what the last run of a project read from a registry is fetched
again, on a pool of threads, as soon as this run first reads from that registry.

A refresh reads resources one by one in state order, the reads of one repository together, and
no read says which repositories follow. Each repository's first read waits for its token, its
listing and its digests while the others queue behind it, so a stack of ten repositories waits
ten times in turn (docs/design.md, "Read-ahead"). The last run's repositories and pinned tags
are kept as hints in a small file per project, registry and user name, under the user's cache
directory: names only, never a credential. A run asks for their tokens (one request) and starts
their listings and digests at its first read of the registry, into the same run cache the reads
use, so every later read finds them there or in flight. A hint that is no longer true costs a
wasted request, never a wrong answer: the reads still decide, and a failed fetch is fetched
again by the read that needs it, which reports it.

Set DOCKERFEED_READAHEAD=0 to turn it off. The hints live in DOCKERFEED_READAHEAD_DIR, else
`pulumi-dockerfeed/readahead` under $XDG_CACHE_HOME (else ~/.cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Hints kept per project, registry and user: enough for a large stack, small enough to read at once.
MAX_REPOSITORIES = 256
MAX_TAGS = 32
# Fetches in flight at once. Waiting on a registry far away is what they do: 70 HEADs 20 ms away
# take 0.35 s on 4 threads, ~0.09 s on 16 (the HTTP pool keeps 16 connections alive).
WORKERS = 16
# This long after the last pin, the hints are rewritten with the run's pins alone.
WRITE_DELAY = 0.5
_FORMAT = 1

# What a read-ahead runs: a repository's listing (tag None), or the digest of one of its tags.
Fetch = Callable[[str, str | None], object]
# What asks for the tokens of many repositories at once, before their fetches.
Tokens = Callable[[list[str]], object]


def hints_directory() -> Path | None:
    """Where hints live; None when read-ahead is turned off."""
    if os.environ.get("DOCKERFEED_READAHEAD", "").strip().lower() in ("0", "false", "no", "off"):
        return None
    given = os.environ.get("DOCKERFEED_READAHEAD_DIR")
    if given:
        return Path(given)
    root = os.environ.get("XDG_CACHE_HOME")
    return (Path(root) if root else Path.home() / ".cache") / "pulumi-dockerfeed" / "readahead"


@dataclass
class Hints:
    """What a run read from one registry: the API version it asked for, and each repository's
    pinned tags (names only)."""

    api_version: str | None
    repositories: dict[str, list[str]]

    def has(self, repository: str, tag: str) -> bool:
        return tag in self.repositories.get(repository, ())

    def add(self, repository: str, tag: str) -> bool:
        """Add a pin; False when it is there already or a limit is reached."""
        tags = self.repositories.get(repository)
        if tags is None:
            if len(self.repositories) >= MAX_REPOSITORIES:
                return False
            tags = self.repositories[repository] = []
        if tag in tags or len(tags) >= MAX_TAGS:
            return False
        tags.append(tag)
        return True

    def copy(self) -> Hints:
        return Hints(self.api_version, {repo: list(tags) for repo, tags in self.repositories.items()})

    def merged(self, older: Hints) -> Hints:
        """These hints, then those of `older` that are not among them (within the limits)."""
        out = self.copy()
        for repo, tags in older.repositories.items():
            for tag in tags:
                out.add(repo, tag)
        return out


class ReadAhead:
    """The hints of this process's runs and the pool that fetches them (owned by the Session).

    `begin` is called by every cached resolve before it lists: the first for a registry and
    connection loads the registry's hints and hands each other repository to `fetch` on the
    pool. `pinned` records what a resolve pinned. A pin the hints did not have is written at
    once, with the hints kept (the engine may end the provider at any time); once pins stop
    coming for WRITE_DELAY, the file is rewritten with this run's pins alone, so that what the
    stack no longer reads drops out.
    """

    def __init__(self, directory: Callable[[], Path | None] = hints_directory) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._write = threading.Lock()
        self._begun: set[tuple[str, Hashable]] = set()
        self._loaded: dict[str, Hints] = {}
        self._pinned: dict[str, Hints] = {}
        self._last_pin = 0.0
        self._settler: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._generation = 0  # one more at every clear()

    @staticmethod
    def key(base_url: str, username: str | None = None) -> str:
        """The hints' key: the Pulumi project the provider runs for, the registry, and the user
        its feed signs in as (feeds of one registry with other users may see other
        repositories). Only the key's hash names the file."""
        project = os.environ.get("PULUMI_PROJECT", "")
        return hashlib.sha256(f"{project}\n{base_url}\n{username or ''}".encode()).hexdigest()[:32]

    def begin(
        self, key: str, connection: Hashable, repository: str, fetch: Fetch, tokens: Tokens | None = None
    ) -> None:
        """Start fetching the hinted repositories of `key` but `repository`, over `connection`
        (the first time for that connection: the fetches land in its run cache alone). With
        `tokens`, their tokens are asked for first, together."""
        with self._lock:
            if (key, connection) in self._begun:
                return
            self._begun.add((key, connection))
        repos = dict(self.hints(key).repositories)
        repos.pop(repository, None)
        if repos:
            self._workers().submit(self._start, self._generation, fetch, tokens, repos)

    def _start(
        self, generation: int, fetch: Fetch, tokens: Tokens | None, repos: dict[str, list[str]]
    ) -> None:
        """The tokens of `repos` in one request (where the registry grants them so), then their
        listings first and their digests, on the pool."""
        if generation != self._generation:
            return
        if tokens is not None:
            with contextlib.suppress(Exception):  # each fetch asks for its own token instead
                tokens(list(repos))
        pool = self._workers()
        for repo in repos:
            pool.submit(self._fetch, generation, fetch, repo, None)
        for repo, tags in repos.items():
            for tag in tags:
                pool.submit(self._fetch, generation, fetch, repo, tag)

    def _fetch(self, generation: int, fetch: Fetch, repository: str, tag: str | None) -> None:
        """One fetch ahead, unless the session was reset since it was asked for."""
        if generation != self._generation:
            return
        with contextlib.suppress(Exception):  # the read that needs it fetches again and reports
            fetch(repository, tag)

    def hints(self, key: str) -> Hints:
        """The hints of `key` as this process found them (read once)."""
        with self._lock:
            found = self._loaded.get(key)
        if found is None:
            found = self._load(key)
            with self._lock:
                found = self._loaded.setdefault(key, found)
        return found

    def pinned(self, key: str, repository: str, tag: str, api_version: str) -> None:
        """Remember a pin as a hint for the next run."""
        known = self.hints(key)
        with self._lock:
            run = self._pinned.setdefault(key, Hints(api_version, {}))
            if not run.add(repository, tag):
                return
            fresh = run.merged(known) if not known.has(repository, tag) else None
            self._last_pin = time.monotonic()
            if self._settler is None:
                self._settler = threading.Thread(target=self._settle, name="dockerfeed-hints", daemon=True)
                self._settler.start()
        if fresh is not None:
            self._save(key, fresh)

    def _settle(self) -> None:
        """Once pins stop coming for WRITE_DELAY, the hints become this run's pins alone."""
        while True:
            with self._lock:
                wait = self._last_pin + WRITE_DELAY - time.monotonic()
                if wait <= 0:
                    self._settler = None
                    runs = {key: run.copy() for key, run in self._pinned.items()}
                    break
            time.sleep(wait)
        for key, run in runs.items():
            self._save(key, run)

    def clear(self) -> None:
        """Forget this process's runs (the hints on disk stay); fetches not started yet are
        dropped."""
        with self._lock:
            self._generation += 1
            self._begun.clear()
            self._loaded.clear()
            self._pinned.clear()

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="dockerfeed-readahead")
            return self._pool

    def _path(self, key: str) -> Path | None:
        directory = self._directory()
        return directory / f"{key}.json" if directory is not None else None

    def _load(self, key: str) -> Hints:
        """The hints of `key` on disk; none when there are none or they cannot be read."""
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
        except (OSError, ValueError):
            data = None
        hints = Hints(None, {})
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return hints
        api, repos = data.get("apiVersion"), data.get("repositories")
        hints.api_version = api if isinstance(api, str) else None
        for repo, tags in repos.items() if isinstance(repos, dict) else ():
            if isinstance(repo, str) and isinstance(tags, list):
                for tag in tags:
                    if isinstance(tag, str):
                        hints.add(repo, tag)
        return hints

    def _save(self, key: str, hints: Hints) -> None:
        """Replace the hints of `key` in one step (a reader sees the old file or the new one)."""
        path = self._path(key)
        if path is None:
            return
        data = {"format": _FORMAT, "apiVersion": hints.api_version, "repositories": hints.repositories}
        # Hints are an optimisation: a run never fails for them.
        with self._write, contextlib.suppress(OSError):
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".hints-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                os.replace(temporary, path)
            except OSError:
                os.unlink(temporary)
                raise


__all__ = ["MAX_REPOSITORIES", "MAX_TAGS", "Hints", "ReadAhead", "hints_directory"]
