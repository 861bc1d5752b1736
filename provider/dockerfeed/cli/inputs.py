"""What a command is given besides its arguments: standard input, files, the environment."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from dockerfeed.cli.output import usage_error


def stdin_text(what: str) -> str:
    """All of standard input as UTF-8 text; a BOM or bytes that are not UTF-8 are refused.

    The bytes are never shown: standard input may carry a secret.
    """
    raw = getattr(sys.stdin, "buffer", None)
    data = raw.read() if raw is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    if data.startswith(b"\xef\xbb\xbf"):
        raise usage_error(
            f"{what}: standard input starts with a UTF-8 byte order mark (BOM, bytes EF BB BF); "
            "write it without one (PowerShell: Out-File -Encoding utf8NoBOM, or pipe the text itself)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise usage_error(
            f"{what}: standard input is not UTF-8 text (byte {e.start + 1} of {len(data)} is not "
            "valid UTF-8); give the text in UTF-8"
        ) from None


def password_from_stdin() -> str:
    # As `docker login --password-stdin`: everything, minus one trailing newline (\n or \r\n),
    # so a multi-line secret (a `_json_key` service-account key) arrives whole.
    return stdin_text("--password-stdin").removesuffix("\n").removesuffix("\r")


def read_ca(path: str) -> str:
    from dockerfeed.registry.settings import PEM_MARKER

    try:
        with open(path, encoding="utf-8") as f:
            ca = f.read()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise usage_error(
            f"cannot read --ca-certificate {path}: {reason}; "
            "give the path of a PEM file with the registry's CA certificate"
        ) from None
    if PEM_MARKER not in ca:
        raise usage_error(
            f"--ca-certificate {path} holds no PEM certificate (no {PEM_MARKER} line); "
            "give the path of a PEM file with the registry's CA certificate"
        )
    return ca


def feed_from_args(args: argparse.Namespace) -> Any:
    """The feed's ConnectionSettings from the feed options, standard input and the environment."""
    from dockerfeed.registry import ConnectionSettings

    username = args.username or os.environ.get("DOCKERFEED_USERNAME") or None
    env_password = os.environ.get("DOCKERFEED_PASSWORD") or None
    password = password_from_stdin() if args.password_stdin else env_password
    if env_password and not username and not args.password_stdin:
        raise usage_error(
            "DOCKERFEED_PASSWORD is set, but no user name is: give -u USER (or set "
            "DOCKERFEED_USERNAME), or unset DOCKERFEED_PASSWORD for anonymous access"
        )
    ca = read_ca(args.ca_certificate) if args.ca_certificate else None
    credentials = credentials_from_args(args)
    if credentials is not None:
        username = password = None  # DOCKERFEED_USERNAME/PASSWORD give way to the source
    return ConnectionSettings(
        feed_uri=args.feed,
        api_version=args.api_version,
        username=username,
        password=password,
        use_docker_config=args.docker_config,
        credentials=credentials,
        ca_certificate=ca,
        insecure_skip_tls_verify=args.insecure,
    )


def credentials_from_args(args: argparse.Namespace) -> Any:
    """`--credentials SOURCE[,KEY=VALUE...]` as a CredentialSpec (None when not given)."""
    if not getattr(args, "credentials", None):
        return None
    from dockerfeed.sources import SourceConfigError, parse_cli

    clash = [
        flag
        for flag, on in (
            ("-u", args.username),
            ("--password-stdin", args.password_stdin),
            ("--docker-config", args.docker_config),
        )
        if on
    ]
    if clash:
        raise usage_error(
            f"--credentials and {' and '.join(clash)} both say where credentials come from; give one"
        )
    try:
        return parse_cli(args.credentials)
    except SourceConfigError as e:
        raise usage_error(f"--credentials: {e}") from None


def rule_from_args(args: argparse.Namespace) -> Any:
    from dockerfeed.versions import VersionRule

    return VersionRule.build(
        version_range=args.version_range,
        pre_release_tag=args.pre_release_tag,
        tag_include=args.tag_include,
        tag_exclude=args.tag_exclude,
        strategy=args.strategy,
        variant=args.variant,
    )


def platform(text: str) -> str:
    """argparse type of --platform: checked before anything is sent."""
    from dockerfeed.registry import Platform

    try:
        Platform.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text
