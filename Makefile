# The README's two commands: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install upgrade lint bench faults messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Every build installs exactly the versions (and hashes) of the lock files: a new release of
# a dependency cannot change what main runs until someone upgrades on purpose (make upgrade).
$(STAMP): requirements-dev.lock | $(PY)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

# A deliberate upgrade: refresh both locks from pyproject.toml's ranges (production's is the
# development lock less the dev extras, so both hold the same versions), reinstall, run the suite.
# New URL patterns of an upgraded library need their permission expectations in the same commit.
upgrade: $(PY)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --upgrade \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header \
		-o requirements-dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes -c requirements-dev.lock \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header \
		-o requirements.lock
	rm -f $(STAMP)
	$(MAKE) test

# The demo: SQLite in var/, Celery eager, the demo data loaded (idempotent), served on
# HOST:PORT (`make run PORT=8100`); the links in its mails point to the same place.
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ENV := DJANGO_SETTINGS_MODULE=mcnet.settings.dev MCNET_BASE_URL=http://$(HOST):$(PORT)
run: install
	mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py load_demo
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The suite. With DATABASE_URL and CELERY_BROKER_URL set (as .ci/run does) it runs against
# PostgreSQL and Redis. System packages (fonts, Chromium, poppler) are installed when missing.
# The suite in two passes (tests/conftest.py): most of it on TEST_WORKERS pytest-xdist workers,
# each with its own test database and Redis databases (mcnet/settings/test.py), then
# the tests that must run alone. Exit status 5 is "nothing selected" (PYTEST_ARGS may pick one
# pass only).
TEST_WORKERS ?= 2

test: install
	bash .ci/install-system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=mcnet.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(TEST_WORKERS) -m "not serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(VENV)/bin/pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The benchmark (issue 9, bench/README.md): generates the large network in its own database
# when missing (minutes), then measures; writes bench/results.json and prints the table.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mcnet_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/9
# The cache (sessions, rendered fragments, figures) on Redis, as in production.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
BENCH_SCALE ?= 1.0
bench: install
	bash .ci/install-system-deps
	bash bench/ensure-services
	DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) \
		REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench.generate --if-needed --scale $(BENCH_SCALE)
	DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) \
		REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench.run $(BENCH_ARGS)

# Faults (issue 19, bench/faults.py): gunicorn, a worker, beat, PostgreSQL and two Redis of
# its own on loopback (never the machine's), an SMTP sink counting mails; kills the worker,
# restarts Redis with and without its data, hangs it, restarts PostgreSQL (fast, immediate),
# and prints recovery time, mails and documents per scenario. FAULTS_ARGS e.g.
# "--scenarios redis-hung --timeout 300".
faults: install
	bash .ci/install-system-deps
	$(PY) -m bench.faults $(FAULTS_ARGS)

# Japanese is the source language; English is translated in locale/en.
messages: install
	$(PY) manage.py makemessages -l ja -l en --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var
