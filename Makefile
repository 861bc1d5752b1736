# The two commands of the README: `make demo` and `make test`. Both bootstrap first (idempotent).
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo test unit lint codegen bench clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@$(PY) scripts/demo.py

test: bootstrap
	@$(PY) -m pytest $(PYTEST_ARGS)

unit: bootstrap
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: bootstrap
	@.venv/bin/ruff check provider sdk tests scripts benchmarks examples
	@.venv/bin/ruff format --check --quiet provider sdk tests scripts benchmarks examples
	@.venv/bin/mypy
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_import_graph.py  # the layers of docs/design.md

# Everything generated from schema.json (docs/design.md, "One contract"); CI fails on a diff.
codegen: bootstrap
	@$(PY) scripts/codegen.py
	@"$$(sed -n 's/^DOCKERFEED_CODEGEN=//p' .venv/tools.env)" schema.json sdk nodejs go

bench: bootstrap
	@scripts/build-peers.sh && $(PY) -m benchmarks.run $(BENCH_ARGS)
	@$(PY) -m benchmarks.pluginscale $(PLUGIN_BENCH_ARGS)

clean:
	rm -rf .venv .demo .pytest_cache .mypy_cache .ruff_cache
