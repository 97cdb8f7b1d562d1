# Sentimon: `make run` serves the embedded default, `make test` runs the whole suite.
# Both install what they need into .venv first, and do nothing slow when it is there already.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5000
export PORT

.PHONY: install run test clean-instance help

help:
	@echo "make run     - install, migrate, seed the demo and serve http://127.0.0.1:$(PORT)"
	@echo "make test    - install and run the whole test suite"
	@echo "make install - only create .venv with everything the app and tests need"

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install_nltk_data.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python scripts/install_nltk_data.py
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "Sentimon on http://127.0.0.1:$(PORT) (Ctrl-C stops web, worker and beat)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile -p $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

clean-instance:
	rm -rf instance
