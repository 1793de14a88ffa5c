# collective.crontab: make install | test | run
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast clean run

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

test: install
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

clean:
	rm -rf $(VENV) instance var test-output
