# Two commands for a new user: `make serve` (the web app on the embedded SQLite default, with demo data) and
# `make test`. `make demo` runs a whole simulated trial from the command line.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve demo test test-fast check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "magtrial needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/magtrial serve --demo

demo: $(STAMP)
	$(BIN)/magtrial demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The inner loop: everything but the slow files and tests (the list is SLOW_FILES in tests/conftest.py).
test-fast: $(STAMP)
	$(BIN)/python -m pytest --fast

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks validation scripts
	$(BIN)/ruff format --check src tests benchmarks validation scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
