"""Quickstart: declare a feed, resolve the latest stable tag of an image, export its pinned ref.

Config (all under the project namespace):
  feedUri        registry address (required), e.g. https://registry.example.com or localhost:5000
  username       optional; with password (set it with `pulumi config set --secret password ...`)
  image          repository, default demo/webapp
  versionRange   optional, e.g. "[1.0,2.0)" or "^1.2"
  preReleaseTag  pre-release rule, default "^$" (stable versions only)
"""

import pulumi

from pulumi_dockerfeed import DockerFeed, ImageVersion

config = pulumi.Config()

feed = DockerFeed(
    "feed",
    feed_uri=config.require("feedUri"),
    username=config.get("username"),
    password=config.get_secret("password"),
)

webapp = ImageVersion(
    "webapp",
    feed=feed,
    image=config.get("image") or "demo/webapp",
    version_range=config.get("versionRange"),
    pre_release_tag=config.get("preReleaseTag") or "^$",
)

pulumi.export("apiVersion", feed.api_version)
pulumi.export("authScheme", feed.auth_scheme)
pulumi.export("tag", webapp.tag)
pulumi.export("version", webapp.version)
pulumi.export("digest", webapp.digest)
pulumi.export("imageRef", webapp.image_ref)
