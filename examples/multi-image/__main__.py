"""Several images over two feeds in one stack.

* `hub`: Docker Hub, anonymous: nginx (stable only) and redis (7.x only).
* `internal`: a private registry (config `internalUri`, `internalUser`, secret
  `internalPassword`) whose images deployment targets pull through a mirror, the Octopus
  "Registry Path" (config `internalRegistryPath`): imageRef then names the mirror.

All ImageVersions of a feed share one client, one token cache and one tag listing per
repository per run. `hubUri` is configurable only so the tests can use a local registry.
"""

import pulumi

from pulumi_dockerfeed import DockerFeed, ImageVersion

config = pulumi.Config()

hub = DockerFeed("hub", feed_uri=config.get("hubUri") or "docker.io")
internal = DockerFeed(
    "internal",
    feed_uri=config.require("internalUri"),
    registry_path=config.get("internalRegistryPath"),
    username=config.get("internalUser"),
    password=config.get_secret("internalPassword"),
)

images = {
    "nginx": ImageVersion("nginx", feed=hub, image="nginx", pre_release_tag="^$"),
    "redis": ImageVersion("redis", feed=hub, image="redis", version_range="[7.0,8.0)", pre_release_tag="^$"),
    "api": ImageVersion("api", feed=internal, image="team/api", version_range="^2", pre_release_tag="^$"),
    # Release candidates are welcome for the worker, but nothing else (`^$` or `^rc`).
    "worker": ImageVersion("worker", feed=internal, image="team/worker", pre_release_tag="^$|^rc"),
}

pulumi.export("imageRefs", {name: image.image_ref for name, image in images.items()})
pulumi.export("tags", {name: image.tag for name, image in images.items()})
