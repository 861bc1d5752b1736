"""Exit codes and how a failure is reported: one `dockerfeed:` line, or one JSON error object."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1  # the registry (or resolving against it) failed, or nothing matched
EXIT_USAGE = 2  # the command line cannot be used; nothing was sent
EXIT_INTERRUPTED = 130
# As a process killed by SIGPIPE (128 + 13): the reader closed standard output early.
EXIT_BROKEN_PIPE = 141


class CliError(Exception):
    """A failure to report: `kind` for machines, `message` for people, the exit code to use."""

    def __init__(
        self, kind: str, message: str, *, code: int, request: str | None = None, usage: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.request = request
        self.usage = usage  # the command's usage line, shown before a usage error (not in JSON)


def usage_error(message: str) -> CliError:
    return CliError("usage", message, code=EXIT_USAGE)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def as_cli_error(e: Exception) -> CliError | None:
    """The failure to report for an error of the core; None for anything else (a bug)."""
    if isinstance(e, CliError):
        return e
    from dockerfeed.registry import InvalidConfiguration, InvalidReference, RegistryError
    from dockerfeed.resolve import ResolveError
    from dockerfeed.versions import VersionRuleError

    if isinstance(e, InvalidReference | InvalidConfiguration):
        return CliError(e.kind, e.message, code=EXIT_USAGE, request=e.request)
    if isinstance(e, RegistryError):
        return CliError(e.kind, e.message, code=EXIT_FAILURE, request=e.request)
    if isinstance(e, VersionRuleError):
        return CliError("invalid-rule", str(e), code=EXIT_USAGE)
    if isinstance(e, ResolveError):
        return CliError("no-match", str(e), code=EXIT_FAILURE)
    return None


def internal_error(e: Exception) -> CliError:
    """A bug: one line naming it, the traceback only when DOCKERFEED_DEBUG asks for it."""
    import traceback

    frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    return CliError(
        "internal",
        f"internal error{where}: {type(e).__name__}: {e}; this is a bug in dockerfeed, please report "
        "it (DOCKERFEED_DEBUG=1 shows the traceback)",
        code=EXIT_FAILURE,
    )


def report(error: CliError, as_json: bool) -> int:
    """Print the failure the one way the convention allows; return its exit code."""
    if as_json:
        print_json({"kind": error.kind, "message": error.message, "request": error.request})
    else:
        print(f"{error.usage}dockerfeed: {error.message}", file=sys.stderr)
    return error.code


def closed_stdout() -> int:
    """Standard output is gone (`… | head -1`): say so once on stderr, without a traceback."""
    # Further writes, and the interpreter's flush at exit, would fail again: point stdout at
    # /dev/null first.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    with contextlib.suppress(OSError):
        print(
            "dockerfeed: standard output was closed before the output was complete (broken pipe)",
            file=sys.stderr,
        )
    return EXIT_BROKEN_PIPE
