"""Shared helpers: the machine, peers, medians, and request counting from the registry's logs."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PEERS_ENV = ROOT / ".venv" / "peers.env"


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def peers() -> dict[str, str]:
    """Peer binaries and versions; builds them (cached) when peers.env is missing."""
    if not PEERS_ENV.exists():
        subprocess.run([str(ROOT / "scripts" / "build-peers.sh")], check=True)
    return read_env_file(PEERS_ENV)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine() -> dict[str, str]:
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": f"{sys.version.split()[0]} ({platform.python_implementation()})",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- request counting

# distribution's access log (gorilla combined format): 127.0.0.1 - - [date] "GET /v2/... HTTP/1.1" 200 …
_ACCESS = re.compile(
    r'^\S+ - \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<uri>\S+) HTTP/[\d.]+" (?P<status>\d{3}) '
)
# …and its "response completed" lines carry the server-side duration.
_DURATION = re.compile(
    r'msg="response completed".*?http\.response\.duration="?(?P<d>[\d.]+)(?P<u>µs|ms|s|ns)'
)
_UNITS = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class Requests:
    """Requests one client run sent: registry lines from the access log plus token grants."""

    registry: list[tuple[str, str, int]] = field(default_factory=list)
    tokens: int = 0
    server_seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.registry) + self.tokens

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {"token": self.tokens} if self.tokens else {}
        for method, uri, status in self.registry:
            path = uri.split("?")[0]
            if path == "/v2/":
                kind = "ping"
            elif path.endswith("/tags/list"):
                kind = "tags/list"
            elif "/manifests/" in path:
                kind = f"{method} manifest"
            else:
                kind = f"{method} {path}"
            if status == 401:
                kind += " 401"
            out[kind] = out.get(kind, 0) + 1
        return out


class RequestCounter:
    """Counts what reached a RegistryServer (and its token server) between mark() and since()."""

    def __init__(self, *servers: Any) -> None:
        self.servers = servers

    def mark(self) -> list[tuple[int, int]]:
        marks = []
        for s in self.servers:
            size = s.log_path.stat().st_size
            tokens = len(s.token_server.requests) if s.token_server is not None else 0
            marks.append((size, tokens))
        return marks

    def since(self, marks: list[tuple[int, int]], settle: float = 0.05) -> Requests:
        time.sleep(settle)  # the access-log line is written just after the response
        result = Requests()
        for s, (size, tokens) in zip(self.servers, marks, strict=True):
            with open(s.log_path, "rb") as f:
                f.seek(size)
                text = f.read().decode(errors="replace")
            for line in text.splitlines():
                m = _ACCESS.match(line)
                if m:
                    result.registry.append((m["method"], m["uri"], int(m["status"])))
                    continue
                d = _DURATION.search(line)
                if d:
                    result.server_seconds += float(d["d"]) * _UNITS[d["u"]]
            if s.token_server is not None:
                result.tokens += len(s.token_server.requests) - tokens
        return result


def timed(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600) -> tuple[float, str]:
    """Wall time of one command (raises with its stderr when it fails) and its stdout."""
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return elapsed, proc.stdout


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
