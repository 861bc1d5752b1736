"""Feed URIs and image names: parsing and normalisation, no I/O."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from dockerfeed.registry.errors import InvalidReference

DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
DOCKER_HUB_REGISTRY = "registry-1.docker.io"
# The key Docker's config.json uses for Hub credentials.
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"

# distribution/reference: path components are lowercase alphanumerics separated by
# `.`, `_`, `__` or one or more `-`; components are joined by `/`.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses (host without port)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class FeedAddress:
    """Where a feed lives: scheme, host[:port] and an optional path prefix."""

    scheme: str
    netloc: str
    path: str = ""

    @property
    def hostname(self) -> str:
        return urlsplit(f"//{self.netloc}").hostname or self.netloc

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def is_docker_hub(self) -> bool:
        return self.hostname in DOCKER_HUB_HOSTS

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def parse_feed_uri(uri: str, *, insecure: bool = False) -> FeedAddress:
    """Parse a feed URI as users write it (`r.example.com`, `https://r.example.com:5000/`).

    https is assumed when no scheme is given, except for loopback hosts, which Docker itself
    treats as insecure registries. Plain http is refused for other hosts unless the URI says
    `http://` explicitly or `insecure` is set.
    """
    text = uri.strip()
    if not text:
        raise InvalidReference(
            "feedUri is empty: give the registry address, e.g. https://registry.example.com"
        )
    explicit = "://" in text
    parts = urlsplit(text if explicit else f"//{text}")
    scheme = (parts.scheme or "").lower()
    if explicit and scheme not in ("http", "https"):
        raise InvalidReference(
            f"feedUri {uri!r} uses the scheme {scheme!r}; a registry is reached over https:// "
            "(or http:// for a local one)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidReference(
            f"feedUri {uri!r} has a query, fragment or user info; give only scheme, host, port and path "
            "(credentials go in username/password)"
        )
    host = parts.hostname
    if not host:
        raise InvalidReference(f"feedUri {uri!r} has no host name")
    if not (_HOSTNAME.match(host) or _is_ip(host)):
        raise InvalidReference(f"feedUri {uri!r}: {host!r} is not a valid host name")
    try:
        port = parts.port
    except ValueError:
        raise InvalidReference(f"feedUri {uri!r} has an invalid port") from None
    if not explicit:
        scheme = "http" if is_loopback(host) else "https"
    if scheme == "http" and not (explicit or insecure or is_loopback(host)):
        scheme = "https"
    netloc = f"[{host}]" if ":" in host else host.lower()
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    # Users paste the API root; the feed is the host (plus any proxy prefix) in front of it.
    for suffix in ("/v2", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if host.lower() in DOCKER_HUB_HOSTS:
        netloc = DOCKER_HUB_REGISTRY
        scheme = "https"
    return FeedAddress(scheme=scheme, netloc=netloc, path=path)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalize_image(image: str, address: FeedAddress | None = None) -> str:
    """Validate a repository name; on Docker Hub a single name means `library/<name>`."""
    name = image.strip()
    if not name:
        raise InvalidReference("image is empty: give a repository name such as 'team/webapp'")
    if ":" in name or "@" in name:
        raise InvalidReference(
            f"image {image!r} contains a tag or digest; give the repository only "
            "(ImageVersion chooses the tag)"
        )
    if not _REPOSITORY.match(name):
        hint = " (repository names are lowercase)" if name.lower() != name else ""
        raise InvalidReference(
            f"image {image!r} is not a valid repository name{hint}: use lowercase letters, digits "
            "and separators . _ - between them, components joined by /"
        )
    if len(name) > 255:
        raise InvalidReference(f"image {image!r} is longer than 255 characters")
    if address is not None and address.is_docker_hub and "/" not in name:
        name = f"library/{name}"
    return name
