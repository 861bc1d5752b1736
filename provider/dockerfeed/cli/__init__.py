"""The `dockerfeed` command: a thin facade over `registry/` and `versions/`.

It parses arguments (parser.py), reads what else a command is given (inputs.py), calls the core
(commands.py) and reports (output.py). Heavy modules are imported inside the commands so that
`dockerfeed --help` stays fast.

One convention for every command (docs/cli.md): exit 0 on success, 1 when the registry (or
resolving against it) failed or nothing matched, 2 when the command line cannot be used (an
argument, an option, standard input, the environment, Docker's config). A failure prints one
`dockerfeed: <reason>` line on stderr; with `--json`, one JSON object with `kind`, `message` and
`request` on stdout and nothing else. Never a traceback: a bug is named in one line too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dockerfeed.cli.output import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    as_cli_error,
    closed_stdout,
    internal_error,
    report,
)
from dockerfeed.cli.parser import Command, build_parser


def _wants_json(argv: Sequence[str]) -> bool:
    args = list(argv)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(argv)  # known before parsing, for a usage error
    try:
        try:
            args = build_parser().parse_args(argv)
            as_json = bool(getattr(args, "json", False))
            func: Command = args.func
            code = func(args)
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
            return code
        except KeyboardInterrupt:
            return report(CliError("interrupted", "interrupted", code=EXIT_INTERRUPTED), as_json)
        except BrokenPipeError:
            raise
        except Exception as e:
            error = as_cli_error(e)
            if error is None:
                if os.environ.get("DOCKERFEED_DEBUG"):
                    raise
                error = internal_error(e)
            return report(error, as_json)
    except BrokenPipeError:
        return closed_stdout()


__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "build_parser",
    "main",
]
