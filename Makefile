# OpenDataGov Workbench: every target sets up .venv/ by itself (Python 3.11 + uv, locked deps).
#   make run    the main job: the medallion demo recipe on the sample data in ./workspace, then the apps
#   make test   lint (ruff), types (mypy) and the whole test suite (pytest)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
UV     := $(VENV)/bin/uv
WORKSPACE ?= $(CURDIR)/workspace
PORT ?= 2718
PYTEST_ARGS ?=

.PHONY: run test lint typecheck pytest bench samples clean venv

venv: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) sync --frozen --quiet --compile-bytecode
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name odg-workbench --display-name "Python (odg-workbench)" >/dev/null
	@touch $@

run: venv
	$(VENV)/bin/odg pipeline run recipes/medallion_demo.yaml --workspace $(WORKSPACE)
	$(VENV)/bin/odg apps --workspace $(WORKSPACE) --port $(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck pytest

bench: venv
	$(VENV)/bin/python benchmarks/run.py
	$(VENV)/bin/python benchmarks/quality.py

samples: venv
	$(VENV)/bin/python data/samples/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache workspace
