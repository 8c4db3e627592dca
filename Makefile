# Two commands for a new machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/iocflow extract src/iocflow/samples/sample-report.txt --format table
	@echo
	@echo "Try: $(BIN)/iocflow extract src/iocflow/samples/sample-report.txt --format json"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# The side-by-side extraction benchmark; peers live in their own venv.
bench: $(VENV)/.installed
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -e '.[bench]'
	.venv-bench/bin/python bench/extract_bench.py

clean:
	rm -rf $(VENV) .venv-bench build dist src/*.egg-info
