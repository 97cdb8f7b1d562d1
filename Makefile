# Sentimon: `make run` serves the embedded default, `make test` runs the whole suite.
# Both install what they need into .venv first, and do nothing slow when it is there already.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: `make run` needs only the app (RUN_STAMP: pip install -e .); `make test` and
# `make install` add the test extra (STAMP: pytest, Playwright, ...).
RUN_STAMP := $(VENV)/.installed-run
STAMP  := $(VENV)/.installed
PORT   ?= 5000
export PORT

.PHONY: install run test test-fast bench clean-instance help services services-down stack stack-down chromium pango

help:
	@echo "make run     - install, migrate, seed the demo and serve http://127.0.0.1:$(PORT)"
	@echo "make test    - install and run the whole test suite"
	@echo "make test-fast - the quick loop: pytest -m 'not slow and not system' (no servers needed)"
	@echo "make install - only create .venv with everything the app and tests need (make run installs only the app)"
	@echo "make bench   - run the benchmarks under bench/ and print their figures"
	@echo "make services      - install if missing and start PostgreSQL, Redis and Kafka on 127.0.0.1"
	@echo "                     (KAFKA_NODES=3 for the three-broker cluster of the fault tests)"
	@echo "make services-down - stop them"
	@echo "make stack         - web, one beat and WORKERS (default 2) workers on the services, in the background"
	@echo "make stack-down    - stop the stack"

install: $(STAMP)

$(RUN_STAMP): pyproject.toml setup.py $(wildcard webapp/*/*.c webapp/*/*/*.c) scripts/install_nltk_data.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python scripts/install_nltk_data.py
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# scripts/run.py supervises the Procfile's processes: a dead worker, beat or web is restarted with
# backoff while the others keep running (honcho, still usable with the Procfile, stops them all).
# Quiet by default (LOG_LEVEL=INFO or DEBUG for more, ACCESS_LOG=1 for the web's access log): the
# banner with the URL and the sign-in is printed once the web answers, and stays on screen.
LOG_LEVEL ?= WARNING
export LOG_LEVEL
run: $(RUN_STAMP) pango
	@$(BIN)/flask --app wsgi db upgrade
	@$(BIN)/flask --app wsgi seed-demo
	@echo "Sentimon on http://127.0.0.1:$(PORT) (starting; Ctrl-C stops web, worker and beat)"
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/run.py --procfile Procfile --port $(PORT) \
	  --banner "Sentimon is ready: http://127.0.0.1:$(PORT)\nSign in as admin@example.com / sentimon-demo (the demo admin made on the first run; change its password on /account)\nAPI reference: http://127.0.0.1:$(PORT)/api/docs   Ctrl-C stops web, worker and beat"

# The suite talks to the real servers (PostgreSQL, Redis, Kafka): start them first. Every test
# runs in TEST_WORKERS processes (pytest-xdist; most system tests wait on workers, browsers and
# servers rather than compute, so three share two cores well), the longest first (tests/conftest.py)
# and two at a time (--maxschedchunk 2; by default each worker would first take a quarter of its
# share in a row, so all the long ones would go to the first); the fault tests stop and restart
# servers of their own, so they run beside the rest, all on one worker (an xdist group: one set of
# servers, not one per worker), as do the two tests that share one `make run`. Bytecode is written
# even where PYTHONDONTWRITEBYTECODE is set: every worker, web and CLI process the tests start
# would otherwise compile the project again, and pytest rewrite every test module's asserts.
TEST_WORKERS ?= 3
test: services chromium pango
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxschedchunk 2 --dist loadgroup

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
