# Two commands for a fresh machine: `make demo` (the main job) and `make test` (everything).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint unit install shell clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# A shell with .venv active (handoffs, pytest... on PATH); `exit` leaves it.
shell: $(BIN)/.installed
	@echo "handoffs $$($(BIN)/handoffs --version | cut -d' ' -f2) in $(VENV); exit to leave"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" $${SHELL:-/bin/sh}

demo: $(BIN)/.installed
	$(BIN)/handoffs demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two processes by default (each test file on one of them); PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) handoffs.db handoffs.db-wal handoffs.db-shm
