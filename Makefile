# Two commands (see README):  make run   — set up and run the service
#                             make test  — set up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-postgres setup setup-test browsers bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Byte-compiled once here: this machine kind sets PYTHONDONTWRITEBYTECODE, and compiling the
# project's modules at every start was a sixth of the cold start (docs/benchmarks.md).
PACKAGES := bot handlers knowledge scheduler sandbox admin reports

run: setup
	$(BIN)/pufa db upgrade
	$(BIN)/pufa kb import
	$(BIN)/python -m compileall -q $(PACKAGES)
	$(BIN)/pufa serve

test: setup browsers
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Debian's Chromium and a CJK font for the admin pages' browser tests (tests/browser); never
# `playwright install` (no browser downloads). Idempotent: nothing runs when both are present.
browsers:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

# The whole suite again against PostgreSQL; fails instead of skipping when it is unreachable.
test-postgres: setup
	PUFA_TEST_DATABASE_URL=$${PUFA_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	PUFA_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check bot handlers knowledge scheduler sandbox admin tests
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache
