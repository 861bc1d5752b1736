"""The commands: each takes the parsed arguments, calls the core and prints what it found.

Failures are raised (CliError, or the core's own errors) and reported by `main`, so every
command fails the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dockerfeed.cli.inputs import feed_from_args, rule_from_args, stdin_text
from dockerfeed.cli.output import EXIT_FAILURE, EXIT_OK, CliError, print_json, usage_error


@contextmanager
def budget_errors() -> Iterator[None]:
    """A DOCKERFEED_RULE_TIMEOUT that is not a number (a plain ValueError of the selection) is an
    environment that cannot be used; every other error passes as it is."""
    from dockerfeed.versions import VersionRuleError

    try:
        yield
    except VersionRuleError:
        raise
    except ValueError as e:
        raise usage_error(str(e)) from None


def cmd_test(args: argparse.Namespace) -> int:
    from dockerfeed.registry import check_feed

    steps: list[dict[str, Any]] = []

    def progress(step: str, detail: str) -> None:
        steps.append({"step": step, "detail": detail})
        if not args.json:
            print(f"  {step:<12} {detail}", flush=True)

    info = check_feed(feed_from_args(args), progress=progress, image=args.image)
    if args.json:
        print_json({"ok": True, "steps": steps, **info.as_dict()})
    else:
        print(f"OK: {info.registry_url} speaks {info.api_version}, auth {info.auth_scheme}")
    return EXIT_OK


def cmd_tags(args: argparse.Namespace) -> int:
    from dockerfeed.registry import Registry

    tags = Registry(feed_from_args(args)).list_tags(args.image)
    if args.json:
        print_json({"image": args.image, "tags": tags})
    elif tags:
        sys.stdout.write("\n".join(tags) + "\n")
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from dockerfeed.registry import search

    settings = feed_from_args(args)
    names = search(settings, args.query or "")
    if args.query and not names:
        raise CliError(
            "no-match",
            f"no repository on {settings.address.base_url} has {args.query!r} in its name "
            "(the search is a case-insensitive substring match; run it without QUERY to list them all)",
            code=EXIT_FAILURE,
        )
    if args.json:
        print_json({"query": args.query or "", "repositories": names})
    else:
        sys.stdout.write("".join(f"{n}\n" for n in names))
    return EXIT_OK


def cmd_resolve(args: argparse.Namespace) -> int:
    from dockerfeed.resolve import resolve_image

    rule = rule_from_args(args)
    with budget_errors():
        pin = resolve_image(feed_from_args(args), args.image, rule, platform=args.platform)
    if args.json:
        print_json(pin.as_dict())
    else:
        print(pin.image_ref)
    return EXIT_OK


def cmd_pick(args: argparse.Namespace) -> int:
    from dockerfeed.versions import select_latest

    rule = rule_from_args(args)
    tags = list(args.tags)
    if not tags:
        if sys.stdin.isatty():
            # Waiting on a terminal for tags nobody will type looks like a hang.
            raise usage_error("pick: give tags as arguments or one per line on stdin")
        tags = [line.strip() for line in stdin_text("pick").splitlines() if line.strip()]
    # A pattern out of its time budget (RuleTimeout) is a bad rule, raised as it is.
    with budget_errors():
        selection = select_latest(tags, rule, current=args.current)
    if selection.winner is None:
        raise CliError("no-match", selection.explain(), code=EXIT_FAILURE)
    if args.json:
        document = selection.as_dict()  # complete before anything is printed
        print_json(document)
    elif args.all:
        sys.stdout.write("".join(f"{c.tag}\n" for c in selection.eligible))
    else:
        print(selection.winner.tag)
    return EXIT_OK
