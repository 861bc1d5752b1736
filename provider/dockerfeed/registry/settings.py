"""Connection settings of a feed, as the resources and the CLI hand them to the client."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerfeed.registry.reference import FeedAddress, parse_feed_uri

API_VERSIONS = ("auto", "v2", "v1")


@dataclass(frozen=True)
class FeedSettings:
    """Everything needed to talk to one registry. The password never appears in repr()."""

    feed_uri: str
    registry_path: str | None = None
    api_version: str = "auto"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_docker_config: bool = False
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
