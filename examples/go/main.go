// DockerFeed and ImageVersion from Go with the generated SDK (sdk/go), run through the Go
// Automation API in inline mode:
//
//	dockerfeed-example-go WORK_DIR up|preview|preview-refresh|refresh|destroy [CONFIG_JSON]
//
// CONFIG_JSON: {"config": {...}, "secrets": {...}}. Prints one JSON line: the change summary,
// the outputs and the engine's text output.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"example.com/pulumi-dockerfeed/sdk/go/dockerfeed"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// program declares one feed and one pinned image, everything from the stack's config.
func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	feed, err := dockerfeed.NewDockerFeed(ctx, "feed", &dockerfeed.DockerFeedArgs{
		FeedUri:  pulumi.String(cfg.Require("feedUri")),
		Username: pulumi.StringPtr(cfg.Get("username")),
		Password: cfg.GetSecret("password").ApplyT(func(s string) *string { return &s }).(pulumi.StringPtrOutput),
	})
	if err != nil {
		return err
	}
	// The feed's connection settings; its outputs make the pin wait for the feed's check.
	settings := dockerfeed.FeedSettingsArgs{FeedUri: feed.FeedUri, Username: feed.Username, Password: feed.Password}
	app, err := dockerfeed.NewImageVersion(ctx, "app", &dockerfeed.ImageVersionArgs{
		Feed:          settings,
		Image:         pulumi.String(cfg.Require("image")),
		VersionRange:  pulumi.StringPtr(cfg.Get("versionRange")),
		PreReleaseTag: pulumi.StringPtr(cfg.Get("preReleaseTag")),
	})
	if err != nil {
		return err
	}
	// Every tag the same rules accept, resolved on every run (nothing pinned). The plain form,
	// on config values: the Go SDK (3.274) sends an output-form invoke whose arguments hold a
	// secret with no arguments at all.
	username, password := cfg.Get("username"), cfg.Get("password")
	versionRange, preReleaseTag := cfg.Get("versionRange"), cfg.Get("preReleaseTag")
	tags, err := dockerfeed.GetTags(ctx, &dockerfeed.GetTagsArgs{
		Feed:          dockerfeed.FeedSettings{FeedUri: cfg.Require("feedUri"), Username: &username, Password: &password},
		Image:         cfg.Require("image"),
		VersionRange:  &versionRange,
		PreReleaseTag: &preReleaseTag,
	})
	if err != nil {
		return err
	}
	ctx.Export("tag", app.Tag)
	ctx.Export("digest", app.Digest)
	ctx.Export("imageRef", app.ImageRef)
	ctx.Export("previousTag", app.PreviousTag)
	ctx.Export("eligibleTags", pulumi.ToStringArray(tags.Eligible))
	return nil
}

type settingsJSON struct {
	Config  map[string]string `json:"config"`
	Secrets map[string]string `json:"secrets"`
}

type result struct {
	Summary map[string]int `json:"summary"`
	Outputs map[string]any `json:"outputs"`
	Stdout  string         `json:"stdout"`
}

func run() error {
	if len(os.Args) < 3 {
		return fmt.Errorf("usage: %s WORK_DIR COMMAND [CONFIG_JSON]", os.Args[0])
	}
	ctx := context.Background()
	workDir, command := os.Args[1], os.Args[2]
	project := workspace.Project{Name: "dockerfeed-go", Runtime: workspace.NewProjectRuntimeInfo("go", nil)}
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "dockerfeed-go", program,
		auto.WorkDir(workDir), auto.Project(project))
	if err != nil {
		return err
	}
	if len(os.Args) > 3 {
		var s settingsJSON
		if err := json.Unmarshal([]byte(os.Args[3]), &s); err != nil {
			return err
		}
		for k, v := range s.Config {
			if err := stack.SetConfig(ctx, k, auto.ConfigValue{Value: v}); err != nil {
				return err
			}
		}
		for k, v := range s.Secrets {
			if err := stack.SetConfig(ctx, k, auto.ConfigValue{Value: v, Secret: true}); err != nil {
				return err
			}
		}
	}
	var out bytes.Buffer
	res := result{Outputs: map[string]any{}}
	switch command {
	case "up":
		r, err := stack.Up(ctx, optup.ProgressStreams(&out))
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		if r.Summary.ResourceChanges != nil {
			res.Summary = *r.Summary.ResourceChanges
		}
		for k, v := range r.Outputs {
			res.Outputs[k] = v.Value
		}
	case "preview", "preview-refresh":
		opts := []optpreview.Option{optpreview.ProgressStreams(&out), optpreview.Diff()}
		if command == "preview-refresh" {
			opts = append(opts, optpreview.Refresh())
		}
		r, err := stack.Preview(ctx, opts...)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		res.Summary = map[string]int{}
		for k, v := range r.ChangeSummary {
			res.Summary[string(k)] = v
		}
	case "refresh":
		r, err := stack.Refresh(ctx, optrefresh.ProgressStreams(&out))
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		if r.Summary.ResourceChanges != nil {
			res.Summary = *r.Summary.ResourceChanges
		}
	case "destroy":
		r, err := stack.Destroy(ctx, optdestroy.ProgressStreams(&out))
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		if r.Summary.ResourceChanges != nil {
			res.Summary = *r.Summary.ResourceChanges
		}
	default:
		return fmt.Errorf("unknown command %q", command)
	}
	res.Stdout = out.String()
	return json.NewEncoder(os.Stdout).Encode(res)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
