# The README's commands. Each bootstraps its own virtual environment in .venv on first use
# (needs only Python >= 3.11 and make), pinned by requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: demo test fuzz serve proto lint bench bench-quick bench-engine clean

demo: $(READY)  ## start the service on the demo network, route a sample of the day through it
	$(BIN)/omniroute demo

serve: $(READY)  ## a long-running server on the demo network (Ctrl-C or SIGTERM to stop)
	@test -f .omniroute/demo/network.json || $(BIN)/omniroute demo-data --out .omniroute/demo
	$(BIN)/omniroute serve --db .omniroute/serve.db --network .omniroute/demo/network.json --port $(or $(PORT),50051)

TEST_WORKERS ?= 2
test: $(READY)  ## run the whole test suite (TEST_WORKERS=2 pytest processes; 0 for one)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

fuzz: $(READY)  ## fuzz every RPC and the CLI's file loaders, ten times as long as in make test
	OMNIROUTE_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest tests/server/test_fuzz.py

proto: $(READY)  ## regenerate the Python modules from proto/omniroute/v1/*.proto
	$(BIN)/python -m omniroute.server.proto_gen

lint: $(READY)  ## ruff (lint, format) and mypy over every package
	$(BIN)/ruff check engine server ledger tests benchmarks examples tools
	$(BIN)/ruff format --check engine server ledger tests benchmarks examples tools
	$(BIN)/python tools/typecheck.py

bench: $(READY)  ## the whole benchmark suite (throughput vs the ceiling, peak day, quality)
	$(BIN)/python -m benchmarks.suite --mode full

bench-quick: $(READY)  ## the suite in about 5-9 minutes
	$(BIN)/python -m benchmarks.suite --mode quick

bench-engine: $(READY)  ## the engine benchmark (optimiser vs baseline vs naive CP-SAT)
	$(BIN)/python -m benchmarks.engine_bench

$(READY): pyproject.toml requirements.lock setup.py engine/_core.cpp engine/_exact.cpp
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "omniroute needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(READY)

clean:
	rm -rf $(VENV) .omniroute .pytest_cache
