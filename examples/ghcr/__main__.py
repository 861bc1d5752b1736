"""GitHub Container Registry: the latest 6.x podinfo, pinned by digest.

ghcr.io hands anonymous pull tokens for public images; for private ones give a user and a
token with `read:packages`:
  pulumi config set username me && pulumi config set --secret password "$GITHUB_TOKEN"
`feedUri` and `image` are configurable only so the tests can run this program against a local
registry; leave them unset for ghcr.io.
"""

import pulumi

from pulumi_dockerfeed import DockerFeed, ImageVersion

config = pulumi.Config()

ghcr = DockerFeed(
    "ghcr",
    feed_uri=config.get("feedUri") or "ghcr.io",
    username=config.get("username"),
    password=config.get_secret("password"),
)

podinfo = ImageVersion(
    "podinfo",
    feed=ghcr,
    image=config.get("image") or "stefanprodan/podinfo",
    version_range="^6",  # semver-style: >= 6.0.0, < 7.0.0
    pre_release_tag="^$",  # no release candidates
    platform="linux/arm64",  # also pin the arm64 image inside the multi-platform index
)

pulumi.export("tag", podinfo.tag)
pulumi.export("digest", podinfo.digest)
pulumi.export("arm64Digest", podinfo.platform_digest)
pulumi.export("imageRef", podinfo.image_ref)
