#!/usr/bin/env bash
# Build the TypeScript and Go example programs with the generated SDKs into the cache outside the
# repo, keyed by a hash of their sources and the SDK's. Idempotent: a warm cache returns at once.
#   usage: scripts/build-examples.sh typescript|go   (prints the built directory on the last line)
# typescript: npm packages of examples/typescript (npm ci, lockfile), sdk/nodejs compiled into
#   node_modules/pulumi-dockerfeed, the example compiled in example/ (node example/automation.js).
# go: examples/go built against sdk/go (a replace directive) as dockerfeed-example-go.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${DOCKERFEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dockerfeed}"
which="$1"
say() { printf '[example %s] %s\n' "$which" "$*" >&2; }
hash_of() { find "$@" -type f ! -path '*/node_modules/*' ! -path '*/bin/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12; }

case "$which" in
typescript)
  dir="$cache/example-typescript-$(hash_of examples/typescript sdk/nodejs)"
  if [[ -f "$dir/.built" ]]; then echo "$dir"; exit 0; fi
  command -v npm >/dev/null || { say "npm is not installed: install Node.js >= 20 to run examples/typescript"; exit 1; }
  say "npm ci and tsc (the generated SDK and the example)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/example"
  cp examples/typescript/package.json examples/typescript/package-lock.json "$dir.tmp/"
  (cd "$dir.tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp -r sdk/nodejs "$dir.tmp/sdk-src"
  "$dir.tmp/node_modules/.bin/tsc" -p "$dir.tmp/sdk-src/tsconfig.json" --outDir "$dir.tmp/node_modules/pulumi-dockerfeed" >&2
  cp sdk/nodejs/package.json "$dir.tmp/node_modules/pulumi-dockerfeed/"
  rm -rf "$dir.tmp/sdk-src"
  cp examples/typescript/*.ts examples/typescript/tsconfig.json "$dir.tmp/example/"
  "$dir.tmp/node_modules/.bin/tsc" -p "$dir.tmp/example/tsconfig.json" >&2
  touch "$dir.tmp/.built"
  ;;
go)
  dir="$cache/example-go-$(hash_of examples/go sdk/go)"
  if [[ -f "$dir/.built" ]]; then echo "$dir"; exit 0; fi
  command -v go >/dev/null || { say "Go is not installed: install Go >= 1.26 to run examples/go"; exit 1; }
  say "go build (cold: compiles the Pulumi Go SDK and the Automation API)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  (cd examples/go && go build -trimpath -o "$dir.tmp/dockerfeed-example-go" . >&2)
  touch "$dir.tmp/.built"
  ;;
*)
  say "unknown example (typescript or go)"; exit 2 ;;
esac
# Older builds of the same example are stale: keep only this one.
for old in "$cache/example-$which-"*; do
  [[ "$old" == "$dir.tmp" || "$old" == "$dir" ]] || rm -rf "$old"
done
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir"
