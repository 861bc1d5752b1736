#!/usr/bin/env bash
# Build the peer registry clients used by the benchmarks (issue 6) from the Go module proxy.
# Idempotent: each binary is cached outside the repo by scripts/build-go-tool.sh, keyed by version.
# skopeo comes from Debian (installed by scripts/bootstrap.sh).
# Writes the paths to .venv/peers.env (CRANE=…, REGCTL=…, ORAS=…, SKOPEO=…).
#   usage: scripts/build-peers.sh            (versions below; override with CRANE_VERSION=… etc.)
set -euo pipefail
cd "$(dirname "$0")/.."
CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"     # github.com/google/go-containerregistry
REGCTL_VERSION="${REGCTL_VERSION:-v0.11.7}"   # github.com/regclient/regclient
ORAS_VERSION="${ORAS_VERSION:-v1.3.6}"        # oras.land/oras
say() { printf '==> %s\n' "$*" >&2; }

crane="$(scripts/build-go-tool.sh crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION" | tail -n 1)"
regctl="$(scripts/build-go-tool.sh regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION" | tail -n 1)"
oras="$(scripts/build-go-tool.sh oras oras.land/oras/cmd/oras "$ORAS_VERSION" | tail -n 1)"
skopeo="$(command -v skopeo || true)"
if [[ -z "$skopeo" ]]; then
  command -v apt-get >/dev/null || { echo "build-peers: install skopeo with your package manager" >&2; exit 1; }
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  say "installing skopeo (apt)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends skopeo >/dev/null
  skopeo="$(command -v skopeo)"
fi
mkdir -p .venv
cat > .venv/peers.env <<ENV
CRANE=$crane
CRANE_VERSION=$CRANE_VERSION
REGCTL=$regctl
REGCTL_VERSION=$REGCTL_VERSION
ORAS=$oras
ORAS_VERSION=$ORAS_VERSION
SKOPEO=$skopeo
ENV
say "peers ready: crane $CRANE_VERSION, regctl $REGCTL_VERSION, oras $ORAS_VERSION, $("$skopeo" --version)"
