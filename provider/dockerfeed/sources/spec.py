"""Where a feed's credentials come from: the `credentials` input, as a small frozen value.

A spec holds no secret: only the name of a source and where that source looks (a variable's
name, an AWS profile, a key file's path). It is what the state stores, so a refresh asks the
source again instead of replaying a secret frozen at the last `up`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from dockerfeed.contract import CREDENTIAL_SOURCES
from dockerfeed.sources.errors import SourceConfigError

SOURCES: tuple[str, ...] = CREDENTIAL_SOURCES  # schema.json's dockerfeed:index:CredentialSource

# The settings each source reads (camelCase, as in schema.json); `source` belongs to all.
SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "env": ("variable", "username", "usernameVariable"),
    "docker": (),
    "aws": ("profile", "region", "registryId", "roleArn"),
    "gcp": ("keyFile", "jsonKey"),
    "azure": ("tenantId",),
}

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@dataclass(frozen=True)
class CredentialSpec:
    """One `credentials` input. Hashable: it keys the cache of resolved credentials."""

    source: str
    variable: str | None = None
    username: str | None = None
    username_variable: str | None = None
    profile: str | None = None
    region: str | None = None
    registry_id: str | None = None
    role_arn: str | None = None
    key_file: str | None = None
    json_key: bool = False
    tenant_id: str | None = None

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> CredentialSpec:
        """From the input's camelCase dict; every problem is a SourceConfigError naming the setting."""
        if not isinstance(props, Mapping):
            raise SourceConfigError(
                "credentials must be an object such as {source: 'env', variable: 'GITHUB_TOKEN', "
                f"username: 'ci'}}, not {type(props).__name__}"
            )
        source = props.get("source")
        if source not in SOURCES:
            raise SourceConfigError(
                f"credentials.source {source!r} is not one of {', '.join(SOURCES)}"
                if source is not None
                else f"credentials.source is missing: say where credentials come from ({', '.join(SOURCES)})"
            )
        known = {_camel(f.name): f.name for f in fields(cls)}
        values: dict[str, Any] = {"source": source}
        for key, value in props.items():
            if key == "source" or value is None or value == "" or (key == "jsonKey" and value is False):
                continue
            if key not in known:
                raise SourceConfigError(
                    f"credentials has the unknown setting {key!r}; the settings are source and "
                    + ", ".join(sorted({k for ks in SOURCE_FIELDS.values() for k in ks}))
                )
            if key not in SOURCE_FIELDS[source]:
                owner = next(s for s, ks in SOURCE_FIELDS.items() if key in ks)
                allowed = ", ".join(SOURCE_FIELDS[source]) or "nothing besides source"
                raise SourceConfigError(
                    f"credentials.{key} belongs to source {owner!r}, not {source!r} "
                    f"(source {source!r} takes {allowed})"
                )
            if key == "jsonKey":
                if not isinstance(value, bool):
                    raise SourceConfigError(f"credentials.jsonKey must be true or false, not {value!r}")
            elif not isinstance(value, str):
                raise SourceConfigError(f"credentials.{key} must be text, not {type(value).__name__}")
            values[known[key]] = value
        spec = cls(**values)
        spec.check()
        return spec

    def check(self) -> None:
        """The rules within one source (what parse cannot see key by key)."""
        if self.source == "env":
            if not self.variable:
                raise SourceConfigError(
                    "credentials.variable is missing: name the environment variable that holds the "
                    "password or token (e.g. GITHUB_TOKEN)"
                )
            for key, name in (("variable", self.variable), ("usernameVariable", self.username_variable)):
                if name is not None and not _VARIABLE.fullmatch(name):
                    raise SourceConfigError(
                        f"credentials.{key} {name!r} is not an environment variable name "
                        "(letters, digits and _, not starting with a digit)"
                    )
            if not (self.username or self.username_variable):
                raise SourceConfigError(
                    "credentials.username is missing: the env source needs the user name that goes "
                    "with the token (or usernameVariable, the variable that holds it)"
                )
            if self.username and self.username_variable:
                raise SourceConfigError("credentials: give username or usernameVariable, not both")
            if self.username and ":" in self.username:
                raise SourceConfigError(
                    f"credentials.username {self.username!r} contains ':', which Basic authentication "
                    "cannot carry"
                )
        if self.role_arn is not None and not _ROLE_ARN.fullmatch(self.role_arn):
            raise SourceConfigError(
                f"credentials.roleArn {self.role_arn!r} is not an IAM role ARN "
                "(arn:aws:iam::<12-digit account>:role/<name>)"
            )
        if self.registry_id is not None and not _ACCOUNT.fullmatch(self.registry_id):
            raise SourceConfigError(
                f"credentials.registryId {self.registry_id!r} is not a 12-digit AWS account id"
            )
        if self.region is not None and not _REGION.fullmatch(self.region):
            raise SourceConfigError(
                f"credentials.region {self.region!r} is not an AWS region (e.g. eu-west-1)"
            )

    def as_props(self) -> dict[str, Any]:
        """The camelCase dict this spec was parsed from (unset settings left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value is not False:
                out[_camel(f.name)] = value
        return out

    def describe(self) -> str:
        """The spec in words, for messages (no secret is ever part of a spec)."""
        if self.source == "env":
            return f"env {self.variable}"
        if self.source == "aws" and self.profile:
            return f"aws (profile {self.profile})"
        if self.source == "gcp" and self.key_file:
            return f"gcp ({'_json_key ' if self.json_key else ''}key file {self.key_file})"
        return self.source


def parse_cli(text: str) -> CredentialSpec:
    """`--credentials` on the command line: `SOURCE[,key=value...]`, e.g.
    `env,variable=GITHUB_TOKEN,username=octocat` or `aws,profile=ci` or `gcp,jsonKey=true`."""
    source, _, rest = text.strip().partition(",")
    props: dict[str, Any] = {"source": source.strip()}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SourceConfigError(
                f"--credentials: {part!r} is not key=value (e.g. env,variable=GITHUB_TOKEN,username=ci)"
            )
        key, value = key.strip(), value.strip()
        props[key] = value.lower() == "true" if key == "jsonKey" else value
    return CredentialSpec.parse(props)
