# collective.crontab: make install | test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

test: install
	$(BIN)/zope-testrunner --all --test-path=src -s collective.crontab

test-fast: install
	$(BIN)/zope-testrunner --test-path=src -s collective.crontab

clean:
	rm -rf $(VENV) instance var test-output

.PHONY: bench
bench: install
	$(BIN)/python -m bench
