# industry-brain — the two commands: `make demo` and `make test` (both set themselves up).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)

# DAGSTER_HOME must be absolute (docs/architecture.md: conventions); derive it from the repo root.
export DAGSTER_HOME ?= $(CURDIR)/var/dagster
export DO_NOT_TRACK := 1

.PHONY: help venv manifest demo test test-fast notebook dev docs lint format lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@echo ">> creating $(VENV) with pinned dependencies (requirements.lock)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)  ## create .venv and install the pinned dependencies

manifest: venv  ## check the generated dbt docs and parse the dbt project (Dagster reads the manifest)
	$(BIN)/ibrain catalog dbt-yaml --check
	$(BIN)/ibrain-dbt parse --quiet

demo: manifest  ## run the whole pipeline on a small simulated data set (embedded engine; demo accounts and keys)
	IBRAIN_ENV=demo $(BIN)/ibrain demo

# Most tests wait on one core (a CLI process, the engine, dbt): `make test` runs the scenarios
# (whole pipelines on lakes of their own) in a second pytest process beside all other tests.
SCENARIO_LOG := $(CURDIR)/var/pytest-scenarios.log

test: manifest lint  ## lint, then every test (unit, integration, slow, S3, end-to-end), in two processes
	@mkdir -p $(dir $(SCENARIO_LOG))
	@echo ">> pytest -m scenario in the background (log: $(SCENARIO_LOG)); pytest -m 'not scenario' here"
	@$(BIN)/pytest -m scenario --durations=15 > $(SCENARIO_LOG) 2>&1 & scenarios=$$!; \
	trap 'kill $$scenarios 2>/dev/null' EXIT; \
	$(BIN)/pytest -m "not scenario" --durations=25; others=$$?; \
	wait $$scenarios; status=$$?; \
	echo ">> pytest -m scenario:"; cat $(SCENARIO_LOG); \
	exit $$(( others || status ))

test-fast: manifest  ## the unit tests and robustness checks: no pipeline, no integration tier, nothing slow (about 100 s)
	$(BIN)/pytest -m "not e2e and not s3 and not slow and not integration"

notebook: venv  ## JupyterLab on http://127.0.0.1:8888 over notebooks/ (needs the optional extra: pip install -e '.[notebook]')
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || { echo "JupyterLab is not installed: $(BIN)/pip install -e '.[notebook]'"; exit 1; }
	PYTHONPATH=$(CURDIR) $(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir notebooks

dev: manifest  ## Dagster UI + daemon on http://127.0.0.1:3000
	$(BIN)/ibrain dev

docs: manifest  ## dbt docs (models, columns with name_zh, tests, lineage) → transforms/dbt/target/index.html
	$(BIN)/ibrain-dbt docs generate --quiet
	@echo ">> open transforms/dbt/target/index.html, or serve it: $(BIN)/ibrain-dbt docs serve --port 8081"

lint: venv  ## ruff, the declared layers (import-linter), declared dependencies, sqlfluff on the dbt project, every imported package declared
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/check_dependencies.py
	$(BIN)/python tools/check_notebooks.py
	$(BIN)/sqlfluff lint transforms/dbt

format: venv  ## ruff fix + format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:  ## re-resolve requirements.lock from pyproject.toml (needs the registries)
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet ".[dev]"
	{ echo "# Fully resolved, pinned dependency set (pip freeze of pyproject's deps + [dev])."; \
	  echo "# Regenerate with: make lock"; \
	  .lockvenv/bin/pip freeze --exclude industry-brain; } > requirements.lock
	rm -rf .lockvenv

clean:  ## remove the local lake, Dagster home and dbt artefacts (keeps .venv)
	rm -rf var transforms/dbt/target transforms/dbt/logs
