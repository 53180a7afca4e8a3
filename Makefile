# yiwang — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# make test runs the suite on this many pytest-xdist workers (one database and var dir each; 0 = serial)
TEST_WORKERS ?= 2
export YIWANG_HTTPS ?= 0

.PHONY: run test install migrate demo serve lint format bench bench-tools openapi messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/yiwang migrate --noinput

demo: migrate
	$(BIN)/yiwang demo

## make run: fresh clone → venv, install, migrate, demo data, server on http://127.0.0.1:8000
run: demo
	$(BIN)/yiwang serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/yiwang serve --host $(HOST) --port $(PORT)

## make test: the whole suite (SQLite by default; set DATABASE_URL for PostgreSQL)
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench

format: install
	$(BIN)/ruff format src tests bench

## make openapi: rewrite docs/openapi.json from the code (a test fails when it drifts)
openapi: install
	$(BIN)/yiwang openapi --out docs/openapi.json

## make messages: refresh the zh-Hant and en catalogues
messages: install
	$(BIN)/yiwang i18n

## make bench: benchmarks (never part of make test); results in bench/results/
bench: install bench-tools
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## make bench-tools: wrk, the HTTP load generator of the throughput benchmarks (Debian package)
bench-tools:
	command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)

clean:
	rm -rf $(VENV) var .pytest_cache
