# The README's commands. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PORT ?= 8000
SMTP_PORT ?= 2525
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast bench lint format typecheck install clean-test-db security backup restore

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Start web, worker, beat on the embedded default (SQLite, filesystem broker, mail to files).
run: install
	mkdir -p var/mail var/broker/queue var/broker/processed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	WEB_PORT=$(PORT) SMTP_PORT=$(SMTP_PORT) exec $(VENV)/bin/honcho -f Procfile start

## The whole suite against PostgreSQL and Redis (DATABASE_URL, REDIS_URL).
test: install
	$(PY) -m scalr_support.preflight
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Everything except tests marked slow (browser, live servers).
test-fast: install
	$(PY) -m scalr_support.preflight
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow" $(PYTEST_ARGS)

## The database (pg_dump) and the attachment store in one archive, with checksums.
## OUTPUT=path.tar.gz (default var/backups/scalr-support-<time>.tar.gz).
backup: install
	$(PY) manage.py backup_create $(if $(OUTPUT),--output $(OUTPUT))

## Restore ARCHIVE into a fresh database (RESTORE_DATABASE_URL, else DATABASE_URL,
## created if missing, refused unless empty) and MEDIA_ROOT, then verify it.
restore: install
	test -n "$(ARCHIVE)" || { echo "make restore ARCHIVE=path.tar.gz"; exit 2; }
	$(PY) manage.py backup_restore $(ARCHIVE) $(if $(RESTORE_DATABASE_URL),--database-url $(RESTORE_DATABASE_URL))

bench: install
	$(PY) -m scalr_support.preflight
	$(PY) benchmarks/run_all.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install
	$(VENV)/bin/mypy .

## Static security checks: bandit (findings justified in tests/security/test_static_analysis.py)
## and pip-audit against PyPI's advisory data (reports "could not be audited" offline).
security: install
	$(VENV)/bin/bandit -c pyproject.toml -r . -q -f custom --msg-template "{relpath}:{line} {test_id} {msg}" || true
	$(VENV)/bin/pytest -p no:xdist -q tests/security/test_static_analysis.py
	$(VENV)/bin/pip-audit --progress-spinner off
