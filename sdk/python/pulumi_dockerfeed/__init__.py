"""pulumi-dockerfeed: Docker/OCI registries as feeds of versioned images.

    feed = DockerFeed("registry", feed_uri="https://registry.example.com",
                      username="ci", password=config.require_secret("registryPassword"))
    web = ImageVersion("web", feed=feed, image="team/webapp", version_range="[1.0,2.0)",
                       pre_release_tag="^$")
    pulumi.export("image", web.image_ref)

The SDK is shape only: the behaviour lives in `dockerfeed.resources.providers`.
"""

from pulumi_dockerfeed._args import CredentialsArgs, DockerFeedArgs, FeedSettingsArgs, ImageVersionArgs
from pulumi_dockerfeed._resources import DockerFeed, ImageVersion

__all__ = [
    "CredentialsArgs",
    "DockerFeed",
    "DockerFeedArgs",
    "FeedSettingsArgs",
    "ImageVersion",
    "ImageVersionArgs",
]
