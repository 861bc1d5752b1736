"""The refresh of benchmarks/stackscale.py split by what the provider host does: the same real
stack refreshed by the real provider and by hosts that each do less, in interleaved rounds
against the no-op floors (docs/benchmarks.md, findings 4, "An eleventh look").

    python -m benchmarks.refresh_split [--rounds N] [--sleep-ms MS]

What differs between the rows is only what the host's reads do (benchmarks/split/sitecustomize.py):
every digest answered from the state `up` left (no HEAD), only the imports of a real read, the
stored outputs at once, or a sleep of MS milliseconds with no work at all. The floors are
stackscale's no-op stacks, without and with a secret in every resource. Not part of `make bench`:
a run of 8 rounds takes about two minutes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stackscale
from benchmarks.common import ROOT, RequestCounter, median

SPLIT = ROOT / "benchmarks" / "split"
TIMES, DASH = "\u00d7", "\u2013"
# Row label -> the host variant (sitecustomize.py); "" is the provider as it is.
VARIANTS = {
    "real": "",
    "real, digests from the state (no HEAD)": "no-head",
    "imports of a real read, then the stored outputs": "imports",
    "the stored outputs at once": "stored",
    "a sleep, then the stored outputs": "sleep",
}
FLOORS = ("no-op floor", "no-op floor, a secret in every resource")


def _digests(deployment: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every pin of the stack's state, as (repository, tag, digest)."""
    found = []
    for resource in deployment.get("resources", []):
        outputs = resource.get("outputs") or {}
        pin = (outputs.get("image"), outputs.get("tag"), outputs.get("digest"))
        if all(isinstance(v, str) for v in pin):
            found.append(pin)
    return found


def run(rounds: int, sleep_ms: float, log: Callable[[str], None] = print) -> dict[str, list[float]]:
    from tests.support.stack import stack

    with (
        stackscale.seeded_registries() as (servers, feeds, rules),
        tempfile.TemporaryDirectory(prefix="dockerfeed-bench-split-", ignore_cleanup_errors=True) as tmp,
    ):
        work = Path(tmp)
        counter = RequestCounter(*servers)
        real = stack(work / "real", stackscale.real_program(feeds, rules), project="split", name="bench")
        floors = {
            FLOORS[0]: stack(work / "noop", stackscale.noop_program(), project="split-noop", name="bench"),
            FLOORS[1]: stack(
                work / "noop-secret",
                stackscale.noop_program(secret_per_image=True),
                project="split-noop-secret",
                name="bench",
            ),
        }
        for st in (real, *floors.values()):
            st.workspace.env_vars.update(
                PYTHONPATH=str(ROOT), DOCKERFEED_READAHEAD_DIR=str(work / "readahead")
            )
            st.up(on_output=lambda _line: None)
        (work / "digests.json").write_text(json.dumps(_digests(real.export_stack().deployment)))
        real.workspace.env_vars.update(
            DOCKERFEED_BENCH_MODULES=str(work / "modules.json"),
            DOCKERFEED_BENCH_DIGESTS=str(work / "digests.json"),
            DOCKERFEED_BENCH_SLEEP_MS=str(sleep_ms),
        )

        def refresh(label: str, variant: str = "") -> tuple[float, int]:
            st = floors.get(label, real)
            if st is real:
                st.workspace.env_vars["DOCKERFEED_BENCH_VARIANT"] = variant
                st.workspace.env_vars["PYTHONPATH"] = f"{ROOT}:{SPLIT}" if variant else str(ROOT)
            mark = counter.mark()
            start = time.perf_counter()
            st.refresh(on_output=lambda _line: None)
            elapsed = time.perf_counter() - start
            return elapsed, len(counter.since(mark).registry) if st is real else 0

        # A real refresh that records the modules its reads import (for the imports row).
        refresh("warm-up", "record")
        if not (work / "modules.json").exists():
            raise RuntimeError("the warm-up refresh recorded no modules: its host never read")
        labels = [*VARIANTS, *FLOORS]
        times: dict[str, list[float]] = {label: [] for label in labels}
        for rnd in range(rounds):
            shift = rnd % len(labels)
            for label in labels[shift:] + labels[:shift]:
                elapsed, requests = refresh(label, VARIANTS.get(label, ""))
                times[label].append(elapsed)
                log(f"  round {rnd + 1} {label}: {elapsed:.2f} s, {requests} registry requests")
        return times


def report(times: dict[str, list[float]], rounds: int, sleep_ms: float) -> str:
    floor = times[FLOORS[0]]
    rows = [
        f"`pulumi refresh` of stackscale's stack (102 resources), {rounds} interleaved rounds; "
        f"the sleep row sleeps {sleep_ms:g} ms a read.",
        "",
        f"| provider host | median | {TIMES} no-op floor | single rounds |",
        "|---|---|---|---|",
    ]
    for label, values in times.items():
        ratios = [v / f for v, f in zip(values, floor, strict=True)]
        rows.append(
            f"| {label} | {median(values):.2f} s | {median(values) / median(floor):.2f}{TIMES} "
            f"| {min(ratios):.2f}{DASH}{max(ratios):.2f}{TIMES} |"
        )
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="interleaved rounds (default 8)")
    ap.add_argument("--sleep-ms", type=float, default=15.0, help="the sleep row's sleep a read (default 15)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    times = run(args.rounds, args.sleep_ms)
    print(report(times, args.rounds, args.sleep_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
