# Restu — `make run` serves the app with a real Celery worker; `make test` runs the suite.
# Both set themselves up on a fresh clone (a .venv with the pinned requirements).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-fast demo lint format setup migrate clean messages audit screenshots

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e clients/python
	@touch $(STAMP)

NODE_STAMP := node_modules/.installed

# axe-core for the browser tests' accessibility check (pinned in package-lock.json).
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

migrate: setup
	DEBUG=$${DEBUG-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(PY) manage.py collectstatic --noinput --verbosity 0

# The web server and a worker (with beat) in their own processes; Ctrl-C or SIGTERM stops both.
run: migrate
	DEBUG=$${DEBUG-1} PORT=$(PORT) exec $(PY) -m registry.run

demo: migrate
	DEBUG=$${DEBUG-1} $(PY) manage.py demo
	DEBUG=$${DEBUG-1} $(PY) manage.py demo_guidelines
	DEBUG=$${DEBUG-1} $(PY) manage.py demo_consents

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Every page a reviewer should look at, in both languages at 1280 and 390 px, into var/screenshots/.
screenshots: setup
	$(PY) docs/screenshots/take.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Known vulnerabilities in the pinned requirements. --strict fails when a package could not be
# checked, so an unreachable vulnerability feed is an error, never a silent "no findings".
audit: setup
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements-dev.txt

messages: setup
	DEBUG=1 $(PY) manage.py makemessages -l id --ignore=.venv --ignore=var --ignore=clients
	DEBUG=1 $(PY) manage.py compilemessages -l id --ignore=.venv

clean:
	rm -rf var/test .pytest_cache
