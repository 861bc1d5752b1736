"""The connection identity: everything that can change what a registry answers, as one value.

A process keeps what registries told it: pooled HTTP clients, tokens, what a ping learned about
a host, learned page sizes, and a run's listings and digests. Each of those is kept under the
identity of the connection it came over, so an answer is only ever reused by a feed that would
have been given the same answer: the same URL, the same TLS trust (skipping verification or
trusting a feed's own CA is not the same connection as verifying against the system's CAs), the
same proxies and deadline, the same requested API version and the same credentials.
Why, and what it costs: docs/design.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.settings import ConnectionSettings
from dockerfeed.registry.transport import TransportKey, transport_key

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class ConnectionIdentity:
    """The key of every cache of registry answers (see the module docstring).

    `transport` alone keys the HTTP clients, which carry no identity of their own; everything
    else is keyed by the whole value. `credentials` is a fingerprint, never a secret.
    """

    base_url: str
    transport: TransportKey
    api_version: str
    credentials: str

    @classmethod
    def of(cls, settings: ConnectionSettings, credentials: Credentials | None) -> ConnectionIdentity:
        return cls(
            base_url=settings.address.base_url,
            transport=transport_key(settings),
            api_version=settings.api_version,
            credentials=credentials.fingerprint if credentials is not None else ANONYMOUS,
        )


__all__ = ["ANONYMOUS", "ConnectionIdentity"]
