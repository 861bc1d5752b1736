"""pydantic models of both resources' inputs, named as in schema.json (camelCase), and `check`'s
per-property failures."""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

import dockerfeed.lifecycle.checks as checks
import dockerfeed.lifecycle.plain as plain
from dockerfeed.contract import (
    DEFAULT_API_VERSION,
    DEFAULT_INSECURE_SKIP_TLS_VERIFY,
    DEFAULT_STRATEGY,
    DEFAULT_USE_DOCKER_CONFIG,
    ApiVersion,
)
from dockerfeed.lifecycle.values import has_unknown, is_unknown, known
from dockerfeed.registry import ConnectionSettings
from dockerfeed.versions import VersionRule, validate_rule


class _Inputs(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class FeedInputs(_Inputs):
    """DockerFeed inputs (and the connection settings ImageVersion receives from a feed)."""

    feed_uri: str
    registry_path: str | None = None
    api_version: ApiVersion = DEFAULT_API_VERSION
    username: str | None = None
    password: SecretStr | None = None
    use_docker_config: bool = DEFAULT_USE_DOCKER_CONFIG
    credentials: dict[str, Any] | None = None
    ca_certificate: str | None = None
    insecure_skip_tls_verify: bool = DEFAULT_INSECURE_SKIP_TLS_VERIFY

    @field_validator("credentials")
    @classmethod
    def _credentials(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return checks.credentials(value)

    @field_validator("feed_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return checks.feed_uri(value)

    @field_validator("registry_path")
    @classmethod
    def _registry_path(cls, value: str | None) -> str | None:
        return checks.registry_path(value)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return checks.username(value)

    @field_validator("ca_certificate")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        return checks.ca_certificate(value)

    @model_validator(mode="after")
    def _pairs(self) -> FeedInputs:
        password = self.password.get_secret_value() if self.password else None
        checks.credential_pairs(self.username, password, self.use_docker_config, self.credentials is not None)
        return self

    def with_api_version(self, api_version: ApiVersion) -> FeedInputs:
        return self.model_copy(update={"api_version": api_version})

    def settings(self) -> ConnectionSettings:
        return plain.settings_of(self, self.password.get_secret_value() if self.password else None)


class ImageVersionInputs(_Inputs):
    feed: FeedInputs
    image: str
    version_range: str | None = None
    pre_release_tag: str | None = None
    tag_include: str | None = None
    tag_exclude: list[str] | None = None
    strategy: str = DEFAULT_STRATEGY  # checked by validate_rule (one message per property)
    variant: str | None = None
    platform: str | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return checks.image(value)

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        return checks.platform(value)

    def rule(self) -> VersionRule:
        return VersionRule.build(
            version_range=self.version_range,
            pre_release_tag=self.pre_release_tag,
            tag_include=self.tag_include,
            tag_exclude=self.tag_exclude,
            strategy=self.strategy,
            variant=self.variant,
        )


RULE_FIELDS = ("versionRange", "preReleaseTag", "tagInclude", "tagExclude", "strategy", "variant")


def check_failures(model: type[_Inputs], props: dict[str, Any]) -> list[tuple[str, str]]:
    """One (property, reason) per bad property.

    During preview any value may be unknown (`pulumi.output.Unknown`), also inside the feed
    settings or a list: unknown parts are not validated, and a property that is missing only
    because its value is unknown is not reported.
    """
    partly_unknown = {k for k, v in props.items() if has_unknown(v)}
    data = {k: known(v) for k, v in props.items() if not is_unknown(v) and not k.startswith("__")}
    failures: list[tuple[str, str]] = []
    try:
        model.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
            named = _prop_from_message(str(err["msg"]))
            whole_model = not loc or (model is ImageVersionInputs and loc == ["feed"] and named)
            if whole_model:
                # A rule over several properties (username without password): the message
                # names the property to fix.
                if partly_unknown if not loc else "feed" in partly_unknown:
                    continue
                loc = [*loc, named] if named else loc
            prop = ".".join(loc)
            if err["type"] == "missing" and loc and loc[0] in partly_unknown:
                continue
            failures.append((prop, _clean(str(err["msg"]))))
    if model is ImageVersionInputs:
        rule = {k: data[k] for k in RULE_FIELDS if k in data and data[k] is not None}
        if "strategy" in partly_unknown or "variant" in partly_unknown:
            # Whether a variant is allowed depends on the strategy: judge it when both are known.
            rule.pop("variant", None)
        for problem in validate_rule(
            version_range=rule.get("versionRange"),
            pre_release_tag=rule.get("preReleaseTag"),
            tag_include=rule.get("tagInclude"),
            tag_exclude=rule.get("tagExclude"),
            strategy=rule.get("strategy") or DEFAULT_STRATEGY,
            variant=rule.get("variant"),
        ):
            failures.append((problem.property, problem.reason))
    return failures


def _prop_from_message(message: str) -> str:
    head = _clean(message).split(":", 1)[0]
    return head if re.fullmatch(r"[a-zA-Z.]+", head) else ""


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")
