"""Named error kinds of the registry client.

Every message says what was tried, what came back and what to do. No message ever contains a
password, token or Authorization header: errors are built from URLs, status codes and user names.
"""

from __future__ import annotations

import re

# Messages start with the request they are about ("GET https://r.example.com/v2/ answered 401"),
# possibly after the listing they belong to ("listing tags of demo/app: GET ... sent a Link").
_LEADING_REQUEST = re.compile(r"^(?:listing [^:]+: )?((?:GET|HEAD|POST|PUT|DELETE) \S+)")


class RegistryError(Exception):
    """Base of every error the registry client raises on purpose.

    `request` is the HTTP request that failed ("GET https://r.example.com/v2/"), or None when
    none was involved (a bad feed URI). Unless given, it is the request the message starts with.
    """

    kind = "registry"

    def __init__(self, message: str, *, request: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if request is None:
            found = _LEADING_REQUEST.match(message)
            request = found.group(1) if found else None
        self.request = request

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        return (_rebuild, (type(self), self.message, self.request))

    def __str__(self) -> str:
        return self.message


class InvalidReference(RegistryError):
    """A feed URI, image name, tag or digest that cannot be used."""

    kind = "invalid-reference"


class InvalidConfiguration(RegistryError):
    """Settings or environment that cannot be used: half credentials, a user name with ':', a CA
    that is not PEM, Docker's config.json, a proxy or DOCKERFEED_HTTP_TIMEOUT. Nothing was sent.

    `property` names the feed setting to fix when there is one (the lifecycle's check reports it).
    """

    kind = "invalid-configuration"

    def __init__(self, message: str, *, request: str | None = None, property: str | None = None) -> None:
        super().__init__(message, request=request)
        self.property = property

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_configuration, (self.message, self.request, self.property))


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


def _rebuild(cls: type[RegistryError], message: str, request: str | None) -> RegistryError:
    return cls(message, request=request)


def _rebuild_configuration(message: str, request: str | None, property: str | None) -> InvalidConfiguration:
    return InvalidConfiguration(message, request=request, property=property)
