# The two commands: `make run` and `make test`. Each sets up what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The demo day: a weekday in the May peak of the seeded history.
RUN_DATE ?= 2026-05-12
SEED_FROM ?= 2026-03-01
SEED_ROWS ?= 6000

.PHONY: help install up down status run test test-unit test-faults test-distributed lint bench \
	pins clean airflow browser test-browser vendor

help:
	@echo "make run    - set up, start the local stack, seed, run the DAG for $(RUN_DATE), print what it did"
	@echo "make up     - set up and start the local stack with the demo history (then: source .devstack/env)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make test-unit - the unit tests only: no Postgres, sandbox or Airflow (about a minute)"
	@echo "make test-distributed - the DAG on CeleryExecutor: Redis, two Celery workers (installs redis-server)"
	@echo "make test-browser - the reports in Chromium with the network cut (installs chromium)"
	@echo "make lint | bench | up | down | status | pins | vendor | clean"

# A wrong or missing Python says so in one line, before anything is installed.
NEED_PY311 := import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else f"make: the pinned set needs Python 3.11; $(PYTHON) is {v[0]}.{v[1]}. Install 3.11 (Debian 12: apt-get install python3.11-venv) or name it: PYTHON=/path/to/python3.11 make ...")

# Last, this repo as an editable package: badging importable everywhere, and Airflow reads its
# provider metadata (the "Credly" connection type). --no-deps: the pins stay the one authority.
$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: no python3.11 or python3 on PATH; install Python 3.11 (Debian 12: apt-get install python3.11-venv)" >&2; exit 1; }
	@$(PYTHON) -c '$(NEED_PY311)'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "make: could not create $(VENV); on Debian/Ubuntu: apt-get install python3.11-venv" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(INSTALLED)

# The stack with the demo history loaded (once): every README command works on it.
up: install
	$(PY) -m devstack up
	$(PY) -m devstack seed --if-empty --from $(SEED_FROM) --to $(RUN_DATE) \
		--rows $(SEED_ROWS) --dirty-rate 0.05 --seed 2026

down:
	$(PY) -m devstack down

status:
	$(PY) -m devstack status

run: up
	$(PY) -m devstack run-dag --date $(RUN_DATE)

# A real Airflow on the local stack (scheduler, UI, DAG processor, triggerer) until Ctrl-C.
airflow: install
	$(PY) -m devstack airflow --port $${AIRFLOW_PORT:-8080}

# The fault matrix and the Celery run have their own targets; a fast fault slice is in `test`,
# and the browser tests (-m browser) are in it too.
# Two test processes (TEST_WORKERS=1 for one): the end-to-end tests are CPU-bound Airflow
# runs, so two cores finish them in about two thirds of the time. Each process starts its
# own stack; a file's tests stay on one process (their module fixtures are shared).
TEST_WORKERS ?= 2
test: install browser
	$(PY) -m pytest -m "not faults and not distributed" -n $(TEST_WORKERS) --dist loadfile

# The fast lane (docs/testing.md): the product's and devstack's unit tests, by folder, with
# no stack (tests/unit/conftest.py fails a test that asks for one). CI runs it first, so a
# broken import fails in seconds. By file: a module's cached fixtures run once.
UNIT_TESTS := tests/unit tests/devstack/unit
test-unit: install
	$(PY) -m pytest $(UNIT_TESTS) -n $(TEST_WORKERS) --dist loadfile

test-faults: install
	$(PY) -m pytest -m faults

# The DAG on CeleryExecutor (tests/e2e/test_distributed.py): the test starts its own
# redis-server from the distribution's package, installed here when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
test-distributed: install
	command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
	$(PY) -m pytest -m distributed -s

# Debian's Chromium for the browser tests (tests/fixtures/browser.py drives it with Playwright;
# Playwright's own browser download needs a host we do not reach).
# BADGING_CHROMIUM names another binary (for make and for the tests).
BADGING_CHROMIUM ?= /usr/bin/chromium
export BADGING_CHROMIUM
browser:
	test -x $(BADGING_CHROMIUM) || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test-browser: install browser
	$(PY) -m pytest -m browser

# Refresh include/static/vendor (the Data Docs' scripts, styles and fonts) from the npm
# registry as its manifest.json pins them; commit the result (docs/offline-reports.md).
vendor: install
	$(PY) -m devstack.vendor_assets

lint: install
	$(PY) -m ruff check .

# Own stack on free ports; prints one table, writes bench/results.json (about 30 minutes).
bench: install
	$(PY) -m bench.run_bench

# Refresh the pins: resolve the .in files in a clean venv and freeze the result.
pins:
	rm -rf /tmp/credly-pins && $(PYTHON) -m venv /tmp/credly-pins
	/tmp/credly-pins/bin/pip install --quiet -r requirements.in
	{ echo '# Generated by `make pins` from requirements.in on Python 3.11: do not edit by hand.'; \
	  /tmp/credly-pins/bin/pip freeze; } > requirements.txt
	/tmp/credly-pins/bin/pip install --quiet -r requirements-dev.in
	{ echo '# Generated by `make pins` from requirements-dev.in on Python 3.11: do not edit by hand.'; \
	  echo '-r requirements.txt'; \
	  /tmp/credly-pins/bin/pip freeze | grep -vxF -f <(tail -n +2 requirements.txt); } > requirements-dev.txt

clean: down
	rm -rf .devstack
