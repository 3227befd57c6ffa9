# Two commands on a fresh machine: `make run` serves the API, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format bench bench-peers bench-panel screenshot demo-data rebuild-rollups clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## embedded DB (unless MONGODB_URL answers) + demo data if empty + API on :8000
	$(PY) -m app.dev.launch

# Tests fit in-process with one BLAS/OpenMP thread, as the service's worker does: with two, on a
# busy 2-core machine, the statsmodels fits of the forecast tests took 5 to 12 times longer.
test: lint  ## lint (ruff, mypy, import rules), then the whole suite against an in-process SecantusDB
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q

test-fast: $(STAMP)  ## while working: ruff, then the tests not marked slow (under a minute)
	$(VENV)/bin/ruff check .
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## figures of docs/benchmarks.md; SIZES="50000 1000000" by default
	$(PY) -m bench.service $(if $(SIZES),--sizes $(SIZES),)
	$(PY) -m bench.anomaly --service-sizes 100000 1000000
	$(PY) -m bench.recommend --http-size 200000

# The forecast panel's peers (statsforecast, Prophet) need pandas < 3: a virtual environment of
# their own, run by bench/forecast_panel.py as a subprocess; the service never imports them.
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

$(PEERS_STAMP): requirements-peers.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-peers.txt
	touch $(PEERS_STAMP)

bench-peers: $(PEERS_STAMP)  ## the peers' virtual environment (.venv-peers) for the forecast panel

bench-panel: $(BENCH_STAMP) $(PEERS_STAMP)  ## the forecast panel (docs/benchmarks.md); ARGS="--quick"
	$(PY) -m bench.datasets.ddop_shops --prepare
	$(PY) -m bench.forecast_panel $(ARGS)

screenshot: $(STAMP)  ## the page on demo data: docs/img/ui.png (and ui-phone.png), and its timings
	$(PY) -m bench.ui

demo-data: $(STAMP)  ## rewrite the demo data (drops the three collections first)
	$(PY) -m app.dev.demo --drop

rebuild-rollups: $(STAMP)  ## aggregate the rollups over the whole window again (service stopped)
	$(PY) -m app.dev.rollups

clean:
	rm -rf $(VENV) $(PEERS_VENV) data logs
