# collective.crontab: make install | run | test | lint | format | bench
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AXE := node_modules/axe-core/axe.min.js

.PHONY: install lint format test test-fast test-processes chromium libpq postgresql clean run run-cluster i18n buildout check-buildout bench

install: $(STAMP) $(AXE)

# The tests run on RelStorage too: the relstorage extra builds psycopg2,
# which needs libpq's headers and pg_config (Debian's libpq-dev).
$(STAMP): setup.py constraints.txt | libpq
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[test,relstorage]" $(LINTERS)
	touch $(STAMP)

# axe-core for the browser test's accessibility checks, pinned in
# package-lock.json, into node_modules/ (never fetched at test time).
$(AXE): package.json package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm ci --no-audit --no-fund
	touch $(AXE)

libpq:
	command -v pg_config >/dev/null || (apt-get update && apt-get install -y libpq-dev)

# Lint and format: ruff (settings in pyproject.toml), zpretty for ZCML, XML
# and page templates, codespell. `make lint` only checks; `make format` rewrites.
LINTERS := ruff zpretty codespell
PY_FILES := src bench scripts setup.py
XML_FILES = $(shell find src bench -name '*.zcml' -o -name '*.xml' -o -name '*.pt' | grep -v egg-info)
TEXT_FILES := src bench scripts docs README.rst CHANGES.rst Makefile setup.py

lint: install
	$(BIN)/ruff check $(PY_FILES)
	$(BIN)/ruff format --check $(PY_FILES)
	$(BIN)/zpretty --check $(XML_FILES)
	$(BIN)/codespell $(TEXT_FILES)

format: install
	$(BIN)/ruff check --fix $(PY_FILES)
	$(BIN)/ruff format $(PY_FILES)
	$(BIN)/zpretty -i $(XML_FILES)

# The control panel's browser test drives Debian's chromium (never a download).
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium chromium-driver)

# The RelStorage process tests start Debian's PostgreSQL server themselves.
postgresql:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

test: install chromium postgresql
	$(BIN)/zope-testrunner --all --test-path=src -s collective.crontab

test-fast: install
	$(BIN)/zope-testrunner --test-path=src -s collective.crontab

# A demo instance: Plone site, a job every minute, the clock ticking it.
PORT ?= 8080
INSTANCE ?= instance

run: install
	$(BIN)/python -m collective.crontab.instance create $(INSTANCE) --port $(PORT) \
		--site Plone --demo-job --clock /Plone/@@crontab-tick
	@echo "Plone: http://localhost:$(PORT)/Plone"
	$(BIN)/runwsgi $(INSTANCE)/etc/zope.ini

# A database server, client1 serving the site on PORT, client2 (CLOCK_PORT)
# carrying the clock. Ctrl-C stops all three. STORAGE=zeo (default): runzeo
# on ZEO_PORT; STORAGE=relstorage: a PostgreSQL of its own in
# $(CLUSTER)/postgresql on PG_PORT (Debian's postgresql package).
CLUSTER ?= cluster
STORAGE ?= zeo
ZEO_PORT ?= 8100
PG_PORT ?= 8102
CLOCK_PORT ?= 8081
ZEO := 127.0.0.1:$(ZEO_PORT)
DSN := host=127.0.0.1 port=$(PG_PORT) dbname=zodb user=$(if $(filter 0,$(shell id -u)),postgres,$(shell id -un))
ifeq ($(STORAGE),relstorage)
SERVER := $(BIN)/python -m collective.crontab.tests.postgres $(CLUSTER)/postgresql $(PG_PORT)
SERVER_READY := test -e $(CLUSTER)/postgresql/ready
STORAGE_OPTION := --relstorage "$(DSN)"
else
SERVER := $(BIN)/runzeo -a $(ZEO) -f $(CLUSTER)/zeo/Data.fs
SERVER_READY := (exec 3<>/dev/tcp/127.0.0.1/$(ZEO_PORT)) 2>/dev/null
STORAGE_OPTION := --zeo $(ZEO)
endif

run-cluster: SHELL := /bin/bash
run-cluster: install $(if $(filter relstorage,$(STORAGE)),postgresql)
	mkdir -p $(CLUSTER)/zeo
	set -e; \
	$(SERVER) & server=$$!; clients=; \
	trap 'kill $$clients $$server 2>/dev/null; wait; true' EXIT; \
	trap 'exit 0' INT TERM; \
	until $(SERVER_READY); do sleep 0.2; done; \
	$(BIN)/python -m collective.crontab.instance create $(CLUSTER)/client1 \
		--port $(PORT) $(STORAGE_OPTION) --client client1 --site Plone --demo-job; \
	$(BIN)/python -m collective.crontab.instance create $(CLUSTER)/client2 \
		--port $(CLOCK_PORT) $(STORAGE_OPTION) --client client2 --clock /Plone/@@crontab-tick; \
	echo "Plone: http://localhost:$(PORT)/Plone (client1; client2 on port $(CLOCK_PORT) runs the clock)"; \
	$(BIN)/runwsgi $(CLUSTER)/client1/etc/zope.ini & clients=$$!; \
	$(BIN)/runwsgi $(CLUSTER)/client2/etc/zope.ini & clients="$$clients $$!"; \
	wait

test-processes: install postgresql
	$(BIN)/zope-testrunner --all --test-path=src -s collective.crontab --layer 'Cluster|ExactlyOnceRun'

# The benchmark of issue 6: prints a table, writes bench/results.json.
bench: install
	$(BIN)/python -m bench

BUILDOUT_PINS := zc.buildout==6.0.1 setuptools==84.2.1 wheel==0.48.0 pip==26.3

versions.cfg: constraints.txt scripts/constraints2versions.py
	$(PYTHON) scripts/constraints2versions.py constraints.txt > $@

.buildout/bin/buildout:
	$(PYTHON) -m venv .buildout
	.buildout/bin/pip install -q $(BUILDOUT_PINS)

# bin/instance from buildout.cfg (downloads from PyPI the first time).
buildout: versions.cfg .buildout/bin/buildout
	.buildout/bin/buildout -N

# Build, start bin/instance and require a clock tick to run the demo job
# (about 3 minutes once the eggs are downloaded). Not part of `make test`.
check-buildout: versions.cfg .buildout/bin/buildout
	$(PYTHON) scripts/constraints2versions.py constraints.txt | diff -u versions.cfg - \
		|| { echo "versions.cfg is out of date: make versions.cfg"; exit 1; }
	scripts/check_buildout.sh

LOCALES := src/collective/crontab/locales
POT := $(LOCALES)/collective.crontab.pot

# Re-extract every message of the collective.crontab domain and merge it into
# each language's .po (new msgids come in empty: translate them).
i18n: install
	$(BIN)/pip install -q -c constraints.txt i18ndude
	$(BIN)/i18ndude rebuild-pot --pot $(POT) --create collective.crontab src/collective/crontab
	$(BIN)/i18ndude sync --pot $(POT) $(LOCALES)/*/LC_MESSAGES/collective.crontab.po
	$(BIN)/i18ndude find-untranslated -n src/collective/crontab

clean:
	rm -rf $(VENV) node_modules instance $(CLUSTER) var test-output .buildout bin parts eggs develop-eggs .installed.cfg
