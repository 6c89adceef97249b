# Two commands do everything on a fresh machine with Python 3.11:
#   make run   — the app with web, worker, beat, embedded Postgres + Redis and demo data
#   make test  — the whole test suite, browser tests included
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format browser migrations-check clean-var bench

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m coop.devrun

# Debian's Chromium when present; otherwise the browser Playwright documents installing.
browser: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then echo "browser: /usr/bin/chromium"; \
	else $(PY) -m playwright install chromium || { echo "no Chromium for the browser tests: install Debian's chromium or run 'playwright install chromium'" >&2; exit 1; }; fi

test: $(STAMP) browser
	$(PY) -m coop.testrun $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-var:
	rm -rf var

# The county-scale benchmark: 100,000 households in the database coop_bench (built once, then
# reused), then latencies, queries and sweeps. BENCH_ARGS="--quick" for a 5,000-household run.
bench: $(STAMP)
	$(PY) scripts/bench_county.py $(BENCH_ARGS)
