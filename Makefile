# Two commands for a new machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test contracts bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 8000

# Prepare ./data/iocflow.db with the bundled samples, make a key, start the API.
run: $(VENV)/.installed
	$(BIN)/iocflow db upgrade
	$(BIN)/iocflow db load-samples
	@KEY=$$($(BIN)/iocflow keys create make-run --tier pro --scope read:iocs --scope read:stix \
	        --scope extract --scope write:indicators --scope admin 2>/dev/null); \
	echo; \
	echo "API key (pro tier, all scopes; shown once): $$KEY"; \
	echo "Try:"; \
	echo "  curl -s -H 'Authorization: Bearer '$$KEY 'http://$(HOST):$(PORT)/api/v1/iocs?limit=5'"; \
	echo "  curl -sG -H 'Authorization: Bearer '$$KEY --data-urlencode 'value=hxxps://paper-lantern[.]top/gate.php' http://$(HOST):$(PORT)/api/v1/lookup"; \
	echo "  OpenAPI: http://$(HOST):$(PORT)/docs"; \
	echo
	$(BIN)/iocflow serve --host $(HOST) --port $(PORT)

# The suite includes tests/test_repository.py (nothing built is tracked by git) and
# tests/test_layers.py (the import contracts in pyproject.toml, run with lint-imports).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Only the import contracts of pyproject.toml's [tool.importlinter], with their full report.
contracts: $(VENV)/.installed-dev
	PYTHONPATH=src $(BIN)/lint-imports --no-cache

# The side-by-side extraction benchmark; peers live in their own venv.
bench: $(VENV)/.installed
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -e '.[bench]'
	.venv-bench/bin/python bench/extract_bench.py

clean:
	rm -rf $(VENV) .venv-bench build dist src/*.egg-info
