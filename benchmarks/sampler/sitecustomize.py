"""A tiny wall-clock sampling profiler for the dynamic-provider host (used by `--profile`).

On PYTHONPATH only for profiled stack runs. When DOCKERFEED_BENCH_SAMPLE names a directory and
this process is `python -m pulumi.dynamic`, a daemon thread samples every thread's stack every
2 ms and rewrites `<dir>/samples-<pid>.json` every WRITE_EVERY seconds (the engine may kill the
host without running atexit; a refresh's host may live well under a second). Only stacks that
are busy in a provider call are kept: those with a frame of dockerfeed/ or of the dynamic
provider's gRPC handlers.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

WRITE_EVERY = 0.25


def _key(frame: object) -> str:
    code = frame.f_code  # type: ignore[attr-defined]
    path = code.co_filename
    for marker in ("site-packages/", "/provider/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_name}"


def _run(out_dir: str) -> None:
    me = threading.get_ident()
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    busy = 0
    last = time.monotonic()
    path = os.path.join(out_dir, f"samples-{os.getpid()}.json")
    while True:
        time.sleep(0.002)
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            keys: list[str] = []
            f = frame
            while f is not None:
                keys.append(_key(f))
                f = f.f_back
            # Busy in a provider call: a gRPC handler of the dynamic provider (Create, Read, …
            # including unpickling the provider, i.e. importing dockerfeed) or our own code.
            if not any(k.endswith("pulumi/dynamic/__main__.py:wrapper") or "dockerfeed/" in k for k in keys):
                continue
            busy += 1
            leaf[keys[0]] = leaf.get(keys[0], 0) + 1
            for k in set(keys):
                inclusive[k] = inclusive.get(k, 0) + 1
        now = time.monotonic()
        if now - last > WRITE_EVERY:
            last = now
            with open(path + ".tmp", "w") as fh:
                json.dump({"busy": busy, "interval": 0.002, "inclusive": inclusive, "leaf": leaf}, fh)
            os.replace(path + ".tmp", path)


_dir = os.environ.get("DOCKERFEED_BENCH_SAMPLE")
if _dir and "pulumi.dynamic" in " ".join(getattr(sys, "orig_argv", sys.argv)):
    threading.Thread(target=_run, args=(_dir,), daemon=True, name="bench-sampler").start()
