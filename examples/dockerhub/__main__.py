"""Docker Hub: the latest stable nginx (no pre-release label: `^$`), pinned by digest.

Anonymous access works; Docker Hub limits anonymous pulls, so give credentials for heavy use:
  pulumi config set username me && pulumi config set --secret password "$DOCKERHUB_TOKEN"
`feedUri` and `image` are configurable only so the tests can run this program against a local
registry; leave them unset for Docker Hub.
"""

import pulumi

from pulumi_dockerfeed import DockerFeed, ImageVersion

config = pulumi.Config()

hub = DockerFeed(
    "dockerhub",
    feed_uri=config.get("feedUri") or "docker.io",
    username=config.get("username"),
    password=config.get_secret("password"),
)

# On Docker Hub `nginx` means `library/nginx`. Tags such as `1.27.3-alpine`, `stable` and
# `mainline` carry a pre-release label in Octopus terms, so `^$` leaves plain versions only.
nginx = ImageVersion(
    "nginx",
    feed=hub,
    image=config.get("image") or "nginx",
    pre_release_tag="^$",
)

pulumi.export("tag", nginx.tag)
pulumi.export("digest", nginx.digest)
pulumi.export("imageRef", nginx.image_ref)
