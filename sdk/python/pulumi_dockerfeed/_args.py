"""The argument classes of DockerFeed and ImageVersion (schema.json's input types), and how
each turns into the camelCase props the provider reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pulumi

from dockerfeed import contract

if TYPE_CHECKING:
    from pulumi_dockerfeed._resources import DockerFeed


def _secret(value: pulumi.Input[str] | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.secret(value)


@dataclass
class CredentialsArgs:
    """Where a feed's credentials come from at run time (schema type Credentials): the provider
    asks the source at every create, update and refresh, and the state keeps only this.

        CredentialsArgs(source="env", variable="GITHUB_TOKEN", username="octocat")
        CredentialsArgs(source="aws")                  # ECR, botocore's credential chain
        CredentialsArgs(source="gcp")                  # Artifact Registry, ADC
        CredentialsArgs(source="azure")                # ACR, DefaultAzureCredential
        CredentialsArgs(source="docker")               # config.json and its helpers
    """

    source: pulumi.Input[str]
    variable: pulumi.Input[str] | None = None
    username: pulumi.Input[str] | None = None
    username_variable: pulumi.Input[str] | None = None
    profile: pulumi.Input[str] | None = None
    region: pulumi.Input[str] | None = None
    registry_id: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    key_file: pulumi.Input[str] | None = None
    json_key: pulumi.Input[bool] | None = None
    tenant_id: pulumi.Input[str] | None = None

    def _props(self) -> dict[str, Any]:
        props = {_CREDENTIAL_NAMES[f.name]: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in props.items() if v is not None}


_CREDENTIAL_NAMES = {re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower(): n for n in contract.CREDENTIALS_FIELDS}


def _credentials(value: object) -> object:
    """`credentials` as the provider reads it: camelCase keys (CredentialsArgs or a dict with
    snake_case or camelCase keys; anything else is left for the provider's check to refuse)."""
    if isinstance(value, CredentialsArgs):
        return value._props()
    if isinstance(value, Mapping):
        return {_CREDENTIAL_NAMES.get(k, k) if isinstance(k, str) else k: v for k, v in value.items()}
    return value


@dataclass
class FeedSettingsArgs:
    """A feed's connection settings given directly (e.g. from config or another stack)."""

    feed_uri: pulumi.Input[str]
    registry_path: pulumi.Input[str] | None = None
    api_version: pulumi.Input[str] | None = None
    username: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = None
    use_docker_config: pulumi.Input[bool] | None = None
    credentials: CredentialsArgs | Mapping[str, Any] | None = None
    ca_certificate: pulumi.Input[str] | None = None
    insecure_skip_tls_verify: pulumi.Input[bool] | None = None

    def _props(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and Outputs refuse to be copied.
        props = {f.name: getattr(self, f.name) for f in fields(self)}
        props["password"] = _secret(self.password)
        props["credentials"] = None if self.credentials is None else _credentials(self.credentials)
        return {k: v for k, v in props.items() if v is not None}


_FEED_SETTINGS = tuple(f.name for f in fields(FeedSettingsArgs))


@dataclass
class DockerFeedArgs(FeedSettingsArgs):
    """Inputs of a DockerFeed (see schema.json for each property)."""


@dataclass
class ImageVersionArgs:
    """Inputs of an ImageVersion (see schema.json for each property)."""

    feed: DockerFeed | FeedSettingsArgs | Mapping[str, Any]
    image: pulumi.Input[str]
    version_range: pulumi.Input[str] | None = None
    pre_release_tag: pulumi.Input[str] | None = None
    tag_include: pulumi.Input[str] | None = None
    tag_exclude: pulumi.Input[list[pulumi.Input[str]]] | None = None
    strategy: pulumi.Input[str] | None = None
    variant: pulumi.Input[str] | None = None
    platform: pulumi.Input[str] | None = None
