# The two commands of the README: `make demo` and `make test`. Both bootstrap first (idempotent).
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo test unit lint bench clean

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
	@.venv/bin/mypy

bench: bootstrap
	@scripts/build-peers.sh && $(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf .venv .demo .pytest_cache .mypy_cache .ruff_cache
