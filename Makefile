# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help demo test lint typecheck unit stop bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP) ## start the embedded stack and archive the example accounts for 3 simulated days
	$(BIN)/archiver demo --days 3

test: $(STAMP) lint typecheck ## lint, type-check and run the whole test suite (end-to-end included)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP) ## mypy (strict on archiver/)
	$(BIN)/mypy

unit: $(STAMP) ## the fast tests only
	$(BIN)/python -m pytest -m "not slow"

stop: $(STAMP) ## stop the demo stack
	$(BIN)/archiver stack down

bench: $(STAMP) ## benchmarks (figures and ratios, no assertions)
	$(BIN)/python bench/normalise.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/detect.py

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) var
