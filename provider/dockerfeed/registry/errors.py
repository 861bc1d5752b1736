"""Named error kinds of the registry client.

Every message says what was tried, what came back and what to do. No message ever contains a
password, token or Authorization header: errors are built from URLs, status codes and user names.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every error the registry client raises on purpose."""

    kind = "registry"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidReference(RegistryError):
    """A feed URI or image name that cannot be used."""

    kind = "invalid-reference"


class Unreachable(RegistryError):
    """DNS failure, connection refused, timeouts."""

    kind = "unreachable"


class TLSFailure(RegistryError):
    """The TLS handshake or certificate verification failed."""

    kind = "tls"


class NotARegistry(RegistryError):
    """The host answered, but neither as a v2 nor as a v1 registry."""

    kind = "not-a-registry"


class BadCredentials(RegistryError):
    """The registry or its token service rejected the credentials."""

    kind = "bad-credentials"


class CredentialsRequired(RegistryError):
    """The registry wants credentials and none were given."""

    kind = "credentials-required"


class AccessDenied(RegistryError):
    """The credentials are valid but lack a permission (e.g. pull on a repository)."""

    kind = "access-denied"


class NotFound(RegistryError):
    """The repository, tag or manifest does not exist."""

    kind = "not-found"


class ProtocolError(RegistryError):
    """The registry answered something the protocol does not allow (bad JSON, digest mismatch)."""

    kind = "protocol"


class ListingIncomplete(RegistryError):
    """A listing could not be completed: we refuse to return a partial one."""

    kind = "listing-incomplete"


class Unsupported(RegistryError):
    """The registry does not offer this operation (e.g. no catalog on Docker Hub)."""

    kind = "unsupported"


class RateLimited(RegistryError):
    """429 answers outlasted the retry budget."""

    kind = "rate-limited"
