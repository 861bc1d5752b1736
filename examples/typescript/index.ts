import * as pulumi from "@pulumi/pulumi";
import * as dockerfeed from "pulumi-dockerfeed";

// One feed and one pinned image, everything from the stack's config.
export async function program() {
    const config = new pulumi.Config();
    const feed = new dockerfeed.DockerFeed("feed", {
        feedUri: config.require("feedUri"),
        username: config.get("username"),
        password: config.getSecret("password"),
    });
    const app = new dockerfeed.ImageVersion("app", {
        // The feed's connection settings; its outputs make the pin wait for the feed's check.
        feed: { feedUri: feed.feedUri, username: feed.username, password: feed.password },
        image: config.require("image"),
        versionRange: config.get("versionRange"),
        preReleaseTag: config.get("preReleaseTag"),
    });
    // Every tag the same rules accept, resolved on every run (nothing pinned).
    const tags = dockerfeed.getTagsOutput({
        feed: { feedUri: feed.feedUri, username: feed.username, password: feed.password },
        image: config.require("image"),
        versionRange: config.get("versionRange"),
        preReleaseTag: config.get("preReleaseTag"),
    });
    return {
        tag: app.tag,
        digest: app.digest,
        imageRef: app.imageRef,
        previousTag: app.previousTag,
        eligibleTags: tags.eligible,
    };
}
