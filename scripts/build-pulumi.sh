#!/usr/bin/env bash
# Build the Pulumi CLI, its Python language host and the dynamic-provider scripts from Go
# modules into a cache outside the repo, keyed by version. Idempotent: a warm cache returns at once.
#   usage: scripts/build-pulumi.sh [VERSION]   (prints the bin directory on the last line)
set -euo pipefail
version="${1:-${PULUMI_VERSION:-v3.274.1}}"
cache="${DOCKERFEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dockerfeed}"
out="$cache/pulumi-$version"
bin="$out/bin"
say() { printf '[pulumi %s] %s\n' "$version" "$*" >&2; }

if [[ -x "$bin/pulumi" && -x "$bin/pulumi-resource-pulumi-python" ]]; then
  echo "$bin"; exit 0
fi
command -v go >/dev/null || { say "Go is not installed: install Go >= 1.26 or put a pulumi CLI on PATH"; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cli" "$work/lang"
say "resolving modules (cold build takes several minutes on 2 cores)"

# pkg/v3 carries `replace` directives, so `go install pkg@version` refuses it. A wrapper module
# that requires pkg and sdk at the same version and copies pkg's non-local replaces builds fine.
cd "$work/cli"
go mod init dockerfeed.local/pulumi-cli >/dev/null 2>&1
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$version" -require="github.com/pulumi/pulumi/sdk/v3@$version"
gomod="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
grep -E '^replace ' "$gomod" | grep -v '=> \.' | while read -r _ from _ to ver; do
  go mod edit -replace="$from=$to@$ver"
done
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
mkdir -p "$bin.tmp"
say "building pulumi"
GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# The language host module has no tags of its own: take @latest and let minimum version
# selection lift its pkg/sdk requirements. Some module proxies do not serve it at all; then the
# CLI still runs Python programs through the Automation API's inline mode (it hosts the language
# server in-process), which is how the demo and the e2e tests drive it.
cd "$work/lang"
go mod init dockerfeed.local/pulumi-lang >/dev/null 2>&1
langmod="github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
if err="$(GOFLAGS=-mod=mod go get "$langmod@${PULUMI_LANGUAGE_VERSION:-latest}" 2>&1)"; then
  say "building pulumi-language-python"
  GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin.tmp/pulumi-language-python" "$langmod"
else
  say "pulumi-language-python is not available from the module proxy ($(echo "$err" | tail -n 1 | cut -c1-160));"
  say "continuing without it: programs run inline through the Automation API"
fi

sdkdir="$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@$version" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')"
for f in python/dist/pulumi-resource-pulumi-python python/dist/pulumi-analyzer-policy-python python/cmd/pulumi-language-python-exec; do
  [[ -f "$sdkdir/$f" ]] && install -m 0755 "$sdkdir/$f" "$bin.tmp/"
done
rm -rf "$bin" && mv "$bin.tmp" "$bin"
say "done: $("$bin/pulumi" version)"
echo "$bin"
