"""The connection settings of a feed, as the lifecycle and the CLI hand them to the client, and the
rules they must satisfy. The schema's `FeedSettings` type is what users write; these are what the
client connects with (the password already unwrapped).

The rules are here once: the lifecycle's `check` reports them per property, and the client
raises them before sending anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerfeed.registry.errors import InvalidConfiguration
from dockerfeed.registry.reference import FeedAddress, parse_feed_uri
from dockerfeed.sources.spec import CredentialSpec

PEM_MARKER = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to talk to one registry. The password never appears in repr()."""

    feed_uri: str
    registry_path: str | None = None
    api_version: str = "auto"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_docker_config: bool = False
    # Where credentials come from at run time (dockerfeed.sources); holds no secret.
    credentials: CredentialSpec | None = None
    ca_certificate: str | None = field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False

    @property
    def address(self) -> FeedAddress:
        return parse_feed_uri(self.feed_uri, insecure=self.insecure_skip_tls_verify)

    @property
    def pull_address(self) -> str:
        """Where deployment targets pull from: `registryPath` when set, else the feed's host."""
        if self.registry_path:
            return self.registry_path.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
        address = self.address
        if address.is_docker_hub:
            return "docker.io"
        return f"{address.netloc}{address.path}"


def check_username(username: str, where: str = "username") -> None:
    """Basic auth joins user and password with `:` (RFC 7617): a user name cannot contain one."""
    if ":" in username:
        raise InvalidConfiguration(
            f"{where} {username!r} contains ':', which Basic authentication cannot carry "
            "(the user name ends at the first ':'); give the user name without it",
            property="username",
        )


def check_credentials(username: str | None, password: str | None) -> None:
    """Both halves of explicit credentials or neither, and a user name Basic auth can carry.

    (Explicit credentials win over useDockerConfig here, as on the command line; the resources
    refuse both at once, which is their own rule: lifecycle/models.py.)
    """
    if bool(username) != bool(password):
        missing = "password" if username else "username"
        raise InvalidConfiguration(
            f"only half of the credentials were given: {missing} is missing "
            "(give both username and password, or neither for anonymous access)",
            property=missing,
        )
    if username:
        check_username(username)


def check_ca_certificate(pem: str) -> None:
    """caCertificate is PEM text (whether the certificate in it loads is seen when connecting)."""
    if PEM_MARKER not in pem:
        raise InvalidConfiguration(
            f"caCertificate must be PEM text starting with {PEM_MARKER}", property="caCertificate"
        )


__all__ = ["ConnectionSettings", "check_ca_certificate", "check_credentials", "check_username"]
