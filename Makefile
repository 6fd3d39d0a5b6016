# The two commands a newcomer needs: `make demo` (the whole product) and `make test`
# (the whole suite). Both install what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The benchmark's peer runs in a virtualenv of its own: quixstreams pins pydantic below ours.
PEER := build/peer-venv

.PHONY: install demo down status test test-fast lint unit chaos bench bench-publish bench-pipeline bench-queries bench-dashboard bench-state bench-verify soak

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	bash deploy/local/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

## Run the whole product on this machine: broker, ClickHouse, worker, dashboard.
demo: install
	$(BIN)/journey up

down:
	$(BIN)/journey down

status:
	$(BIN)/journey status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Run the whole test suite: lint, types, unit, integration and end-to-end tests.
## The tests start (and stop) their own Kafka broker and ClickHouse server.
test: lint
	bash deploy/local/system-packages.sh --browser
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

## Lint, types and the unit tests only: no broker, no ClickHouse (a couple of minutes).
test-fast: lint unit

## The fault-injection matrix at full size (SIGKILL loop, zombie, broker and ClickHouse down,
## rebalance, poison, late events, negative control); report in build/chaos.md. The test
## command runs the same scenarios at short sizes.
chaos: install
	$(BIN)/python -m tests.chaos

## Benchmarks (not part of `make test`): print figures and ratios measured in one run.
bench-publish: install
	$(BIN)/python -m tests.bench.bench_publish --events 200000

## The whole pipeline beside the ceiling, a Faust floor, the Quix Streams peer and a naive
## consumer, on the same topic in one run; report in build/bench.md.
bench: install $(PEER)/.installed
	$(BIN)/python -m tests.bench.bench_pipeline --events 300000 --peer-python $(PEER)/bin/python

bench-pipeline: bench

# The peer runs the project's own plan logic: it needs the project's decoder and state types.
PEER_PACKAGES := quixstreams==3.28.1 clickhouse-connect==1.12.0 msgspec==0.22.0 xxhash==4.1.0
$(PEER)/.installed: Makefile
	$(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q $(PEER_PACKAGES)
	touch $@

## 1, 5 and 20 million live journeys through the worker and its store: memory, bytes per
## journey on disk and in the changelog, restart to first insert (not part of the test command).
bench-state: install
	$(BIN)/python -m tests.bench.bench_state --journeys 1000000,5000000,20000000

## An hour of calibrated live traffic at 1,000 events/s: memory of every process, lag,
## freshness and ClickHouse parts over time, plots in build/ (not part of the test command).
MINUTES ?= 60
soak: install
	$(BIN)/python -m tests.bench.soak --minutes $(MINUTES) --rate 1000

## `journey verify`'s checks, whole, by offsets and by window, as the topic doubles: peak memory
## and time of each (not part of the test command).
bench-verify: install
	$(BIN)/python -m tests.bench.bench_verify --events 160000

## Every named query on three years of rollups at 10 billion interactions a year, and every
## page drawn in headless Chromium (not part of the test command).
bench-queries: install
	$(BIN)/python -m tests.bench.bench_queries --browser

## The dashboard under 20 readers at once, beside one reader alone: page-draw p95 while
## browsing, all arriving together, and saturated (not part of the test command).
bench-dashboard: install
	$(BIN)/python -m tests.bench.bench_dashboard_load --readers 20
