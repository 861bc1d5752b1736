"""The docker source: Docker's config.json and its credential helpers, asked at each run.

A helper's answer has no expiry; it is kept for a few minutes of one run (a helper may take
seconds), and dropped earlier when the registry refuses it.
"""

from __future__ import annotations

from dockerfeed.sources.errors import SourceError
from dockerfeed.sources.resolved import RegistryHost, Resolved
from dockerfeed.sources.spec import CredentialSpec


def resolve(spec: CredentialSpec, registry: RegistryHost) -> Resolved:
    # The config reader stays where useDockerConfig has always used it.
    from dockerfeed.registry.credentials import docker_config_credentials, docker_config_path
    from dockerfeed.registry.errors import RegistryError
    from dockerfeed.registry.reference import parse_feed_uri

    try:
        found = docker_config_credentials(parse_feed_uri(registry.base_url))
    except RegistryError as e:
        raise SourceError(f"credentials source docker: {e}") from None
    if found is None:
        raise SourceError(
            f"credentials source docker: {docker_config_path()} has no credentials for "
            f"{registry.netloc} (no credHelpers entry, credsStore answer or auths entry); "
            f"run `docker login {registry.netloc}` where the provider runs"
        )
    if found.identity_token:
        return Resolved(
            username=found.username, secret=found.identity_token, source=found.source, identity_token=True
        )
    assert found.password is not None
    return Resolved(username=found.username, secret=found.password, source=found.source)
