"""The registry client's facade: `Registry` over one feed, and the workflows of the CLI
(`check_feed`, `search`). Each operation lives in its own module (ping, listing, manifests,
catalog) over a `Connection`; this module only puts them together (docs/design.md,
"registry/ in layers").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dockerfeed.registry import catalog as _catalog
from dockerfeed.registry import listing, manifests
from dockerfeed.registry import ping as _ping
from dockerfeed.registry.connection import Connection
from dockerfeed.registry.ping import FeedInfo
from dockerfeed.registry.platforms import Platform
from dockerfeed.registry.reference import normalize_image
from dockerfeed.registry.session import Session
from dockerfeed.registry.settings import ConnectionSettings

Progress = Callable[[str, str], None]


class Registry(Connection):
    """One feed with one identity; cheap to create. What outlives it is kept by its Session
    (`session`, by default the process's)."""

    def ping(self) -> FeedInfo:
        """Find the API version and the auth scheme, anonymously."""
        return _ping.ping(self)

    def validate(self, info: FeedInfo) -> str:
        """Send the credentials somewhere that rejects bad ones; say where they were accepted."""
        return _ping.validate(self, info)

    def list_tags(self, image: str) -> list[str]:
        """Every tag of a repository, complete or not at all."""
        return listing.list_tags(self, image)

    def catalog(self) -> list[str]:
        """Every repository name of the v2 catalog (the whole of it, or an error)."""
        return _catalog.catalog(self)

    def catalog_supported(self) -> bool:
        """Whether this identity may list the catalog (one small page; failures mean "no")."""
        return _catalog.catalog_check(self)[0]

    def catalog_check(self) -> tuple[bool, str]:
        """Whether the catalog is usable by this identity, and in words why."""
        return _catalog.catalog_check(self)

    def fetch_pull_tokens(self, images: Sequence[str]) -> None:
        """Tokens to pull `images`, one token request for many of them (read-ahead)."""
        _ping.ensure_pinged(self)
        self.auth.share_tokens([f"repository:{normalize_image(i, self.address)}:pull" for i in images])

    def manifest_digest(self, image: str, reference: str) -> str:
        """The digest a `docker pull image:reference` would resolve."""
        return manifests.manifest_digest(self, image, reference)

    def get_manifest(self, repo: str, reference: str) -> tuple[str, dict[str, Any], str]:
        """Media type, parsed body and verified digest of a manifest."""
        return manifests.get_manifest(self, repo, reference)

    def platform_digest(self, image: str, digest: str, platform: Platform) -> str:
        """The digest of the manifest for `platform` inside an index (or the manifest itself)."""
        return manifests.platform_digest(self, image, digest, platform)


def check_feed(
    settings: ConnectionSettings,
    progress: Progress | None = None,
    image: str | None = None,
    session: Session | None = None,
) -> FeedInfo:
    """Octopus's "Save and Test": discovery, credential validation, catalog support and, when
    `image` is given, pull rights on that repository (valid credentials may still lack them)."""
    say: Progress = progress or (lambda step, detail: None)
    address = settings.address
    say("address", f"{address.base_url} ({'TLS' if address.scheme == 'https' else 'plain http'})")
    reg = Registry(settings, session)
    info = reg.ping()
    say("api", f"{info.api_version} at {info.registry_url}")
    auth = info.auth_scheme
    if info.token_service:
        auth += f", token service {info.token_service}"
        if info.service:
            auth += f" (service {info.service!r})"
    say("auth", auth)
    say("credentials", reg.validate(info))
    catalog, detail = reg.catalog_check()
    say("catalog", detail)
    if image:
        tags = reg.list_tags(image)
        say("pull", f"{normalize_image(image, reg.address)}: {len(tags)} tag{'s' if len(tags) != 1 else ''}")
    return FeedInfo(
        api_version=info.api_version,
        registry_url=info.registry_url,
        pull_address=info.pull_address,
        auth_scheme=info.auth_scheme,
        token_service=info.token_service,
        catalog_supported=catalog,
        service=info.service,
    )


def search(settings: ConnectionSettings, query: str = "", session: Session | None = None) -> list[str]:
    """Repositories whose name contains `query`: v1 search, or the v2 catalog filtered locally."""
    return _catalog.search(Registry(settings, session), query)


__all__ = ["FeedInfo", "Platform", "Registry", "check_feed", "search"]
