"""Stored outputs read without pydantic, for `read` (a refresh reads every resource).

A refresh hands each read the outputs the lifecycle itself stored, which its models already
validated. Importing pydantic and building the models costs a provider host a few hundred
milliseconds on its first read, while the host's other workers wait on the import (benchmarks/
findings.md). So props of exactly the plain shape the lifecycle stores (camelCase keys, values
of the field's own type) are read here, through the same checks as the models' (checks.py).
Anything else gives None, and the caller validates with the models, whose messages stay the
only ones a user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import dockerfeed.lifecycle.checks as checks
from dockerfeed.contract import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    DEFAULT_INSECURE_SKIP_TLS_VERIFY,
    DEFAULT_STRATEGY,
    DEFAULT_USE_DOCKER_CONFIG,
)
from dockerfeed.registry import ConnectionSettings
from dockerfeed.sources import CredentialSpec
from dockerfeed.versions import VersionRule

# The models' field names (pydantic also takes these besides the camelCase aliases).
_FEED_NAMES = frozenset(
    (
        "feed_uri",
        "registry_path",
        "api_version",
        "use_docker_config",
        "ca_certificate",
        "insecure_skip_tls_verify",
    )
)
_IMAGE_NAMES = frozenset(("version_range", "pre_release_tag", "tag_include", "tag_exclude"))


class _NotPlain(Exception):
    """The props are not of the plain stored shape: the models decide."""


def _get(props: dict[str, Any], key: str, kind: type, default: Any = None, *, optional: bool = True) -> Any:
    if key not in props:
        if default is None and not optional:
            raise _NotPlain(key)
        return default
    value = props[key]
    if value is None and optional:
        return None
    if type(value) is not kind:  # exact: no coercion that the models might do differently
        raise _NotPlain(key)
    return value


@dataclass(frozen=True)
class PlainFeed:
    """What FeedInputs gives the lifecycle: the settings and the apiVersion asked."""

    feed_uri: str
    registry_path: str | None
    api_version: str
    username: str | None
    password: str | None
    use_docker_config: bool
    credentials: dict[str, Any] | None
    ca_certificate: str | None
    insecure_skip_tls_verify: bool

    def settings(self) -> ConnectionSettings:
        return settings_of(self, self.password)

    def with_api_version(self, api_version: str) -> PlainFeed:
        return replace(self, api_version=api_version)


def settings_of(feed: Any, password: str | None) -> ConnectionSettings:
    """The connection settings of a feed's inputs: a PlainFeed, or the models' FeedInputs (same
    field names; its password is still wrapped, so the caller hands it over unwrapped)."""
    return ConnectionSettings(
        feed_uri=feed.feed_uri,
        registry_path=feed.registry_path,
        api_version=feed.api_version,
        username=feed.username,
        password=password,
        use_docker_config=feed.use_docker_config,
        credentials=CredentialSpec.parse(feed.credentials) if feed.credentials is not None else None,
        ca_certificate=feed.ca_certificate,
        insecure_skip_tls_verify=feed.insecure_skip_tls_verify,
    )


@dataclass(frozen=True)
class PlainImage:
    """What ImageVersionInputs gives a resolve."""

    feed: PlainFeed
    image: str
    platform: str | None
    rule_fields: dict[str, Any]

    def rule(self) -> VersionRule:
        return VersionRule.build(**self.rule_fields)


def _feed(props: dict[str, Any]) -> PlainFeed:
    if _FEED_NAMES & props.keys():
        raise _NotPlain("snake_case names")
    api_version = _get(props, "apiVersion", str, DEFAULT_API_VERSION, optional=False)
    if api_version not in API_VERSIONS:
        raise _NotPlain("apiVersion")
    feed = PlainFeed(
        feed_uri=_get(props, "feedUri", str, optional=False),
        registry_path=_get(props, "registryPath", str),
        api_version=api_version,
        username=_get(props, "username", str),
        password=_get(props, "password", str),
        use_docker_config=_get(props, "useDockerConfig", bool, DEFAULT_USE_DOCKER_CONFIG, optional=False),
        credentials=_get(props, "credentials", dict),
        ca_certificate=_get(props, "caCertificate", str),
        insecure_skip_tls_verify=_get(
            props, "insecureSkipTlsVerify", bool, DEFAULT_INSECURE_SKIP_TLS_VERIFY, optional=False
        ),
    )
    try:
        checks.feed_uri(feed.feed_uri)
        checks.registry_path(feed.registry_path)
        checks.username(feed.username)
        checks.ca_certificate(feed.ca_certificate)
        checks.credentials(feed.credentials)
        checks.credential_pairs(
            feed.username, feed.password, feed.use_docker_config, feed.credentials is not None
        )
    except ValueError:
        raise _NotPlain("a check") from None
    return feed


def feed(props: dict[str, Any]) -> PlainFeed | None:
    """DockerFeed props of the plain stored shape, checked; None: validate with the models."""
    try:
        return _feed(props)
    except _NotPlain:
        return None


def image(props: dict[str, Any]) -> PlainImage | None:
    """ImageVersion props of the plain stored shape, checked; None: validate with the models."""
    try:
        if _IMAGE_NAMES & props.keys():
            raise _NotPlain("snake_case names")
        feed_props = props.get("feed")
        if type(feed_props) is not dict:
            raise _NotPlain("feed")
        exclude = _get(props, "tagExclude", list)
        if exclude is not None and any(type(p) is not str for p in exclude):
            raise _NotPlain("tagExclude")
        found = PlainImage(
            feed=_feed(feed_props),
            image=_get(props, "image", str, optional=False),
            platform=_get(props, "platform", str),
            rule_fields={
                "version_range": _get(props, "versionRange", str),
                "pre_release_tag": _get(props, "preReleaseTag", str),
                "tag_include": _get(props, "tagInclude", str),
                "tag_exclude": list(exclude) if exclude is not None else None,
                "strategy": _get(props, "strategy", str, DEFAULT_STRATEGY, optional=False),
                "variant": _get(props, "variant", str),
            },
        )
        checks.image(found.image)
        checks.platform(found.platform)
    except (_NotPlain, ValueError):
        return None
    return found
