"""DockerFeed and ImageVersion as Python classes; property names follow schema.json."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from dockerfeed import contract
from dockerfeed.resources.providers import DRY_RUN, DockerFeedProvider, ImageVersionProvider
from pulumi_dockerfeed._args import (
    _FEED_SETTINGS,
    CredentialsArgs,
    DockerFeedArgs,
    FeedSettingsArgs,
    ImageVersionArgs,
)

# snake_case (Python) <-> camelCase (schema.json and stack state), generated from schema.json
_NAMES = contract.PY_NAMES
_PY_NAMES = {v: k for k, v in _NAMES.items()}

# OCI distribution spec: a tag, and the digests this provider pins (sha256).
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


class DockerfeedError(pulumi.RunError):
    """A program that cannot work as written. Pulumi shows a RunError as one `error:` line (no
    traceback), so the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(f"dockerfeed: {message}")


def _refuse_import(kind: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
    if opts is None or opts.import_ is None:
        return
    also = "; to read a pin another stack made, use ImageVersion.get(...)" if kind == "ImageVersion" else ""
    raise DockerfeedError(
        f"{kind} {name!r} cannot be imported (ResourceOptions(import_=...)): the resources are "
        "Pulumi dynamic resources, and a dynamic provider is given nothing to read on import. "
        f"Declare it without import_: creating a {kind} changes nothing in the registry{also}"
    )


class _Translated(pulumi.dynamic.Resource):
    def translate_input_property(self, prop: str) -> str:
        return _NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return _PY_NAMES.get(prop, prop)


def _dry_run() -> dict[str, Any]:
    """Tells the provider's check that this is a preview (see dockerfeed.resources.providers)."""
    return {DRY_RUN: True} if pulumi.runtime.is_dry_run() else {}


def _feed_settings(feed: object, name: str) -> DockerFeed | FeedSettingsArgs:
    """ImageVersion's `feed`: a DockerFeed, FeedSettingsArgs, or a dict of the same settings
    (snake_case as FeedSettingsArgs, or the schema's camelCase)."""
    if isinstance(feed, DockerFeed | FeedSettingsArgs):
        return feed
    if isinstance(feed, Mapping):
        settings: dict[str, Any] = {}
        for key, value in feed.items():
            setting = _PY_NAMES.get(key, key) if isinstance(key, str) else key
            if setting not in _FEED_SETTINGS:
                raise DockerfeedError(
                    f"ImageVersion {name!r}: feed has the unknown setting {key!r}; a feed's settings are "
                    + ", ".join(_FEED_SETTINGS)
                )
            settings[setting] = value
        if settings.get("feed_uri") is None:
            raise DockerfeedError(f"ImageVersion {name!r}: feed has no feed_uri (the registry address)")
        return FeedSettingsArgs(**settings)
    raise DockerfeedError(
        f"ImageVersion {name!r}: feed must be a DockerFeed, a FeedSettingsArgs or a dict of feed settings "
        f"(feed_uri=..., username=..., ...), not {type(feed).__name__}"
    )


class DockerFeed(_Translated, module="dockerfeed", name="DockerFeed"):
    """A Docker/OCI registry declared as a feed.

    Creating or updating it discovers the API version (v2 `/v2/`, v1 `/v1/_ping`) and validates the
    credentials for real; a bad password fails `pulumi up` with a message saying what to fix.
    """

    feed_uri: pulumi.Output[str]
    """Registry address, e.g. `https://registry.example.com` or `localhost:5000`. https is assumed
    without a scheme, except for loopback hosts; another host is reached over plain http only
    when written with an explicit `http://`."""
    registry_path: pulumi.Output[str | None]
    """The address deployment targets pull from when it differs from feedUri (Octopus "Registry
    Path"); used in imageRef."""
    api_version: pulumi.Output[str]
    """`auto` (default), `v2` or `v1`. An explicit version is verified, not trusted. As an output:
    the version found."""
    username: pulumi.Output[str | None]
    """User name for Basic auth or the token service."""
    password: pulumi.Output[str | None]
    """Password or token."""
    use_docker_config: pulumi.Output[bool | None]
    """Take credentials from Docker's config.json (`$DOCKER_CONFIG` or `~/.docker`) and its
    credential helpers."""
    credentials: pulumi.Output[dict[str, Any] | None]
    """Where credentials come from at run time, instead of username/password or useDockerConfig:
    `{source: env, variable: GITHUB_TOKEN, username: ci}`, `{source: aws}`, `{source: gcp}`,
    `{source: azure}`, `{source: docker}`. The state stores where to ask, never the secret, so a
    refresh asks the source again."""
    ca_certificate: pulumi.Output[str | None]
    """PEM bundle of CAs to trust for this registry."""
    insecure_skip_tls_verify: pulumi.Output[bool | None]
    """Skip TLS certificate verification (test registries only). It never switches to plain http:
    write `http://` in feedUri for that."""
    registry_url: pulumi.Output[str]
    """The registry's base URL as used by the provider."""
    pull_address: pulumi.Output[str]
    """Where images are pulled from: registryPath when set, else the feed's host (docker.io for
    Docker Hub)."""
    auth_scheme: pulumi.Output[str]
    """`anonymous`, `basic` or `bearer`."""
    catalog_supported: pulumi.Output[bool]
    """Whether the catalog (`/v2/_catalog`) answers for these credentials."""
    previous_api_version: pulumi.Output[str | None]
    """The API version the feed answered before it changed (set when a refresh or an update found
    another `apiVersion`)."""

    def __init__(
        self,
        resource_name: str,
        args: DockerFeedArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        feed_uri: pulumi.Input[str] | None = None,
        registry_path: pulumi.Input[str] | None = None,
        api_version: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        use_docker_config: pulumi.Input[bool] | None = None,
        credentials: CredentialsArgs | Mapping[str, Any] | None = None,
        ca_certificate: pulumi.Input[str] | None = None,
        insecure_skip_tls_verify: pulumi.Input[bool] | None = None,
    ) -> None:
        _refuse_import("DockerFeed", resource_name, opts)
        if args is None:
            if feed_uri is None:
                raise DockerfeedError(f"DockerFeed {resource_name!r} needs feed_uri (the registry address)")
            args = DockerFeedArgs(
                feed_uri=feed_uri,
                registry_path=registry_path,
                api_version=api_version,
                username=username,
                password=password,
                use_docker_config=use_docker_config,
                credentials=credentials,
                ca_certificate=ca_certificate,
                insecure_skip_tls_verify=insecure_skip_tls_verify,
            )
        props = {
            **{k: None for k in _FEED_FIELDS},
            **args._props(),
            "registry_url": None,
            "pull_address": None,
            "auth_scheme": None,
            "catalog_supported": None,
            "previous_api_version": None,
            **_dry_run(),
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(DockerFeedProvider(), resource_name, props, opts)
        self._settings = args._props()

    def settings(self) -> dict[str, Any]:
        """This feed's connection settings, as ImageVersion passes them to its provider.

        These are the values the program gave (the password still secret), not the feed's
        outputs: during a preview an output the feed never set reads as unknown, which would
        make every ImageVersion of an unchanged stack look changed. ImageVersion depends on the
        feed explicitly instead, so it is still resolved after the feed was validated.
        """
        return dict(self._settings)


_FEED_FIELDS = tuple(_PY_NAMES.get(name, name) for name in contract.SETTINGS_FIELDS)


class ImageVersion(_Translated, module="dockerfeed", name="ImageVersion"):
    """The latest tag of an image that matches version rules, pinned with its digest.

    `pulumi refresh` re-resolves: a newer matching tag or a moved digest shows up as an update,
    and `previous_tag` records the pin it moved from.
    """

    feed: pulumi.Output[dict[str, Any]]
    """The feed to resolve from: a DockerFeed (its connection settings are passed through, secrets
    stay secret) or the same settings given directly."""
    image: pulumi.Output[str]
    """Repository, e.g. `team/webapp`; on Docker Hub `nginx` means `library/nginx`."""
    version_range: pulumi.Output[str | None]
    """NuGet/Octopus interval (`[1.0,2.0)`, `(,1.0]`, `[1.2.3]`, bare `1.0` = at least 1.0) or
    semver constraint (`^1.2`, `~1.2.3`, `>=1.2 <2`, `1.x`, `||`)."""
    pre_release_tag: pulumi.Output[str | None]
    """Octopus channel rule: a regex tested against the pre-release label (with `+metadata`); `^$`
    = stable only, `^beta` = betas. Unset: every version is eligible."""
    tag_include: pulumi.Output[str | None]
    """Regex the whole tag must match. For the `numerical`/`alphabetical` strategies a named group
    `version` extracts the sort key."""
    tag_exclude: pulumi.Output[list[str] | None]
    """Regexes; a tag matching any is skipped. Signature and attestation tags (`sha256-….sig`,
    `.att`, `.sbom`) are always skipped."""
    strategy: pulumi.Output[str | None]
    """`octopus` (default), `docker`, `semver`, `pep440`, `alphabetical` or `numerical`."""
    variant: pulumi.Output[str | None]
    """For the `docker` strategy: the compatibility suffix a tag must carry (e.g. `alpine`);
    defaults to the pinned tag's."""
    platform: pulumi.Output[str | None]
    """`os/arch[/variant]`, e.g. `linux/arm64/v8`: also resolve that platform's digest inside an
    index."""
    tag: pulumi.Output[str]
    """The pinned tag."""
    version: pulumi.Output[str]
    """The pinned tag's version as the strategy reads it."""
    digest: pulumi.Output[str]
    """The manifest digest of the pinned tag (index digest for multi-platform images)."""
    platform_digest: pulumi.Output[str | None]
    """The digest of `platform`'s image inside the index, when platform is set."""
    image_ref: pulumi.Output[str]
    """`<pullAddress>/<image>:<tag>@<digest>`."""
    previous_tag: pulumi.Output[str | None]
    """The tag the pin moved from: set when a refresh found a newer match or a moved digest, or when
    a new resolve (another image or rule) changed the pin."""

    def __init__(
        self,
        resource_name: str,
        args: ImageVersionArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        feed: DockerFeed | FeedSettingsArgs | Mapping[str, Any] | None = None,
        image: pulumi.Input[str] | None = None,
        version_range: pulumi.Input[str] | None = None,
        pre_release_tag: pulumi.Input[str] | None = None,
        tag_include: pulumi.Input[str] | None = None,
        tag_exclude: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        strategy: pulumi.Input[str] | None = None,
        variant: pulumi.Input[str] | None = None,
        platform: pulumi.Input[str] | None = None,
    ) -> None:
        _refuse_import("ImageVersion", resource_name, opts)
        if args is None:
            if feed is None or image is None:
                raise DockerfeedError(
                    f"ImageVersion {resource_name!r} needs feed (a DockerFeed or FeedSettingsArgs) and image"
                )
            args = ImageVersionArgs(
                feed=feed,
                image=image,
                version_range=version_range,
                pre_release_tag=pre_release_tag,
                tag_include=tag_include,
                tag_exclude=tag_exclude,
                strategy=strategy,
                variant=variant,
                platform=platform,
            )
        args = dataclasses.replace(args, feed=_feed_settings(args.feed, resource_name))
        if isinstance(args.feed, DockerFeed):
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[args.feed]))
        super().__init__(ImageVersionProvider(), resource_name, {**_image_props(args), **_dry_run()}, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        feed: DockerFeed | FeedSettingsArgs | Mapping[str, Any],
        image: pulumi.Input[str],
        tag: pulumi.Input[str] | None = None,
        digest: pulumi.Input[str] | None = None,
        version_range: pulumi.Input[str] | None = None,
        pre_release_tag: pulumi.Input[str] | None = None,
        tag_include: pulumi.Input[str] | None = None,
        tag_exclude: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        strategy: pulumi.Input[str] | None = None,
        variant: pulumi.Input[str] | None = None,
        platform: pulumi.Input[str] | None = None,
    ) -> ImageVersion:
        """Read an existing pin (e.g. one another stack made) without managing it.

        A dynamic provider's read only sees what the program passes, so the feed, image and rules
        must be given again; `tag` and `digest` are the pin being imported (e.g. another stack's
        outputs). The read re-resolves: when the registry moved past that pin, `tag`/`digest`
        are the current match and `previous_tag` is the given tag.
        """
        if isinstance(tag, str) and not _TAG.fullmatch(tag):
            raise DockerfeedError(
                f"ImageVersion.get {resource_name!r}: tag {tag!r} is not a tag (letters, digits, _ . -, "
                "at most 128, not starting with . or -)"
            )
        if isinstance(digest, str) and not _DIGEST.fullmatch(digest):
            raise DockerfeedError(
                f"ImageVersion.get {resource_name!r}: digest {digest!r} is not a sha256 digest "
                "('sha256:' and 64 lowercase hex digits, as the pin's digest output reads)"
            )
        args = ImageVersionArgs(
            feed=_feed_settings(feed, resource_name),
            image=image,
            version_range=version_range,
            pre_release_tag=pre_release_tag,
            tag_include=tag_include,
            tag_exclude=tag_exclude,
            strategy=strategy,
            variant=variant,
            platform=platform,
        )
        props = _image_props(args)
        props.update(tag=tag, digest=digest)
        resource = ImageVersion.__new__(ImageVersion)
        _Translated.__init__(
            resource,
            ImageVersionProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id)),
        )
        return resource


def _image_props(args: ImageVersionArgs) -> dict[str, Any]:
    feed = args.feed
    assert isinstance(feed, DockerFeed | FeedSettingsArgs)  # _feed_settings made it one
    feed_props = feed.settings() if isinstance(feed, DockerFeed) else feed._props()
    return {
        "feed": feed_props,
        "image": args.image,
        "version_range": args.version_range,
        "pre_release_tag": args.pre_release_tag,
        "tag_include": args.tag_include,
        "tag_exclude": args.tag_exclude,
        "strategy": args.strategy,
        "variant": args.variant,
        "platform": args.platform,
        "tag": None,
        "version": None,
        "digest": None,
        "platform_digest": None,
        "image_ref": None,
        "previous_tag": None,
    }
