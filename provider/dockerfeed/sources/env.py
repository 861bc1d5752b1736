"""The env source: a token in an environment variable of the process running the provider.

Read at every use, never cached: a CI job that exports a fresh `GITHUB_TOKEN` is the rotation.
A variable that is not set is the environment's problem, not the registry's: a configuration error.
"""

from __future__ import annotations

import os

from dockerfeed.sources.errors import SourceConfigError
from dockerfeed.sources.resolved import RegistryHost, Resolved
from dockerfeed.sources.spec import CredentialSpec


def resolve(spec: CredentialSpec, registry: RegistryHost) -> Resolved:
    assert spec.variable is not None
    secret = os.environ.get(spec.variable)
    if not secret:
        raise SourceConfigError(
            f"credentials source env: the environment variable {spec.variable} is "
            f"{'empty' if secret == '' else 'not set'} in the process running the provider "
            f"(for {registry.base_url}); export it where `pulumi` (or `dockerfeed`) runs"
        )
    username = spec.username
    if spec.username_variable:
        username = os.environ.get(spec.username_variable)
        if not username:
            raise SourceConfigError(
                f"credentials source env: the environment variable {spec.username_variable} "
                "(usernameVariable) is not set or empty in the process running the provider"
            )
        if ":" in username:
            raise SourceConfigError(
                f"credentials source env: the user name in {spec.username_variable} contains ':', "
                "which Basic authentication cannot carry"
            )
    return Resolved(username=username, secret=secret, source=f"env {spec.variable}", ttl=0.0)
