# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-glance test-provider lint format bench screenshots clean install install-dev lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Install exactly the locked releases (docs/ARCHITECTURE.md, "Dependencies"), and again
# only when the lock or the project changes. The project itself is built with the locked
# setuptools already in the venv, so nothing unpinned is fetched for its build either.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

# Refresh the lock files from pyproject.toml's ranges: `make lock` keeps every pin that
# still fits, `make lock LOCK_ARGS=--upgrade` moves each package to its newest release.
# The runtime lock is constrained by the dev lock, so both name the same versions.
# --allow-unsafe and --build-deps-for pin setuptools too, which builds the project.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --build-deps-for editable $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(PIP_COMPILE) --extra dev --output-file requirements-dev.txt pyproject.toml
	$(PIP_COMPILE) --constraint requirements-dev.txt --output-file requirements.txt pyproject.toml

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py prepare
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py localcloud_seed --clouds-yaml var/clouds.yaml
	if [ -f var/clouds.yaml ]; then $(BIN)/python manage.py import_clouds var/clouds.yaml; fi
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/python -m imagetasks.runner Procfile \
		--default IMAGETASKS_BIND=127.0.0.1:8000 \
		--banner 'open http://$$IMAGETASKS_BIND/ (Ctrl-C stops everything)'


# The tests' OpenID Connect provider (tests/support/oidc_provider): oidc-provider from the
# npm registry, installed from its lock file, again only when the lock changes. Without npm
# the sign-in tests skip and say so (under CI they fail: .ci/run installs node and npm).
OIDC_PROVIDER := tests/support/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm is missing: the sign-in tests will skip (apt-get install -y nodejs npm)"; fi
test-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

# Tests spend most of their time waiting (workers, browsers, polling), so they run on
# several processes even on two cores; PYTEST_WORKERS=0 runs them in this one.
PYTEST_WORKERS ?= 3
test: install-dev test-provider
	mkdir -p var/test
	IMAGETASKS_VAR_DIR=$${IMAGETASKS_VAR_DIR:-$(CURDIR)/var/test} \
		IMAGETASKS_ENV_FILE=$${IMAGETASKS_ENV_FILE:-/dev/null} \
		$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The tier against a real OpenStack Glance (docs/GLANCE.md). The first run installs
# Glance into var/glance-venv (about 2 minutes). Its browser tests use what make test's
# do: Playwright and axe-core from the dev install, Debian's chromium (.ci/run).
test-glance: install-dev
	mkdir -p var/test-glance
	$(BIN)/python -m tests_glance.harness.venv var/glance-venv
	IMAGETASKS_VAR_DIR=$${IMAGETASKS_VAR_DIR:-$(CURDIR)/var/test-glance} \
		IMAGETASKS_ENV_FILE=$${IMAGETASKS_ENV_FILE:-/dev/null} $(BIN)/pytest tests_glance $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks print their figures as ratios against baselines measured in the same run;
# the latest results are kept in docs/PERFORMANCE.md. The second tracker run is a short
# scale-out check (two worker processes, three clouds); the full scale-out runs are in
# docs/PERFORMANCE.md ("Scale-out").
bench: install-dev
	$(BIN)/python bench/localcloud_transfer.py
	$(BIN)/python bench/tracker_polling.py
	$(BIN)/python bench/tracker_polling.py --workers 2 --clouds 3 --tasks 60 --min-seconds 5 \
		--max-seconds 15 --no-baseline
	$(BIN)/python bench/table_views.py
	$(BIN)/python bench/prune.py
	$(BIN)/python bench/live_table.py
	$(BIN)/python bench/slow_clients.py
	$(BIN)/python bench/large_objects.py

# The screenshots in docs/ are taken by the browser tests (desktop, 390 px phone, dark).
SCREENSHOTS := tasks-table task-page export-picker-searched import-form-warned copy-page \
	tasks-phone-filtered task-failed forbidden login-with-provider no-access
screenshots: install-dev test-provider
	$(BIN)/pytest tests/browser -q
	mkdir -p docs/screenshots
	for name in $(SCREENSHOTS); do cp var/screenshots/$$name-*.png docs/screenshots/; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache build *.egg-info $(OIDC_PROVIDER)/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
