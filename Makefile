# Sentimon: `make run` serves the embedded default, `make test` runs the whole suite.
# Both install what they need into .venv first, and do nothing slow when it is there already.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5000
export PORT

.PHONY: install run test test-fast bench clean-instance help services services-down stack stack-down chromium pango

help:
	@echo "make run     - install, migrate, seed the demo and serve http://127.0.0.1:$(PORT)"
	@echo "make test    - install and run the whole test suite"
	@echo "make test-fast - the quick loop: pytest -m 'not slow and not system' (no servers needed)"
	@echo "make install - only create .venv with everything the app and tests need"
	@echo "make bench   - run the benchmarks under bench/ and print their figures"
	@echo "make services      - install if missing and start PostgreSQL, Redis and Kafka on 127.0.0.1"
	@echo "                     (KAFKA_NODES=3 for the three-broker cluster of the fault tests)"
	@echo "make services-down - stop them"
	@echo "make stack         - web, one beat and WORKERS (default 2) workers on the services, in the background"
	@echo "make stack-down    - stop the stack"

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install_nltk_data.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python scripts/install_nltk_data.py
	@touch $(STAMP)

# scripts/run.py supervises the Procfile's processes: a dead worker, beat or web is restarted with
# backoff while the others keep running (honcho, still usable with the Procfile, stops them all).
run: $(STAMP) pango
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "Sentimon on http://127.0.0.1:$(PORT) (Ctrl-C stops web, worker and beat)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/run.py --procfile Procfile --port $(PORT)

# The suite talks to the real servers (PostgreSQL, Redis, Kafka): start them first. Every test
# but the `disruptive` ones runs in TEST_WORKERS processes (pytest-xdist; most system tests wait
# on workers, browsers and servers rather than compute, so three share two cores well); then the
# tests that stop and restart the shared servers run alone.
TEST_WORKERS ?= 3
test: services chromium pango
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not disruptive"
	$(BIN)/python -m pytest -m disruptive

# The quick loop while working: no real servers, worker processes or browser, nothing slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow and not system"

# The browser tests drive Debian's Chromium through Playwright (`playwright install` is never
# used: its download hosts are not reachable). Installed once, as root (sudo when not root).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# Report PDFs (WeasyPrint) need Debian's Pango; installed once, as root (sudo when not root).
pango:
	@ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }

# The benchmarks start what they need (workers, gunicorn) on the servers of `make services`;
# wrk (benchmark 5) comes from Debian's packages. Every script runs even if one fails.
bench: services
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	@status=0; for script in bench/bench_*.py; do echo "== $$script"; \
	  $(BIN)/python $$script || { echo "!! $$script failed"; status=1; }; done; exit $$status

clean-instance:
	rm -rf instance

services: $(STAMP)
	$(BIN)/python scripts/services.py up $(if $(KAFKA_NODES),--kafka-nodes $(KAFKA_NODES))

services-down:
	$(PYTHON) scripts/services.py down

WORKERS ?= 2
stack: services
	$(BIN)/python scripts/stack.py up --workers $(WORKERS) --port $(PORT)

stack-down:
	$(BIN)/python scripts/stack.py down
