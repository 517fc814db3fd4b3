# produktivitas: two commands on a fresh machine
#   make run    - create .venv, install, run the monthly flow on the bundled data (PERIOD=2025-08)
#   make test   - create .venv, install with the dev extra (+ Debian chromium), lint, run all tests
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PERIOD ?= 2025-08

.PHONY: run test install install-dev lint format browser bench clean-processed

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed-run $@

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/produktivitas run --period $(PERIOD)

browser:
	sh scripts/ensure-chromium.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-dev browser lint
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python benchmarks/run.py --companies 100000

clean-processed:
	find data/processed -mindepth 1 ! -name .gitkeep ! -name README.md -delete
