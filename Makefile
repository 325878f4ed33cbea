# The README's commands. Each bootstraps its own virtual environment in .venv on first use
# (needs only Python >= 3.11 and make), pinned by requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: demo test serve proto lint bench-engine clean

demo: $(READY)  ## generate the demo network and a day of orders, plan them, print a summary
	$(BIN)/omniroute demo

test: $(READY)  ## run the whole test suite
	$(BIN)/python -m pytest

proto: $(READY)  ## regenerate the Python modules from proto/omniroute/v1/*.proto
	$(BIN)/python -m server.proto_gen

lint: $(READY)  ## ruff and mypy
	$(BIN)/ruff check engine server tests benchmarks
	$(BIN)/mypy

bench-engine: $(READY)  ## the engine benchmark (optimiser vs baseline vs naive CP-SAT)
	$(BIN)/python -m benchmarks.engine_bench

$(READY): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "omniroute needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(READY)

clean:
	rm -rf $(VENV) .omniroute .pytest_cache
