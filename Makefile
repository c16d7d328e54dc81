# `make run` serves Registry on http://127.0.0.1:8000 (SQLite by default) with its task worker; `make test` runs the
# test suite.
# Both create the virtualenv on first use: `make run` installs what running needs (requirements.txt), `make test` adds
# the test and lint tools (requirements-dev.txt).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test system-test bench bench-mlflow bench-ui bench-artifacts bootstrap install-dev superuser lint format check clean vendor

$(RUN_STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "install: requirements.txt into $(VENV)"
	@$(PIP) -r requirements.txt
	@rm -f $(VENV)/.installed-run-*
	@touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	@echo "install: requirements-dev.txt (test and lint tools) into $(VENV)"
	@$(PIP) -r requirements-dev.txt
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

install-dev: $(DEV_STAMP)

# The database schema and the static files, quietly: one line unless something goes wrong.
bootstrap: $(RUN_STAMP)
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "bootstrap: database migrated, static files collected"

# gunicorn and the task worker together (bin/serve); Ctrl-C stops both. migrate (in bootstrap) keeps the schedules.
run: $(RUN_STAMP)
	@$(BIN)/python bin/serve --check
	@$(MAKE) --no-print-directory bootstrap
	$(BIN)/python bin/serve

# An administrator account, asked for at the prompt (for the admin at /admin/ and every project).
superuser: bootstrap
	$(BIN)/python manage.py createsuperuser

test: install-dev bootstrap
	$(BIN)/python -m pytest

# Real gunicorn servers under races and faults (needs PostgreSQL and Redis on 127.0.0.1; restarts PostgreSQL as root).
system-test: install-dev bootstrap
	$(BIN)/python -m pytest -c systemtests/pytest.ini systemtests

# Registry's throughput under gunicorn (wrk, SQLite and PostgreSQL) and its list endpoints at 1k and 1M experiments, on
# throwaway databases; prints a report and keeps it in bench/results/. A quick run: make bench BENCH_SIZES=1000,20000
# (every setting: .venv/bin/python bench/registry_bench.py --help).
bench: install-dev
	$(BIN)/python bench/registry_bench.py

# Registry beside MLflow's own tracking server (installed in a virtualenv outside the repository), same data, same
# backend (SQLite, then PostgreSQL on 127.0.0.1 if it answers), one worker each; prints the figures and the ratios.
# Then the model registry's searches and alias resolution beside MLflow's, at 1,000 and 100,000 versions.
bench-mlflow: install-dev bootstrap
	$(BIN)/python bench/mlflow_bench.py
	$(BIN)/python bench/registry_models_bench.py

# The web UI on PostgreSQL with one project of 100,000 runs (20 metrics and 20 parameters each) and a 1,000,000-point
# history, timed in process: the runs table's pages, a run's page, a chart; the page's weight. A quick run:
# make bench-ui BENCH_UI_RUNS=20000
bench-ui: install-dev
	$(BIN)/python bench/ui_bench.py

# Artifact uploads and downloads (1 MiB, 100 MiB, 1 GiB) through MLflow's full client: Registry beside MLflow's server
# with --serve-artifacts, and a plain copy on the same disk; the servers' memory growth. Writes several GiB in TMPDIR.
# Then log_model and load_model of a small scikit-learn model on both. A quick run: make bench-artifacts
# BENCH_ARTIFACT_SIZES=1,100; the models alone: make bench-artifacts BENCH_ARTIFACT_SIZES=''
bench-artifacts: install-dev bootstrap
	$(BIN)/python bench/artifacts_bench.py

# The web UI's JavaScript (uPlot, htmx), committed in ui/static/ui/vendor/, and axe-core for the browser test, in
# systemtests/vendor/ (never served): refresh them from npm at the versions pinned in bin/vendor (needs npm; nothing
# else is built).
vendor:
	bin/vendor

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles
