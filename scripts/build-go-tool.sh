#!/usr/bin/env bash
# Build one Go command from the module proxy into the cache outside the repo, keyed by version.
#   usage: scripts/build-go-tool.sh NAME PACKAGE VERSION   (prints the binary path on the last line)
set -euo pipefail
name="$1" pkg="$2" version="$3"
cache="${DOCKERFEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dockerfeed}"
dir="$cache/$name-$version"
if [[ -x "$dir/$name" ]]; then echo "$dir/$name"; exit 0; fi
command -v go >/dev/null || { echo "[$name] Go is not installed: install Go >= 1.23 to build $pkg" >&2; exit 1; }
echo "[$name $version] building $pkg from Go modules" >&2
mkdir -p "$dir.tmp"
GOBIN="$dir.tmp" GOFLAGS=-trimpath go install -ldflags "-s -w" "$pkg@$version" >&2
built="$(ls "$dir.tmp")"
[[ "$built" == "$name" ]] || mv "$dir.tmp/$built" "$dir.tmp/$name"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir/$name"
