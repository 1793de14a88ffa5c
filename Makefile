# collective.crontab: make install | test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast clean i18n

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

test: install
	$(BIN)/zope-testrunner --all --test-path=src -s collective.crontab

test-fast: install
	$(BIN)/zope-testrunner --test-path=src -s collective.crontab

LOCALES := src/collective/crontab/locales
POT := $(LOCALES)/collective.crontab.pot

# Re-extract every message of the collective.crontab domain and merge it into
# each language's .po (new msgids come in empty: translate them).
i18n: install
	$(BIN)/pip install -q -c constraints.txt i18ndude
	$(BIN)/i18ndude rebuild-pot --pot $(POT) --create collective.crontab src/collective/crontab
	$(BIN)/i18ndude sync --pot $(POT) $(LOCALES)/*/LC_MESSAGES/collective.crontab.po
	@$(BIN)/i18ndude find-untranslated -n src/collective/crontab | tail -1

clean:
	rm -rf $(VENV) instance var test-output
