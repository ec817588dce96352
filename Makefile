# The README's two commands: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo: SQLite in var/, Celery eager, the demo data loaded (idempotent), served on :8000.
run: install
	mkdir -p var
	DJANGO_SETTINGS_MODULE=mcnet.settings.dev $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=mcnet.settings.dev $(PY) manage.py load_demo
	DJANGO_SETTINGS_MODULE=mcnet.settings.dev $(PY) manage.py runserver 127.0.0.1:8000

# The suite. With DATABASE_URL and CELERY_BROKER_URL set (as .ci/run does) it runs against
# PostgreSQL and Redis. System packages (fonts, Chromium, poppler) are installed when missing.
test: install
	bash .ci/install-system-deps
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=mcnet.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

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

# Japanese is the source language; English is translated in locale/en.
messages: install
	$(PY) manage.py makemessages -l ja -l en --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var
