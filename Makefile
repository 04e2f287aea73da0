# Sonántica — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= $(CURDIR)/.data/node
BIND ?= 127.0.0.1:4533
MUSIC ?=
PYTEST_ARGS ?=
# test files run in parallel, one file per worker at a time (module-scoped nodes stay whole);
# `make test TEST_WORKERS=0` runs them in one process
TEST_WORKERS ?= auto

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/sonantica --data "$(DATA)" quickstart --bind "$(BIND)" $(if $(MUSIC),--music "$(MUSIC)")

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	@for b in bench/*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .data .pytest_cache
