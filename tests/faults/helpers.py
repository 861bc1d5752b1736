"""Helpers shared by the fault tests: run the CLI in-process and judge its answer; the feed of
the Pulumi programs."""

from __future__ import annotations

import json
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pytest

from dockerfeed.cli import main
from pulumi_dockerfeed import DockerFeed

if TYPE_CHECKING:
    from tests.faults.conftest import Seeded


@dataclass
class CliRun:
    rc: int | None  # None: main() raised instead of returning an exit code
    out: str
    err: str
    crash: str = ""  # the exception main() let escape, if any

    @property
    def text(self) -> str:
        return self.out + self.err + self.crash

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> CliRun:
    """`dockerfeed ARGV` in this process (so test hooks apply); escaped exceptions are kept."""
    capsys.readouterr()
    rc: int | None
    crash = ""
    try:
        rc = main(list(argv))
    except SystemExit as e:  # argparse usage errors
        rc = e.code if isinstance(e.code, int) else 2
    except Exception as e:
        rc = None
        crash = f"{type(e).__module__}.{type(e).__name__}: {e}\n{traceback.format_exc()}"
    captured = capsys.readouterr()
    return CliRun(rc, captured.out, captured.err, crash)


def assert_clean_failure(run: CliRun, *parts: str, secrets: Sequence[str] = ()) -> None:
    """Exit code 1, a `dockerfeed:` message on stderr naming every part (with --json: one JSON
    error object on stdout and nothing on stderr), no traceback, no secret."""
    assert run.crash == "", f"the CLI crashed instead of failing cleanly:\n{run.crash}"
    assert run.rc == 1, f"exit code {run.rc}; stderr: {run.err}"
    assert "Traceback" not in run.text
    if run.out.startswith("{"):
        error = run.json()
        assert set(error) == {"kind", "message", "request"} and run.err == "", run.text
        reason = str(error["message"])
    else:
        assert run.err.startswith("dockerfeed: "), run.err
        reason = run.err
    for part in parts:
        assert part in reason, f"{part!r} not in: {reason}"
    for secret in secrets:
        assert secret not in run.text


def feed_args(host: str, user: str | None = "ci") -> list[str]:
    return [host, "-u", user] if user else [host]


def config_feed() -> DockerFeed:
    """A program's feed from stack config: `feedUri`, `username` and the secret `password`."""
    config = pulumi.Config()
    return DockerFeed(
        "feed",
        feed_uri=config.require("feedUri"),
        username=config.require("username"),
        password=config.require_secret("password"),
    )


def feed_config(host: str, seeded: Seeded) -> dict[str, dict[str, str]]:
    """The `stack(...)` arguments that config_feed reads: the feed at `host` as seeded's user."""
    return {"config": {"feedUri": host, "username": seeded.user}, "secrets": {"password": seeded.password}}
