#!/usr/bin/env bash
# One idempotent bootstrap for both README commands (`make demo`, `make test`):
#   .venv with the project (editable), the Pulumi CLI, the registry servers and skopeo.
# Heavy builds are cached outside the repo ($DOCKERFEED_CACHE, default ~/.cache/pulumi-dockerfeed),
# keyed by version; tool locations are written to .venv/tools.env for the Makefile and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
DISTRIBUTION_VERSION="${DISTRIBUTION_VERSION:-v3.1.2}"
PULUMI_YAML_VERSION="${PULUMI_YAML_VERSION:-v1.25.0}"
PYTHON="${PYTHON:-python3}"
cache="${DOCKERFEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dockerfeed}"
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }
start=$(date +%s)

# 1. Python environment
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python >= 3.11 is needed (found $($PYTHON --version 2>&1)); set PYTHON=/path/to/python3.11"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
# schema.json holds the version (dockerfeed.contract.VERSION): a new one needs new metadata.
if [[ ! -f $stamp || pyproject.toml -nt $stamp || provider/dockerfeed/contract.py -nt $stamp ]]; then
  say "installing pulumi-dockerfeed (editable) with test and dev extras"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# Byte-compile the editable sources: with PYTHONDONTWRITEBYTECODE set (as on some CI images)
# nothing else writes .pyc files, and every dockerfeed process and provider host would compile
# the sources again (~40 ms a start). Up-to-date files are skipped.
.venv/bin/python -m compileall -q provider sdk/python >/dev/null

# 2. Debian packages: the reference registry (distribution 2.8) and skopeo as a peer client
need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v skopeo >/dev/null || need_apt+=(skopeo)
if ((${#need_apt[@]})); then
  command -v apt-get >/dev/null || die "apt-get not found: install ${need_apt[*]} with your package manager"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  say "installing ${need_apt[*]} (apt)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# 3. Go-built tools: the Pulumi CLI (when not on PATH) and distribution v3 (tag pagination)
if command -v pulumi >/dev/null && [[ -z "${DOCKERFEED_BUILD_PULUMI:-}" ]]; then
  # Resolve links: the Makefile puts .venv/bin (with links into the cache) first on PATH.
  pulumi_bin="$(dirname "$(readlink -f "$(command -v pulumi)")")"
  say "using pulumi from PATH: $pulumi_bin ($(pulumi version))"
else
  pulumi_bin="$(scripts/build-pulumi.sh "$PULUMI_VERSION" | tail -n 1)"
fi
registry3="$(scripts/build-go-tool.sh registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION" | tail -n 1)"
# The YAML language host (examples/yaml runs with a plain `pulumi up`) and the SDK generator.
yaml_host="$(scripts/build-go-tool.sh pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "$PULUMI_YAML_VERSION" | tail -n 1)"
# Beside pulumi, where the CLI looks for language hosts first (when that pulumi is our build).
if [[ $pulumi_bin == "$cache"/* ]]; then ln -sf "$yaml_host" "$pulumi_bin/pulumi-language-yaml"; fi
codegen="$(scripts/build-codegen.sh "$PULUMI_VERSION" | tail -n 1)"
# The TypeScript and Go example programs with the generated SDKs (npm packages and Go modules,
# cached by their sources' hash). Without Node.js the TypeScript face is skipped (failed under CI).
ts_example=""
if command -v npm >/dev/null; then
  ts_example="$(scripts/build-examples.sh typescript | tail -n 1)"
else
  say "npm not found: examples/typescript cannot run (install Node.js >= 20)"
fi
go_example="$(scripts/build-examples.sh go | tail -n 1)"

cat > .venv/tools.env <<ENV
PULUMI_BIN=$pulumi_bin
DOCKERFEED_REGISTRY2=$(command -v docker-registry)
DOCKERFEED_REGISTRY3=$registry3
DOCKERFEED_SKOPEO=$(command -v skopeo)
DOCKERFEED_LANGUAGE_YAML=$yaml_host
DOCKERFEED_CODEGEN=$codegen
DOCKERFEED_EXAMPLE_TYPESCRIPT=$ts_example
DOCKERFEED_EXAMPLE_GO=$go_example
ENV
# The Automation API and the demo find pulumi and its plugins on PATH.
for f in "$pulumi_bin"/pulumi* "$yaml_host"; do ln -sf "$f" .venv/bin/; done
say "bootstrap ready in $(( $(date +%s) - start ))s"
