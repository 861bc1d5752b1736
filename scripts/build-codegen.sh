#!/usr/bin/env bash
# Build tools/codegen (the SDK generator over Pulumi's pkg/v3/codegen) into the cache outside the
# repo, keyed by the Pulumi version and the tool's source. Idempotent: a warm cache returns at once.
#   usage: scripts/build-codegen.sh [PULUMI_VERSION]   (prints the binary path on the last line)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-${PULUMI_VERSION:-v3.274.1}}"
cache="${DOCKERFEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dockerfeed}"
src_hash="$(sha256sum tools/codegen/main.go | cut -c1-12)"
dir="$cache/codegen-$version-$src_hash"
bin="$dir/dockerfeed-codegen"
say() { printf '[codegen %s] %s\n' "$version" "$*" >&2; }
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { say "Go is not installed: install Go >= 1.26 to build the SDK generator"; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp tools/codegen/main.go "$work/"
cd "$work"
say "building the SDK generator against pkg/v3@$version"
# The same wrapper as the CLI's (scripts/build-pulumi.sh): pkg/v3 carries `replace` directives,
# so require pkg and sdk at one version and copy pkg's non-local replaces.
go mod init dockerfeed.local/codegen >/dev/null 2>&1
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$version" -require="github.com/pulumi/pulumi/sdk/v3@$version"
gomod="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
grep -E '^replace ' "$gomod" | grep -v '=> \.' | while read -r _ from _ to ver; do
  go mod edit -replace="$from=$to@$ver"
done
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
mkdir -p "$dir.tmp"
GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$dir.tmp/dockerfeed-codegen" .
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$bin"
