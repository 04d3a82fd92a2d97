# The two commands of the README:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
SCENARIO ?= scenarios/ha-giang-2026.yaml
RUN    := runs/$(basename $(notdir $(SCENARIO)))
# mypy's incremental cache, shared by every clone of this user (checked by content hash):
# a fresh clone then checks in seconds, not the ~45 s of a cold cache
MYPY_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/mobile-library-planner/mypy

.PHONY: demo test lint audit install install-test solve serve clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed"'
	@$(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install the venv module: apt install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## demo: install, solve the default scenario on the embedded data, serve the UI on :5000
demo: install solve serve

solve: install
	$(BIN)/planner solve $(SCENARIO) --out $(RUN)

## serve: the web UI (waitress; `--dev` for Flask's development server); on first start it
## makes user "demo" (dispatcher) and prints its password
serve: install
	$(BIN)/python -m webui serve --runs runs --scenarios scenarios --host $(HOST) --port $(PORT) --demo-user

## test: install test needs and run the whole suite; the storage tests also run against a
## throwaway PostgreSQL server (tests/pg/with-postgres.sh installs the Debian package if needed),
## on every core (pytest-xdist; each worker has its own PostgreSQL database, tests/conftest.py)
test: install-test lint
	sh tests/e2e/install-chromium.sh  # Debian's chromium for the browser tests (tests/e2e)
	bash tests/pg/with-postgres.sh $(BIN)/python -m pytest -n auto --dist worksteal

## lint: ruff and mypy, configured in pyproject.toml (also pre-commit hooks)
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy --cache-dir "$(MYPY_CACHE)"

## audit: known vulnerabilities in the installed packages (pip-audit); skipped with a message
## when the vulnerability service does not answer
audit: install-test
	$(BIN)/python -m tools.audit_dependencies

clean:
	rm -rf runs .pytest_cache .hypothesis
