# collective.crontab: make install | test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast chromium clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The control panel's browser test drives Debian's chromium (never a download).
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium chromium-driver)

test: install chromium
	$(BIN)/zope-testrunner --all --test-path=src -s collective.crontab

test-fast: install
	$(BIN)/zope-testrunner --test-path=src -s collective.crontab

clean:
	rm -rf $(VENV) instance var test-output
