"""The `dockerfeed` command: a thin facade over `registry/` and `versions/`.

It parses arguments, calls the core and prints. Heavy modules are imported inside the command
functions so that `dockerfeed --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace], int]


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def _fail(message: str) -> int:
    print(f"dockerfeed: {message}", file=sys.stderr)
    return EXIT_FAILURE


# --- feed commands ---------------------------------------------------------------------------


def _add_feed_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("feed", help="feed URI, e.g. https://registry.example.com or localhost:5000")
    p.add_argument("-u", "--username", help="user name (or set DOCKERFEED_USERNAME)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or token from standard input (or set DOCKERFEED_PASSWORD)",
    )
    p.add_argument(
        "--docker-config",
        action="store_true",
        help="take credentials from Docker's config.json and credential helpers",
    )
    p.add_argument("--api-version", choices=["auto", "v2", "v1"], default="auto", help="default: auto")
    p.add_argument("--ca-certificate", metavar="PEM_FILE", help="trust this CA bundle")
    p.add_argument("--insecure", action="store_true", help="skip TLS verification (and allow plain http)")
    p.add_argument("--json", action="store_true", help="print JSON for machines")


def _feed_from_args(args: argparse.Namespace) -> Any:
    import os

    from dockerfeed.registry import FeedSettings, InvalidReference

    username = args.username or os.environ.get("DOCKERFEED_USERNAME")
    # The environment's password only counts with a user name: it must not make an
    # anonymous command fail with "half of the credentials".
    password = os.environ.get("DOCKERFEED_PASSWORD") if username else None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    ca = None
    if args.ca_certificate:
        try:
            with open(args.ca_certificate, encoding="utf-8") as f:
                ca = f.read()
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InvalidReference(
                f"cannot read --ca-certificate {args.ca_certificate}: {reason}; "
                "give the path of a PEM file with the registry's CA certificate"
            ) from None
    return FeedSettings(
        feed_uri=args.feed,
        api_version=args.api_version,
        username=username,
        password=password,
        use_docker_config=args.docker_config,
        ca_certificate=ca,
        insecure_skip_tls_verify=args.insecure,
    )


def _cmd_test(args: argparse.Namespace) -> int:
    from dockerfeed.registry import RegistryError, test_feed

    steps: list[dict[str, Any]] = []

    def progress(step: str, detail: str) -> None:
        steps.append({"step": step, "detail": detail})
        if not args.json:
            print(f"  {step:<12} {detail}")

    try:
        info = test_feed(_feed_from_args(args), progress=progress, image=args.image)
    except RegistryError as e:
        if args.json:
            _print_json({"ok": False, "error": str(e), "kind": e.kind, "steps": steps})
            return EXIT_FAILURE
        return _fail(str(e))
    if args.json:
        _print_json({"ok": True, "steps": steps, **info.as_dict()})
    else:
        print(f"OK: {info.registry_url} speaks {info.api_version}, auth {info.auth_scheme}")
    return EXIT_OK


def _cmd_tags(args: argparse.Namespace) -> int:
    from dockerfeed.registry import RegistryError, open_registry

    try:
        with open_registry(_feed_from_args(args)) as reg:
            tags = reg.list_tags(args.image)
    except RegistryError as e:
        return _fail(str(e))
    if args.json:
        _print_json({"image": args.image, "tags": tags})
    elif tags:
        sys.stdout.write("\n".join(tags) + "\n")
    return EXIT_OK


def _cmd_search(args: argparse.Namespace) -> int:
    from dockerfeed.registry import RegistryError, search

    try:
        names = search(_feed_from_args(args), args.query or "")
    except RegistryError as e:
        return _fail(str(e))
    if args.json:
        _print_json({"query": args.query or "", "repositories": names})
    else:
        sys.stdout.write("".join(f"{n}\n" for n in names))
    return EXIT_OK if names or not args.query else EXIT_FAILURE


def _cmd_resolve(args: argparse.Namespace) -> int:
    from dockerfeed.registry import RegistryError
    from dockerfeed.resolve import ResolveError, resolve_image

    try:
        rule = _rule_from_args(args)
        pin = resolve_image(_feed_from_args(args), args.image, rule, platform=args.platform)
    except (RegistryError, ResolveError, ValueError) as e:
        return _fail(str(e))
    if args.json:
        _print_json(pin.as_dict())
    else:
        print(pin.image_ref)
    return EXIT_OK


# --- version commands ------------------------------------------------------------------------


def _add_rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--range", dest="version_range", help="version range, e.g. '[1.0,2.0)' or '^1.2'")
    p.add_argument(
        "--prerelease", dest="pre_release_tag", help="regex on the pre-release label ('^$' = stable)"
    )
    p.add_argument("--include", dest="tag_include", help="regex a tag must match")
    p.add_argument(
        "--exclude", dest="tag_exclude", action="append", default=None, help="regex to skip (repeat)"
    )
    p.add_argument(
        "--strategy",
        default="octopus",
        choices=["octopus", "docker", "semver", "pep440", "alphabetical", "numerical"],
        help="how tags are compared (default: octopus)",
    )
    p.add_argument("--variant", help="docker strategy: the suffix a tag must carry, e.g. alpine")


def _rule_from_args(args: argparse.Namespace) -> Any:
    from dockerfeed.versions import VersionRule

    return VersionRule.build(
        version_range=args.version_range,
        pre_release_tag=args.pre_release_tag,
        tag_include=args.tag_include,
        tag_exclude=args.tag_exclude,
        strategy=args.strategy,
        variant=args.variant,
    )


def _cmd_pick(args: argparse.Namespace) -> int:
    from dockerfeed.versions import select_latest

    try:
        rule = _rule_from_args(args)
    except ValueError as e:
        print(f"dockerfeed pick: {e}", file=sys.stderr)
        return EXIT_USAGE
    tags = list(args.tags)
    if not tags:
        if sys.stdin.isatty():
            # Waiting on a terminal for tags nobody will type looks like a hang.
            print("dockerfeed pick: give tags as arguments or one per line on stdin", file=sys.stderr)
            return EXIT_USAGE
        tags = [line.strip() for line in sys.stdin if line.strip()]
    try:
        return _print_pick(args, select_latest(tags, rule, current=args.current))
    except ValueError as e:  # a pattern out of its time budget (RuleTimeout), or a bad budget
        print(f"dockerfeed pick: {e}", file=sys.stderr)
        return EXIT_USAGE


def _print_pick(args: argparse.Namespace, selection: Any) -> int:
    if args.json:
        document = selection.as_dict()  # complete before anything is printed
        _print_json(document)
        if selection.winner is None:
            return _fail(selection.explain())
        return EXIT_OK
    if selection.winner is None:
        return _fail(selection.explain())
    if args.all:
        sys.stdout.write("".join(f"{c.tag}\n" for c in selection.eligible))
    else:
        print(selection.winner.tag)
    return EXIT_OK


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockerfeed",
        description="Treat a Docker/OCI registry as a feed of versioned images.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Command, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = command("test", _cmd_test, "discover a feed's API version and validate its credentials")
    _add_feed_options(p)
    p.add_argument(
        "--image", help="also check pull rights on this repository (valid credentials may lack them)"
    )

    p = command("tags", _cmd_tags, "list every tag of an image")
    _add_feed_options(p)
    p.add_argument("image", help="repository, e.g. demo/webapp (nginx means library/nginx on Hub)")

    p = command("search", _cmd_search, "list repositories (v1 search, or the v2 catalog filtered here)")
    _add_feed_options(p)
    p.add_argument("query", nargs="?", help="substring of the repository name; all when omitted")

    p = command("resolve", _cmd_resolve, "resolve the latest matching tag and its digest")
    _add_feed_options(p)
    p.add_argument("image", help="repository, e.g. demo/webapp")
    _add_rule_options(p)
    p.add_argument("--platform", help="also resolve the digest for os/arch[/variant]")

    p = command("pick", _cmd_pick, "choose the latest matching tag from a list (offline)")
    p.add_argument("tags", nargs="*", help="tags; read one per line from stdin when none given")
    _add_rule_options(p)
    p.add_argument("--current", metavar="TAG", help="the tag pinned now (docker strategy keeps its variant)")
    p.add_argument("--all", action="store_true", help="print every eligible tag, ascending")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
