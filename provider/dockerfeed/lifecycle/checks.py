"""The checks of one input value each, without pydantic: the models' validators (models.py) and
the plain reading of stored outputs (plain.py) run the same ones. Each raises ValueError with
the message `check` shows."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from dockerfeed.registry import InvalidConfiguration, Platform, RegistryError, normalize_image, parse_feed_uri
from dockerfeed.registry.settings import check_ca_certificate, check_credentials, check_username
from dockerfeed.sources import CredentialSpec, SourceConfigError


def feed_uri(value: str) -> str:
    try:
        parse_feed_uri(value, insecure=True)
    except RegistryError as e:
        raise ValueError(str(e)) from None
    return value


def registry_path(value: str | None) -> str | None:
    if value is not None and (not value.strip() or re.search(r"\s", value.strip())):
        raise ValueError(f"registryPath {value!r} must be a host[:port][/prefix] without spaces")
    if value is not None and any(s in (".", "..") for s in unquote(value).split("/")):
        raise ValueError(f"registryPath {value!r} must be a host[:port][/prefix] without . or .. segments")
    return value


def username(value: str | None) -> str | None:
    if value:
        try:
            check_username(value)
        except RegistryError as e:
            raise ValueError(str(e)) from None
    return value


def ca_certificate(value: str | None) -> str | None:
    if value is not None:
        try:
            check_ca_certificate(value)
        except RegistryError as e:
            raise ValueError(str(e)) from None
    return value


def credentials(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        try:
            CredentialSpec.parse(value)
        except SourceConfigError as e:
            raise ValueError(str(e).removeprefix("credentials").lstrip(".: ") or str(e)) from None
    return value


def credential_pairs(
    user: str | None, password: str | None, use_docker_config: bool, credentials_given: bool
) -> None:
    """The registry client's own rule for credentials (registry/settings.py; the message names
    the property), and the resources' own: one way of giving them, not two."""
    try:
        check_credentials(user, password)
    except InvalidConfiguration as e:
        raise ValueError(f"{e.property}: {e}") from None
    if use_docker_config and user:
        raise ValueError("useDockerConfig: give either username/password or useDockerConfig, not both")
    if credentials_given and (user or password or use_docker_config):
        given = "username/password" if user or password else "useDockerConfig"
        raise ValueError(
            f"credentials: give either credentials (a source asked at run time) or {given}, not both"
        )


def image(value: str) -> str:
    try:
        normalize_image(value)
    except RegistryError as e:
        raise ValueError(str(e)) from None
    return value


def platform(value: str | None) -> str | None:
    if value is not None:
        Platform.parse(value)
    return value
