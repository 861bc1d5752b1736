"""Provider hosts that do less, for benchmarks/refresh_split.py (on the host's PYTHONPATH only in
those runs; nothing here runs elsewhere).

DOCKERFEED_BENCH_VARIANT picks what the dynamic-provider host's reads do; the stack, its state
and the engine's work stay those of the real refresh:

* `record`: real reads, and the modules they imported written to DOCKERFEED_BENCH_MODULES;
* `no-head`: real reads, but every digest of DOCKERFEED_BENCH_DIGESTS (a JSON list of
  [repository, tag, digest]) is answered from it, without a manifest request;
* `imports`: the modules DOCKERFEED_BENCH_MODULES names are imported, then the stored outputs
  go back as they are;
* `stored`: the stored outputs go back at once;
* `sleep`: the stored outputs go back after DOCKERFEED_BENCH_SLEEP_MS milliseconds of sleep.

The host's modules are patched as they are imported (a meta path finder), so the host imports
them when and where a real one does.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

VARIANT = os.environ.get("DOCKERFEED_BENCH_VARIANT", "")
_AT_START = frozenset(sys.modules)


def _stored(module: ModuleType, before: Callable[[], None]) -> None:
    from pulumi.dynamic import ReadResult

    def read(self: Any, id: str, props: dict[str, Any]) -> ReadResult:
        before()
        return ReadResult(id, props)

    module._Adapter.read = read


def _record(module: ModuleType) -> None:
    real = module._Adapter.read
    path = os.environ["DOCKERFEED_BENCH_MODULES"]
    lock = threading.Lock()

    def read(self: Any, id: str, props: dict[str, Any]) -> Any:
        try:
            return real(self, id, props)
        finally:
            with lock, open(path, "w") as fh:
                json.dump(sorted(set(sys.modules) - _AT_START), fh)

    module._Adapter.read = read


def _imports(module: ModuleType) -> None:
    with open(os.environ["DOCKERFEED_BENCH_MODULES"]) as fh:
        names: Sequence[str] = json.load(fh)

    loaded, lock = threading.Event(), threading.Lock()

    def load() -> None:
        if loaded.is_set():  # the later reads: nothing to do, as in a real host
            return
        with lock:  # the other first reads wait, as on a real host's import lock
            for name in names:
                if name not in sys.modules:
                    with contextlib.suppress(Exception):  # one only its parent's import can load
                        importlib.import_module(name)
            loaded.set()

    _stored(module, load)


def _no_head(module: ModuleType) -> None:
    with open(os.environ["DOCKERFEED_BENCH_DIGESTS"]) as fh:
        table = {(repo, tag): digest for repo, tag, digest in json.load(fh)}
    real = module.manifest_digest

    def manifest_digest(conn: Any, image: str, reference: str) -> str:
        found = table.get((image, reference))
        return found if found is not None else real(conn, image, reference)

    module.manifest_digest = manifest_digest


def _sleep(module: ModuleType) -> None:
    seconds = float(os.environ.get("DOCKERFEED_BENCH_SLEEP_MS", "15")) / 1000
    _stored(module, lambda: time.sleep(seconds))


_PROVIDERS = "dockerfeed.resources.providers"
PATCHES: dict[str, dict[str, Callable[[ModuleType], None]]] = {
    "record": {_PROVIDERS: _record},
    "no-head": {"dockerfeed.registry.manifests": _no_head},
    "imports": {_PROVIDERS: _imports},
    "stored": {_PROVIDERS: lambda m: _stored(m, lambda: None)},
    "sleep": {_PROVIDERS: _sleep},
}


class _Patcher(importlib.abc.MetaPathFinder):
    """Finds the modules to patch as the path finder would, and patches each once executed."""

    def __init__(self, patches: dict[str, Callable[[ModuleType], None]]) -> None:
        self.patches = patches

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        patch = self.patches.get(name)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if VARIANT and "pulumi.dynamic" in " ".join(getattr(sys, "orig_argv", sys.argv)):
    if VARIANT not in PATCHES:
        raise SystemExit(f"DOCKERFEED_BENCH_VARIANT={VARIANT!r} is none of {', '.join(PATCHES)}")
    sys.meta_path.insert(0, _Patcher(PATCHES[VARIANT]))
