# The README's commands. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PORT ?= 8000
SMTP_PORT ?= 2525
# Links in emails and /maintenance.ics point at the port actually served.
SITE_URL ?= http://127.0.0.1:$(PORT)
PYTEST_WORKERS ?= 2
STEP = @printf '\n==> %s\n'

.PHONY: lock axe run test test-fast bench lint format typecheck install clean-test-db security backup restore browser

# Installs come from the lock files (`make lock` writes them from pyproject.toml):
# requirements.txt is the production image's, requirements-local.txt adds what
# `make run` needs (honcho), requirements-dev.txt the development tools. The
# project itself is installed without dependencies, so only locked versions land.
LOCK_RUN := requirements-local.txt
LOCK_DEV := requirements-dev.txt

# Everything: the project and its development tools (tests, linters, type checker).
$(VENV)/.installed: pyproject.toml $(LOCK_DEV)
	$(STEP) "Installing the project and its development tools into $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK_DEV)
	$(PY) -m pip install -q --no-deps -e .
	touch $@ $(VENV)/.installed-run

# What `make run` needs, nothing more (a fresh clone starts sooner).
$(VENV)/.installed-run: pyproject.toml $(LOCK_RUN)
	@if [ -f $(VENV)/.installed ] && [ $(VENV)/.installed -nt pyproject.toml ] \
	    && [ $(VENV)/.installed -nt $(LOCK_RUN) ]; then \
	  touch $@; \
	else \
	  printf '\n==> %s\n' "Creating $(VENV) and installing the project (the first time only)"; \
	  { test -x $(PY) || $(PYTHON) -m venv $(VENV); } && \
	  $(PY) -m pip install -q -r $(LOCK_RUN) && \
	  $(PY) -m pip install -q --no-deps -e . && touch $@; \
	fi

## Write the lock files from pyproject.toml's dependencies, keeping the pinned
## versions that still fit; `make lock UPGRADE=1` moves everything to the newest.
PIP_COMPILE = $(VENV)/bin/pip-compile -q --no-emit-index-url --no-emit-find-links \
	--no-emit-options --strip-extras $(if $(UPGRADE),--upgrade)
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/pip-compile || $(PY) -m pip install -q "pip-tools>=7.5"
	$(PIP_COMPILE) -o requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra local -c requirements.txt -o $(LOCK_RUN) pyproject.toml
	$(PIP_COMPILE) --extra dev --extra local -c requirements.txt -o $(LOCK_DEV) pyproject.toml

install: $(VENV)/.installed

## Start web, worker, beat and the SMTP receiver on the embedded default (SQLite,
## filesystem broker, mail to files). A crashed process is started again
## (scalr_support/keepalive.py); Ctrl-C stops them all.
run: $(VENV)/.installed-run
	@mkdir -p var/mail var/broker/queue var/broker/processed var/cache var/staticfiles
	$(STEP) "Migrating the database (var/db.sqlite3; the first time takes a few seconds)"
	$(PY) manage.py migrate --noinput
	$(STEP) "Loading the demo accounts and tickets"
	$(PY) manage.py seed_demo
	$(STEP) "Starting web on http://127.0.0.1:$(PORT)/, worker, beat and SMTP on 127.0.0.1:$(SMTP_PORT)"
	WEB_PORT=$(PORT) SMTP_PORT=$(SMTP_PORT) SITE_URL=$(SITE_URL) exec $(VENV)/bin/honcho -f Procfile start

## Debian's Chromium for the browser test: installed through apt when it is missing
## and this runs as root; otherwise says exactly what to run.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    printf '\n==> %s\n' "Installing Debian's Chromium for the browser test (apt-get install chromium)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test: the browser test needs Debian's Chromium at /usr/bin/chromium."; \
	    echo "  Install it with:  sudo apt-get install chromium"; \
	    echo "  or skip the browser test:  make test-fast"; \
	    exit 2; \
	  fi; \
	fi

## axe-core (npm) for the accessibility audit of the browser tests, into var/axe/.
AXE_VERSION ?= 4.10.3
AXE := var/axe/node_modules/axe-core/axe.min.js
$(AXE):
	@command -v npm >/dev/null 2>&1 || { echo "make test: the accessibility audit needs npm (apt-get install npm)"; exit 2; }
	mkdir -p var/axe
	npm install --prefix var/axe --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION)

axe: $(AXE)

## The whole suite against PostgreSQL and Redis (DATABASE_URL, REDIS_URL).
test: install browser axe
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

## ruff, and import-linter's contracts: the apps' imports point one way
## ([tool.importlinter] in pyproject.toml; docs/architecture.md).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

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
