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
# The translation tests extract the messages and compile the catalogues with GNU gettext (the
# compiled catalogues are committed, so the demo does not need it).
MSGFMT := /usr/bin/msgfmt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
apt_install = $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends $(1)

.PHONY: demo test setup browser gettext messages lint smoke clean

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
	$(call apt_install,$(BROWSER_PACKAGES)) || \
		{ $(SUDO) apt-get update -qq && $(call apt_install,$(BROWSER_PACKAGES)); }

gettext: $(MSGFMT)

$(MSGFMT):
	$(call apt_install,gettext) || { $(SUDO) apt-get update -qq && $(call apt_install,gettext); }

# After a text changes: extract the messages of every app into its English catalogue (and of
# templates/ into locale/), translate what is new, then `make messages` again to compile them.
MESSAGE_IGNORES := --ignore=node_modules --ignore=static --ignore=staticfiles --ignore=bench \
	--ignore=artifacts --ignore=docs --ignore=tests --ignore=conftest.py
messages: setup gettext
	$(BIN)/python manage.py makemessages -l en --no-location --no-obsolete $(MESSAGE_IGNORES)
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv --ignore=node_modules

demo: setup
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(DEMO_PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup browser gettext lint
	$(TEST_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	@# pytest exits 5 when it collects no test; that is not a failure of the suite.
	$(TEST_ENV) $(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# The demo path as a newcomer meets it: a fresh SQLite file, a small seed, a logged-in page.
smoke: setup
	$(DEMO_ENV) bash .ci/smoke

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
