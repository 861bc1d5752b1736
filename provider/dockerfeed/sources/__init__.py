"""Credential sources: where a feed's credentials come from, asked at run time.

A `CredentialSpec` (the `credentials` input) names a source and where it looks; `resolve` asks
that source about one registry and answers a `Resolved` (user name, secret, expiry, which
source answered), cached by its real expiry. The spec holds no secret, so the state never
freezes one: a refresh asks the source again.

Sources: `env` (a variable of the provider's process), `aws` (ECR through botocore), `gcp`
(google-auth access token or `_json_key`), `azure` (azure-identity, exchanged at ACR's
`/oauth2/exchange`). The fifth, `docker` (config.json and its credential helpers), is read by
the registry client's own Docker-config reader; this package stays below registry/ and imports
nothing of it. The cloud
libraries are optional extras, imported only when a feed uses them. Nothing here imports Pulumi
or the resources.
"""

from __future__ import annotations

import httpx

from dockerfeed.sources.errors import MissingExtra, SourceConfigError, SourceError
from dockerfeed.sources.resolved import CACHE, RegistryHost, Resolved, SourceCache
from dockerfeed.sources.spec import SOURCES, CredentialSpec, parse_cli

__all__ = [
    "CACHE",
    "SOURCES",
    "CredentialSpec",
    "MissingExtra",
    "RegistryHost",
    "Resolved",
    "SourceCache",
    "SourceConfigError",
    "SourceError",
    "forget",
    "parse_cli",
    "resolve",
    "suggest",
]


def _ask(spec: CredentialSpec, registry: RegistryHost, client: httpx.Client | None) -> Resolved:
    if spec.source == "env":
        from dockerfeed.sources import env

        return env.resolve(spec, registry)
    if spec.source == "docker":
        # Docker's config and its helpers are read by the registry client (registry/credentials.py),
        # which sits above this package: it never asks here.
        raise SourceConfigError("the docker source is read by the registry client, not by dockerfeed.sources")
    if spec.source == "aws":
        from dockerfeed.sources import aws

        return aws.resolve(spec, registry)
    if spec.source == "gcp":
        from dockerfeed.sources import gcp

        return gcp.resolve(spec, registry)
    if spec.source == "azure":
        from dockerfeed.sources import azure

        return azure.resolve(spec, registry, client)
    raise SourceConfigError(f"credentials.source {spec.source!r} is not one of {', '.join(SOURCES)}")


def resolve(
    spec: CredentialSpec,
    registry: RegistryHost,
    *,
    client: httpx.Client | None = None,
    cache: SourceCache | None = None,
) -> Resolved:
    """The credentials `spec` gives for `registry`, from the cache while they are fresh.

    `client` carries the feed's TLS and proxy settings for sources that talk to the registry
    itself (azure's exchange).
    """
    store = CACHE if cache is None else cache
    return store.get((spec, registry.base_url), lambda: _ask(spec, registry, client))


def forget(spec: CredentialSpec, registry: RegistryHost, *, cache: SourceCache | None = None) -> None:
    """Drop cached credentials the registry refused (revoked or rotated before their expiry)."""
    (CACHE if cache is None else cache).forget((spec, registry.base_url))


def suggest(hostname: str, username: str | None = None) -> str:
    """The source to use for a registry, in the words of the `credentials` input: by its host, or
    by the user name a cloud's short-lived token goes with (ECR's `AWS`, Google's
    `oauth2accesstoken`, ACR's refresh-token user)."""
    from dockerfeed.sources.aws import parse_ecr_host
    from dockerfeed.sources.azure import REFRESH_TOKEN_USER
    from dockerfeed.sources.gcp import ACCESS_TOKEN_USER

    host = hostname.lower()
    if parse_ecr_host(host) or username == "AWS":
        return "credentials: {source: aws} (ECR tokens last 12 hours)"
    if host.endswith(("-docker.pkg.dev", ".gcr.io")) or host == "gcr.io" or username == ACCESS_TOKEN_USER:
        return "credentials: {source: gcp} (Google access tokens last 1 hour)"
    if host.endswith(".azurecr.io") or username == REFRESH_TOKEN_USER:
        return "credentials: {source: azure}"
    if host == "ghcr.io":
        return (
            "credentials: {source: env, variable: GITHUB_TOKEN, username: <user>} "
            "(GITHUB_TOKEN lasts one job)"
        )
    return "credentials: {source: env, variable: <NAME>, username: <user>} with the current token in $NAME"
