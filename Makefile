# Amtstermin — `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
export PORT

.PHONY: run test install dev serve bench bench-stats clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

translations: install
	@$(BIN)/pybabel -q compile -d translations

run: install translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi tenants sync
	@echo
	@echo "Amtstermin is starting on http://localhost:$(PORT)/ (all tenants) — tenant URLs:"
	@$(BIN)/flask --app wsgi tenants list --urls
	@echo
	@echo "Create a back-office user (password on standard input or prompted):"
	@echo "  .venv/bin/flask --app wsgi users create clerk@example.org --tenant steinfurt --role staff"
	@echo "Mail goes to this console and to instance/mail/*.eml."
	@echo
	AMTSTERMIN_ENV=development $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT) --no-reload

test: dev translations
	$(BIN)/python -m pytest

# BENCH_ARGS: options of bench.run, e.g. BENCH_ARGS="--quick" (see .venv/bin/python -m bench.run --help)
bench: dev translations
	BENCH_VIA_MAKE=1 $(BIN)/python -m bench.run $(BENCH_ARGS)

bench-stats: dev
	$(BIN)/python -m bench.statistics

clean:
	rm -rf $(VENV) instance .pytest_cache
