"""`pulumi import` of the native face: the engine gives nothing but the id.

Id formats (README, "Importing"):

* `dockerfeed:index:DockerFeed`: `<feedUri>`, e.g. `registry.example.com` or `localhost:5000`.
* `dockerfeed:index:ImageVersion`: `<feedUri>|<image>|<tag>`, e.g.
  `registry.example.com|team/webapp|1.4.2`: that tag is pinned with the digest it has now.

Credentials for the read come from `DOCKERFEED_USERNAME` / `DOCKERFEED_PASSWORD` (as for the
`dockerfeed` command) or, with `DOCKERFEED_USE_DOCKER_CONFIG=true`, from Docker's config; they are
used for this read only and never written to the state (the program gives them on the next `up`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from dockerfeed import contract

SEPARATOR = "|"


class ImportIdError(Exception):
    """A bad import id: one plain message saying the format."""


@dataclass(frozen=True)
class Imported:
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]


def _settings(feed_uri: str) -> Any:
    from dockerfeed.registry import ConnectionSettings

    username = os.environ.get("DOCKERFEED_USERNAME") or None
    password = os.environ.get("DOCKERFEED_PASSWORD") if username else None
    docker_config = os.environ.get("DOCKERFEED_USE_DOCKER_CONFIG", "").lower() in ("1", "true", "yes")
    return ConnectionSettings(
        feed_uri=feed_uri, username=username, password=password, use_docker_config=docker_config
    )


def import_resource(token: str, resource_id: str) -> Imported:
    from dockerfeed.registry import RegistryError

    try:
        if token == contract.FEED_TOKEN:
            return _import_feed(resource_id)
        if token == contract.IMAGE_TOKEN:
            return _import_image(resource_id)
    except RegistryError as e:
        raise ImportIdError(f"cannot import {resource_id!r}: {e}") from None
    raise ImportIdError(f"cannot import a {token}")


def _import_feed(resource_id: str) -> Imported:
    from dockerfeed.registry import Registry

    feed_uri = resource_id.strip()
    if not feed_uri or SEPARATOR in feed_uri:
        raise ImportIdError(
            f"a DockerFeed import id is the feed URI, e.g. localhost:5000 (got {resource_id!r})"
        )
    settings = _settings(feed_uri)
    registry = Registry(settings)
    info = registry.ping()
    registry.validate(info)
    inputs = {"feedUri": feed_uri}
    outputs = {
        **inputs,
        "apiVersion": info.api_version,
        "registryUrl": info.registry_url,
        "pullAddress": info.pull_address,
        "authScheme": info.auth_scheme,
        "catalogSupported": registry.catalog_supported(),
    }
    return Imported(resource_id, outputs, inputs)


def _import_image(resource_id: str) -> Imported:
    from dockerfeed.registry import Registry, normalize_image
    from dockerfeed.versions import STRATEGIES

    parts = resource_id.split(SEPARATOR)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ImportIdError(
            "an ImageVersion import id is <feedUri>|<image>|<tag>, "
            f"e.g. localhost:5000|team/webapp|1.4.2 (got {resource_id!r})"
        )
    feed_uri, image, tag = (p.strip() for p in parts)
    settings = _settings(feed_uri)
    registry = Registry(settings)
    repo = normalize_image(image, registry.address)
    digest = registry.manifest_digest(repo, tag)
    strategy = STRATEGIES[contract.DEFAULT_STRATEGY]
    version = strategy.display(tag) if strategy.scanner(None, None)(tag) is not None else tag
    feed = {"feedUri": feed_uri}
    outputs = {
        "feed": feed,
        "image": image,
        "tag": tag,
        "version": version,
        "digest": digest,
        "imageRef": f"{settings.pull_address}/{repo}:{tag}@{digest}",
    }
    inputs = {"feed": feed, "image": image, "tag": tag, "digest": digest}
    return Imported(resource_id, outputs, inputs)
