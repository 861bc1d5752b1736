"""Registry protocol client (httpx only; never imports Pulumi). Layers: docs/design.md."""

from dockerfeed.registry.client import FeedInfo, Platform, Registry, check_feed, search
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import (
    AccessDenied,
    BadCredentials,
    CredentialsRequired,
    InvalidConfiguration,
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
from dockerfeed.registry.session import Session, default_session
from dockerfeed.registry.settings import ConnectionSettings

__all__ = [
    "AccessDenied",
    "BadCredentials",
    "ConnectionSettings",
    "Credentials",
    "CredentialsRequired",
    "FeedAddress",
    "FeedInfo",
    "InvalidConfiguration",
    "InvalidReference",
    "ListingIncomplete",
    "NotARegistry",
    "NotFound",
    "Platform",
    "ProtocolError",
    "RateLimited",
    "Registry",
    "RegistryError",
    "Session",
    "TLSFailure",
    "Unreachable",
    "Unsupported",
    "check_feed",
    "default_session",
    "normalize_image",
    "parse_feed_uri",
    "search",
]
