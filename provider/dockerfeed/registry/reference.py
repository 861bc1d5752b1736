"""Feed URIs and image names: parsing and normalisation, no I/O."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

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
# distribution/reference: a tag is at most 128 word characters, `.` and `-`, not starting with
# `.` or `-`; a digest is `algorithm:encoded`. Only such values are put in a URL path: a tag a
# registry lists, like `zz/../../other/manifests/1.0?x=1`, would otherwise address another
# repository's manifest.
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
_TAG = re.compile(TAG_PATTERN)
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
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


@functools.lru_cache(maxsize=256)  # pure, and asked several times by every read of a refresh
def parse_feed_uri(uri: str, *, insecure: bool = False) -> FeedAddress:
    """Parse a feed URI as users write it (`r.example.com`, `https://r.example.com:5000/`).

    https is assumed when no scheme is given, except for loopback hosts, which Docker itself
    treats as insecure registries. Plain http to any other host is used only when the URI says
    `http://` explicitly. `insecure` (skip TLS verification) does not change the scheme.
    """
    del insecure  # kept for callers; skipping verification never downgrades https to http
    text = uri.strip()
    if not text:
        raise InvalidReference(
            "feedUri is empty: give the registry address, e.g. https://registry.example.com"
        )
    typo = _SCHEME_TYPO.match(text)
    if typo and "://" not in text:
        scheme = typo.group(1).lower()
        raise InvalidReference(
            f"feedUri {uri!r} starts with a mistyped scheme {typo.group(0)!r}; write "
            f"{scheme}://{text[typo.end() :]}"
        )
    if re.search(r"[\s\x00-\x1f\x7f]", text):
        raise InvalidReference(
            f"feedUri {uri!r} contains a space or a control character; give scheme, host, port "
            "and path without them"
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
    netloc = f"[{host}]" if ":" in host else host.lower()
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    _check_path(uri, path)
    # Users paste the API root; the feed is the host (plus any proxy prefix) in front of it.
    for suffix in ("/v2", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if host.lower() in DOCKER_HUB_HOSTS:
        netloc = DOCKER_HUB_REGISTRY
        scheme = "https"
    return FeedAddress(scheme=scheme, netloc=netloc, path=path)


# `http:/host`, `http//host`, `https:host`, `http:\\host`: a scheme with its `://` mistyped (a port
# after a host named http, `http:5000`, is not one).
_SCHEME_TYPO = re.compile(r"^(https?)(?::/(?!/)|//|:\\+|:(?![0-9/]))", re.IGNORECASE)


def _check_path(uri: str, path: str) -> None:
    """A proxy prefix is a plain path: no `.`/`..` segments (also percent-encoded), no spaces."""
    decoded = unquote(path)
    if re.search(r"[\s\x00-\x1f\x7f]", decoded):
        raise InvalidReference(
            f"feedUri {uri!r} has a path with a space or a control character (also percent-encoded); "
            "give the registry's path prefix as the registry documents it"
        )
    if any(segment in (".", "..") for segment in decoded.split("/")):
        raise InvalidReference(
            f"feedUri {uri!r} has a '.' or '..' segment in its path (also percent-encoded, %2e); "
            "give the registry's path prefix without them"
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_feed_host(name: str, address: FeedAddress) -> bool:
    name = name.lower()
    if address.is_docker_hub:
        return name in DOCKER_HUB_HOSTS
    return name in (address.netloc, address.hostname)


def normalize_image(image: str, address: FeedAddress | None = None) -> str:
    """Validate a repository name; on Docker Hub a single name means `library/<name>`."""
    name = image.strip()
    if not name:
        raise InvalidReference("image is empty: give a repository name such as 'team/webapp'")
    first, slash, rest = name.partition("/")
    if (
        slash
        and ("." in first or ":" in first or first == "localhost")
        and (":" in first or (address is not None and _is_feed_host(first, address)))
    ):
        # `127.0.0.1:5000/demo/webapp`, `ghcr.io/team/app` on ghcr.io: the host is the feed's.
        raise InvalidReference(
            f"image {image!r} starts with the registry host {first!r}; the host belongs in feedUri, "
            f"give the repository only ({rest.split('@', 1)[0].split(':', 1)[0]!r})"
        )
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


def is_tag(text: str) -> bool:
    """Whether `text` is a tag by the distribution grammar (and so safe in a URL path)."""
    return _TAG.fullmatch(text) is not None


def split_tags(listed: Iterable[str]) -> tuple[list[str], list[str]]:
    """(tags, the rest): a listing's entries that are tags, and those that are not, in order."""
    tags: list[str] = []
    rest: list[str] = []
    for entry in listed:
        (tags if _TAG.fullmatch(entry) else rest).append(entry)
    return tags, rest


def check_repository(repo: str) -> str:
    """`repo` if it is a repository name fit for a URL path; InvalidReference otherwise."""
    if len(repo) > 255 or not _REPOSITORY.fullmatch(repo):
        raise InvalidReference(
            f"{repo!r} is not a repository name (lowercase components joined by /); "
            "refusing to put it in a URL path"
        )
    return repo


def check_reference(reference: str) -> str:
    """`reference` if it is a tag or a digest, fit for a URL path; InvalidReference otherwise."""
    if _TAG.fullmatch(reference) is None and _DIGEST.fullmatch(reference) is None:
        raise InvalidReference(
            f"{reference!r} is neither a tag nor a digest; refusing to put it in a URL path "
            f"(a tag matches {TAG_PATTERN})"
        )
    return reference
