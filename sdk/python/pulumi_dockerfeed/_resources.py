"""DockerFeed and ImageVersion as Python classes; property names follow schema.json."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi.dynamic

from dockerfeed.resources.providers import DockerFeedProvider, ImageVersionProvider

# snake_case (Python) <-> camelCase (schema.json and stack state)
_NAMES = {
    "feed_uri": "feedUri",
    "registry_path": "registryPath",
    "api_version": "apiVersion",
    "use_docker_config": "useDockerConfig",
    "ca_certificate": "caCertificate",
    "insecure_skip_tls_verify": "insecureSkipTlsVerify",
    "registry_url": "registryUrl",
    "pull_address": "pullAddress",
    "auth_scheme": "authScheme",
    "catalog_supported": "catalogSupported",
    "version_range": "versionRange",
    "pre_release_tag": "preReleaseTag",
    "tag_include": "tagInclude",
    "tag_exclude": "tagExclude",
    "platform_digest": "platformDigest",
    "image_ref": "imageRef",
    "previous_tag": "previousTag",
}
_PY_NAMES = {v: k for k, v in _NAMES.items()}


class _Translated(pulumi.dynamic.Resource):
    def translate_input_property(self, prop: str) -> str:
        return _NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return _PY_NAMES.get(prop, prop)


def _secret(value: pulumi.Input[str] | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.secret(value)


@dataclass
class FeedSettingsArgs:
    """A feed's connection settings given directly (e.g. from config or another stack)."""

    feed_uri: pulumi.Input[str]
    registry_path: pulumi.Input[str] | None = None
    api_version: pulumi.Input[str] | None = None
    username: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = None
    use_docker_config: pulumi.Input[bool] | None = None
    ca_certificate: pulumi.Input[str] | None = None
    insecure_skip_tls_verify: pulumi.Input[bool] | None = None

    def _props(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and Outputs refuse to be copied.
        props = {f.name: getattr(self, f.name) for f in fields(self)}
        props["password"] = _secret(self.password)
        return {k: v for k, v in props.items() if v is not None}


@dataclass
class DockerFeedArgs(FeedSettingsArgs):
    """Inputs of a DockerFeed (see schema.json for each property)."""


class DockerFeed(_Translated, module="dockerfeed", name="DockerFeed"):
    """A Docker/OCI registry declared as a feed.

    Creating or updating it discovers the API version (v2 `/v2/`, v1 `/v1/_ping`) and validates the
    credentials for real; a bad password fails `pulumi up` with a message saying what to fix.
    """

    feed_uri: pulumi.Output[str]
    registry_path: pulumi.Output[str | None]
    api_version: pulumi.Output[str]
    """The API version found: `v2` or `v1`."""
    username: pulumi.Output[str | None]
    password: pulumi.Output[str | None]
    use_docker_config: pulumi.Output[bool | None]
    ca_certificate: pulumi.Output[str | None]
    insecure_skip_tls_verify: pulumi.Output[bool | None]
    registry_url: pulumi.Output[str]
    """The registry's API base URL."""
    pull_address: pulumi.Output[str]
    """The address deployment targets pull from (`registryPath` when set)."""
    auth_scheme: pulumi.Output[str]
    """`anonymous`, `basic` or `bearer`."""
    catalog_supported: pulumi.Output[bool]
    """Whether `/v2/_catalog` answers for these credentials."""

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
        ca_certificate: pulumi.Input[str] | None = None,
        insecure_skip_tls_verify: pulumi.Input[bool] | None = None,
    ) -> None:
        if args is None:
            if feed_uri is None:
                raise TypeError("DockerFeed needs feed_uri (the registry address)")
            args = DockerFeedArgs(
                feed_uri=feed_uri,
                registry_path=registry_path,
                api_version=api_version,
                username=username,
                password=password,
                use_docker_config=use_docker_config,
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
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(DockerFeedProvider(), resource_name, props, opts)

    def settings(self) -> dict[str, Any]:
        """This feed's connection settings, as ImageVersion passes them to its provider."""
        return {k: getattr(self, k) for k in _FEED_FIELDS}


_FEED_FIELDS = (
    "feed_uri",
    "registry_path",
    "api_version",
    "username",
    "password",
    "use_docker_config",
    "ca_certificate",
    "insecure_skip_tls_verify",
)


@dataclass
class ImageVersionArgs:
    """Inputs of an ImageVersion (see schema.json for each property)."""

    feed: DockerFeed | FeedSettingsArgs
    image: pulumi.Input[str]
    version_range: pulumi.Input[str] | None = None
    pre_release_tag: pulumi.Input[str] | None = None
    tag_include: pulumi.Input[str] | None = None
    tag_exclude: pulumi.Input[list[pulumi.Input[str]]] | None = None
    strategy: pulumi.Input[str] | None = None
    variant: pulumi.Input[str] | None = None
    platform: pulumi.Input[str] | None = None


class ImageVersion(_Translated, module="dockerfeed", name="ImageVersion"):
    """The latest tag of an image that matches version rules, pinned with its digest.

    `pulumi refresh` re-resolves: a newer matching tag or a moved digest shows up as an update,
    and `previous_tag` records the pin it moved from.
    """

    tag: pulumi.Output[str]
    version: pulumi.Output[str]
    digest: pulumi.Output[str]
    platform_digest: pulumi.Output[str | None]
    image_ref: pulumi.Output[str]
    """`<pullAddress>/<image>:<tag>@<digest>`: what a deployment pulls."""
    previous_tag: pulumi.Output[str | None]
    image: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: ImageVersionArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        feed: DockerFeed | FeedSettingsArgs | None = None,
        image: pulumi.Input[str] | None = None,
        version_range: pulumi.Input[str] | None = None,
        pre_release_tag: pulumi.Input[str] | None = None,
        tag_include: pulumi.Input[str] | None = None,
        tag_exclude: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        strategy: pulumi.Input[str] | None = None,
        variant: pulumi.Input[str] | None = None,
        platform: pulumi.Input[str] | None = None,
    ) -> None:
        if args is None:
            if feed is None or image is None:
                raise TypeError("ImageVersion needs feed (a DockerFeed or FeedSettingsArgs) and image")
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
        feed_props = args.feed.settings() if isinstance(args.feed, DockerFeed) else args.feed._props()
        props: dict[str, Any] = {
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
        super().__init__(ImageVersionProvider(), resource_name, props, opts)
