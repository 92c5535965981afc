# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PORT ?= 8000

# The tests run on the real services: PostgreSQL and Redis on this machine.
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pension} \
	CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/1} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} \
	SECRET_KEY=$${SECRET_KEY:-test-only-not-a-secret} DEBUG=0

# The demo runs with no environment at all: SQLite and in-process tasks.
DEMO_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL -u CACHE_URL -u SECRET_KEY -u DEBUG

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here), with a
# CJK font so that Chinese pages render in their screenshots. Installing needs root: sudo otherwise.
CHROMIUM := /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES)

.PHONY: demo test setup browser lint smoke clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

browser: $(CHROMIUM)

# The package lists are refreshed only when the install cannot find the packages in them.
$(CHROMIUM):
	$(APT_INSTALL) || { $(SUDO) apt-get update -qq && $(APT_INSTALL); }

demo: setup
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(DEMO_PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup browser lint
	$(TEST_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	@# pytest exits 5 when it collects no test; that is not a failure of the suite.
	$(TEST_ENV) $(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# The demo path as a newcomer meets it: a fresh SQLite file, a small seed, a logged-in page.
smoke: setup
	$(DEMO_ENV) bash .ci/smoke

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
