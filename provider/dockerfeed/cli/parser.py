"""The argument parser: every command, its options, and usage errors raised as CliError."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from dockerfeed.cli import commands
from dockerfeed.cli.inputs import platform
from dockerfeed.cli.output import EXIT_OK, EXIT_USAGE, CliError

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is raised (to be reported like any other failure)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("dockerfeed").strip()
        text = f"{command}: {message}" if command else message
        raise CliError("usage", text, code=EXIT_USAGE, usage=self.format_usage())


class _Version(argparse.Action):
    """`--version`, looked up only when asked for (importlib.metadata costs a start)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("pulumi-dockerfeed")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"dockerfeed {number}")
        parser.exit(EXIT_OK)


def _add_feed_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("feed", help="feed URI, e.g. https://registry.example.com or localhost:5000")
    p.add_argument("-u", "--username", help="user name (or set DOCKERFEED_USERNAME)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or token from standard input, all of it but one trailing newline "
        "(or set DOCKERFEED_PASSWORD)",
    )
    p.add_argument(
        "--docker-config",
        action="store_true",
        help="take credentials from Docker's config.json and credential helpers",
    )
    p.add_argument(
        "--credentials",
        metavar="SOURCE[,KEY=VALUE...]",
        help="ask a credential source, as the feed's `credentials` input does: "
        "env,variable=GITHUB_TOKEN,username=USER | docker "
        "| aws[,profile=P,region=R,registryId=ID,roleArn=ARN] | gcp[,keyFile=PATH,jsonKey=true] "
        "| azure[,tenantId=T]; `test` prints which source answered",
    )
    p.add_argument("--api-version", choices=["auto", "v2", "v1"], default="auto", help="default: auto")
    p.add_argument("--ca-certificate", metavar="PEM_FILE", help="trust this CA bundle")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="skip TLS certificate verification (test registries); plain http needs an http:// feed URI",
    )
    p.add_argument("--json", action="store_true", help="print JSON for machines")


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dockerfeed",
        description="Treat a Docker/OCI registry as a feed of versioned images.",
        epilog="Exit status: 0 ok, 1 the registry or the resolve failed (or nothing matched), "
        "2 the command line cannot be used. See docs/cli.md.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, fn: Command, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = command("test", commands.cmd_test, "discover a feed's API version and validate its credentials")
    _add_feed_options(p)
    p.add_argument(
        "--image", help="also check pull rights on this repository (valid credentials may lack them)"
    )

    p = command("tags", commands.cmd_tags, "list every tag of an image")
    _add_feed_options(p)
    p.add_argument("image", help="repository, e.g. demo/webapp (nginx means library/nginx on Hub)")

    p = command(
        "search", commands.cmd_search, "list repositories (v1 search, or the v2 catalog filtered here)"
    )
    _add_feed_options(p)
    p.add_argument("query", nargs="?", help="substring of the repository name; all when omitted")

    p = command("resolve", commands.cmd_resolve, "resolve the latest matching tag and its digest")
    _add_feed_options(p)
    p.add_argument("image", help="repository, e.g. demo/webapp")
    _add_rule_options(p)
    p.add_argument("--platform", type=platform, help="also resolve the digest for os/arch[/variant]")

    p = command("pick", commands.cmd_pick, "choose the latest matching tag from a list (offline)")
    p.add_argument("tags", nargs="*", help="tags; read one per line from stdin when none given")
    _add_rule_options(p)
    p.add_argument("--current", metavar="TAG", help="the tag pinned now (docker strategy keeps its variant)")
    p.add_argument("--all", action="store_true", help="print every eligible tag, ascending")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    return parser
