"""The contract of both provider faces, generated from schema.json by scripts/codegen.py.

Do not edit: change schema.json and run `make codegen` (CI fails when this file is stale).
See docs/design.md, "One contract".
"""

from __future__ import annotations

from typing import Final, Literal

VERSION: Final = "0.1.0"
PACKAGE: Final = "dockerfeed"
FEED_TOKEN: Final = "dockerfeed:index:DockerFeed"
IMAGE_TOKEN: Final = "dockerfeed:index:ImageVersion"
GET_IMAGE_VERSION_TOKEN: Final = "dockerfeed:index:getImageVersion"
GET_TAGS_TOKEN: Final = "dockerfeed:index:getTags"

# Enumerations (schema types dockerfeed:index:ApiVersion, Strategy and CredentialSource).
ApiVersion = Literal["auto", "v2", "v1"]
API_VERSIONS: Final[tuple[ApiVersion, ...]] = ("auto", "v2", "v1")
Strategy = Literal["octopus", "docker", "semver", "pep440", "alphabetical", "numerical"]
STRATEGIES: Final[tuple[Strategy, ...]] = (
    "octopus",
    "docker",
    "semver",
    "pep440",
    "alphabetical",
    "numerical",
)
CredentialSource = Literal["env", "docker", "aws", "gcp", "azure"]
CREDENTIAL_SOURCES: Final[tuple[CredentialSource, ...]] = ("env", "docker", "aws", "gcp", "azure")
# The settings of `credentials` (schema type dockerfeed:index:Credentials).
CREDENTIALS_FIELDS: Final = (
    "source",
    "variable",
    "username",
    "usernameVariable",
    "profile",
    "region",
    "registryId",
    "roleArn",
    "keyFile",
    "jsonKey",
    "tenantId",
)

# Defaults: what a missing input means.
DEFAULT_API_VERSION: Final[ApiVersion] = "auto"
DEFAULT_STRATEGY: Final[Strategy] = "octopus"
DEFAULT_USE_DOCKER_CONFIG: Final = False
DEFAULT_INSECURE_SKIP_TLS_VERIFY: Final = False
FEED_DEFAULTS: Final[dict[str, str | bool]] = {
    "apiVersion": "auto",
    "useDockerConfig": False,
    "insecureSkipTlsVerify": False,
}
IMAGE_DEFAULTS: Final[dict[str, str | bool]] = {
    "strategy": "octopus",
}

# Properties, in schema order: inputs, then the outputs only the provider sets.
FEED_INPUTS: Final = (
    "feedUri",
    "registryPath",
    "apiVersion",
    "username",
    "password",
    "useDockerConfig",
    "credentials",
    "caCertificate",
    "insecureSkipTlsVerify",
)
FEED_REQUIRED_INPUTS: Final = ("feedUri",)
FEED_OUTPUTS: Final = (
    "registryUrl",
    "pullAddress",
    "authScheme",
    "catalogSupported",
    "previousApiVersion",
)
FEED_REQUIRED: Final = (
    "apiVersion",
    "authScheme",
    "catalogSupported",
    "feedUri",
    "pullAddress",
    "registryUrl",
)
SETTINGS_FIELDS: Final = (
    "feedUri",
    "registryPath",
    "apiVersion",
    "username",
    "password",
    "useDockerConfig",
    "credentials",
    "caCertificate",
    "insecureSkipTlsVerify",
)
IMAGE_INPUTS: Final = (
    "feed",
    "image",
    "versionRange",
    "preReleaseTag",
    "tagInclude",
    "tagExclude",
    "strategy",
    "variant",
    "platform",
)
IMAGE_REQUIRED_INPUTS: Final = ("feed", "image")
IMAGE_OUTPUTS: Final = (
    "tag",
    "version",
    "digest",
    "platformDigest",
    "imageRef",
    "previousTag",
)
IMAGE_REQUIRED: Final = ("digest", "feed", "image", "imageRef", "tag", "version")
SECRETS: Final = frozenset({"password"})

# Functions (invokes): arguments and results.
GET_IMAGE_VERSION_INPUTS: Final = (
    "feed",
    "image",
    "versionRange",
    "preReleaseTag",
    "tagInclude",
    "tagExclude",
    "strategy",
    "variant",
    "platform",
)
GET_IMAGE_VERSION_OUTPUTS: Final = ("tag", "version", "digest", "platformDigest", "imageRef")
GET_TAGS_INPUTS: Final = (
    "feed",
    "image",
    "versionRange",
    "preReleaseTag",
    "tagInclude",
    "tagExclude",
    "strategy",
    "variant",
)
GET_TAGS_OUTPUTS: Final = ("tags", "eligible", "latest")

# snake_case (Python SDK) -> camelCase (schema, stack state), for the names that differ.
PY_NAMES: Final[dict[str, str]] = {
    "api_version": "apiVersion",
    "auth_scheme": "authScheme",
    "ca_certificate": "caCertificate",
    "catalog_supported": "catalogSupported",
    "feed_uri": "feedUri",
    "image_ref": "imageRef",
    "insecure_skip_tls_verify": "insecureSkipTlsVerify",
    "platform_digest": "platformDigest",
    "pre_release_tag": "preReleaseTag",
    "previous_api_version": "previousApiVersion",
    "previous_tag": "previousTag",
    "pull_address": "pullAddress",
    "registry_path": "registryPath",
    "registry_url": "registryUrl",
    "tag_exclude": "tagExclude",
    "tag_include": "tagInclude",
    "use_docker_config": "useDockerConfig",
    "version_range": "versionRange",
}
