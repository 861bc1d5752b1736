"""Registry protocol client (httpx only; never imports Pulumi)."""

from dockerfeed.registry.client import (
    FeedInfo,
    Platform,
    Registry,
    open_registry,
    search,
    test_feed,
)
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import (
    AccessDenied,
    BadCredentials,
    CredentialsRequired,
    InvalidReference,
    ListingIncomplete,
    NotARegistry,
    NotFound,
    ProtocolError,
    RateLimited,
    RegistryError,
    TLSFailure,
    Unreachable,
    Unsupported,
)
from dockerfeed.registry.reference import FeedAddress, normalize_image, parse_feed_uri
from dockerfeed.registry.settings import FeedSettings

__all__ = [
    "AccessDenied",
    "BadCredentials",
    "Credentials",
    "CredentialsRequired",
    "FeedAddress",
    "FeedInfo",
    "FeedSettings",
    "InvalidReference",
    "ListingIncomplete",
    "NotARegistry",
    "NotFound",
    "Platform",
    "ProtocolError",
    "RateLimited",
    "Registry",
    "RegistryError",
    "TLSFailure",
    "Unreachable",
    "Unsupported",
    "normalize_image",
    "open_registry",
    "parse_feed_uri",
    "search",
    "test_feed",
]
