"""(d) the native face: plugin start-up, and the stack of benchmarks/stackscale.py (100
ImageVersions over 10 repositories, `up` and `refresh`) through the plugin against the dynamic
provider, each beside a no-op floor of its own kind, in the same run.

* dynamic / dynamic floor: stackscale's program and its no-op dynamic resources;
* plugin / plugin floor: the same resources as native `dockerfeed:index:*` resources served by
  pulumi-resource-dockerfeed, and no-op native resources served by benchmarks/noop_plugin.py on
  the same SDK server. The programs are Python (inline Automation API) in all four, so only the
  provider differs.

    python -m benchmarks.pluginscale [--repeat N] [--startup N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stackscale
from benchmarks.common import ROOT, median

PLUGIN = Path(sys.executable).parent / "pulumi-resource-dockerfeed"


def noop_plugin_script(directory: Path) -> Path:
    script = directory / "pulumi-resource-dockerfeednoop"
    script.write_text(f"#!{sys.executable}\nfrom benchmarks.noop_plugin import main\nmain()\n")
    script.chmod(0o755)
    return script


def startup(command: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median seconds from spawning a plugin to its port on stdout (what the CLI waits for)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen([*command, "127.0.0.1:1"], stdout=subprocess.PIPE, env=env, text=True)
        assert proc.stdout is not None
        port = proc.stdout.readline()
        times.append(time.perf_counter() - start)
        proc.kill()
        proc.wait()
        if not port.strip().isdigit():
            raise RuntimeError(f"{command[0]} printed {port!r} instead of its port")
    return median(times)


def native_program(
    feeds: list[tuple[str, str]], rules: dict[str, list[dict[str, Any]]]
) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        for f, (host, password) in enumerate(feeds):
            settings = {"feedUri": host, "username": "bench", "password": pulumi.Output.secret(password)}
            feed = pulumi.CustomResource("dockerfeed:index:DockerFeed", f"feed{f}", dict(settings))
            for r in range(stackscale.REPOS_PER_FEED):
                repo = stackscale.repo_name(f, r)
                for i, rule in enumerate(rules[repo]):
                    props = {
                        "feed": settings,
                        "image": repo,
                        **{stackscale._camel(k): v for k, v in rule.items()},
                    }
                    pulumi.CustomResource(
                        "dockerfeed:index:ImageVersion",
                        f"img-{f}-{r}-{i}",
                        props,
                        pulumi.ResourceOptions(depends_on=[feed]),
                    )

    return program


def native_noop_program() -> Callable[[], None]:
    def program() -> None:
        import pulumi

        for f in range(stackscale.FEEDS):
            settings = {
                "feedUri": f"localhost:{f}",
                "username": "bench",
                "password": pulumi.Output.secret("x"),
            }
            feed = pulumi.CustomResource("dockerfeednoop:index:Noop", f"feed{f}", dict(settings))
            for r in range(stackscale.REPOS_PER_FEED):
                for i in range(stackscale.IMAGES_PER_REPO):
                    props = {"feed": settings, "image": stackscale.repo_name(f, r), "rule": float(i)}
                    pulumi.CustomResource(
                        "dockerfeednoop:index:Noop",
                        f"img-{f}-{r}-{i}",
                        props,
                        pulumi.ResourceOptions(depends_on=[feed]),
                    )

    return program


def run(repeat: int, startup_repeat: int, log: Callable[[str], None]) -> dict[str, float]:
    results: dict[str, float] = {}
    work_root = Path(tempfile.mkdtemp(prefix="dockerfeed-bench-plugin-"))
    bin_dir = work_root / "bin"
    bin_dir.mkdir()
    noop_plugin_script(bin_dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results["startup plugin"] = startup([str(PLUGIN)], startup_repeat, env)
    results["startup floor"] = startup([str(bin_dir / "pulumi-resource-dockerfeednoop")], startup_repeat, env)
    log(f"  start-up: plugin {results['startup plugin']:.3f} s, floor {results['startup floor']:.3f} s")

    try:
        with stackscale.seeded_registries() as (_servers, feeds, rules):
            times = _rounds(feeds, rules, work_root, bin_dir, repeat, log)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    results.update({k: median(v) for k, v in times.items()})
    for op in ("up", "refresh"):
        plugin, dynamic = results[f"plugin {op}"], results[f"dynamic {op}"]
        results[f"{op}: plugin / dynamic"] = plugin / dynamic
        results[f"{op}: plugin / plugin floor"] = plugin / results[f"plugin floor {op}"]
        results[f"{op}: dynamic / dynamic floor"] = dynamic / results[f"dynamic floor {op}"]
    results["startup: plugin / floor"] = results["startup plugin"] / results["startup floor"]
    return results


def _rounds(
    feeds: list[tuple[str, str]],
    rules: dict[str, list[dict[str, Any]]],
    work_root: Path,
    bin_dir: Path,
    repeat: int,
    log: Callable[[str], None],
) -> dict[str, list[float]]:
    """The four stacks' `up` and `refresh`, in rounds that rotate their order."""
    from tests.support.stack import stack

    programs = {
        "dynamic": stackscale.real_program(feeds, rules),
        "dynamic floor": stackscale.noop_program(secret_per_image=True),
        "plugin": native_program(feeds, rules),
        "plugin floor": native_noop_program(),
    }
    times: dict[str, list[float]] = {}
    kinds = list(programs)
    for rnd in range(repeat):
        for kind in kinds[rnd % 4 :] + kinds[: rnd % 4]:
            work = work_root / f"{kind.replace(' ', '-')}-{rnd}"
            st = stack(work, programs[kind], project=f"bench-{kind.replace(' ', '-')}", name="bench")
            st.workspace.env_vars["PYTHONPATH"] = str(ROOT)
            # The plugins from PATH (ambient), as `pip install` leaves them.
            st.workspace.env_vars["PATH"] = f"{bin_dir}{os.pathsep}{st.workspace.env_vars['PATH']}"
            for op in ("up", "refresh"):
                start = time.perf_counter()
                if op == "up":
                    up = st.up(on_output=lambda _line: None)
                    created = (up.summary.resource_changes or {}).get("create", 0)
                    if created < 102:
                        raise RuntimeError(f"{kind} up created {created} of 102")
                else:
                    st.refresh(on_output=lambda _line: None)
                elapsed = time.perf_counter() - start
                times.setdefault(f"{kind} {op}", []).append(elapsed)
                log(f"  {kind} {op} round {rnd + 1}: {elapsed:.2f} s")
            st.destroy(on_output=lambda _line: None)
            shutil.rmtree(work, ignore_errors=True)
    return times


OUT = ROOT / "docs" / "benchmarks-plugin.md"
TIMES = "\u00d7"


def report(results: dict[str, float], repeat: int, startup_repeat: int, note: str = "") -> str:
    rows = [
        "# Benchmarks: the native face",
        "",
        "Written by `python -m benchmarks.pluginscale` (part of `make bench`): the stack of",
        "docs/benchmarks.md (c), 102 resources (2 feeds, 100 ImageVersions over 10 repositories,",
        "300 tags each), through the plugin and through the dynamic provider, each beside a no-op",
        "floor of its own kind, in one run; Python inline programs in all four, so only the",
        f"provider differs. Medians of {repeat} round(s); start-up: median of {startup_repeat}.",
        *([note] if note else []),
        "",
        "| operation | plugin | plugin floor | ratio | dynamic | dynamic floor | ratio | plugin / dynamic |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for op in ("up", "refresh"):
        rows.append(
            f"| `pulumi {op}` | {results[f'plugin {op}']:.2f} s | {results[f'plugin floor {op}']:.2f} s "
            f"| {results[f'{op}: plugin / plugin floor']:.2f}{TIMES} | {results[f'dynamic {op}']:.2f} s "
            f"| {results[f'dynamic floor {op}']:.2f} s "
            f"| {results[f'{op}: dynamic / dynamic floor']:.2f}{TIMES} "
            f"| {results[f'{op}: plugin / dynamic']:.2f}{TIMES} |"
        )
    rows += [
        "",
        "| start-up (spawn to port) | plugin | no-op plugin, same server | ratio |",
        "|---|---|---|---|",
        f"| `pulumi-resource-dockerfeed` | {results['startup plugin']:.3f} s "
        f"| {results['startup floor']:.3f} s "
        f"| {results['startup: plugin / floor']:.2f}{TIMES} |",
        "",
    ]
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="stack rounds of each kind (default 3)")
    ap.add_argument("--startup", type=int, default=10, help="plugin starts measured (default 10)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--note", default="", help="a line about the machine's conditions")
    args = ap.parse_args()
    results = run(args.repeat, args.startup, print)
    for key, value in results.items():
        print(f"{key:32} {value:8.3f}{'' if ':' in key else ' s'}")
    args.out.write_text(report(results, args.repeat, args.startup, args.note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
