# The two commands of the README: `make demo` and `make test`. Each sets up .venv by itself on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format bench bench-parse bench-store bench-import bench-app bench-compare bench-soak bench-storage clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/meter-tui --demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bench-parse bench-store bench-import bench-app bench-compare

bench-parse: $(STAMP)
	$(BIN)/python bench/parse_bench.py

bench-store: $(STAMP)
	$(BIN)/python bench/store_bench.py

bench-import: $(STAMP)
	$(BIN)/python bench/import_bench.py

bench-compare: $(STAMP)
	$(BIN)/python bench/compare_bench.py

bench-app: $(STAMP)
	$(BIN)/python bench/app_bench.py

# Not part of `make bench`: a million telegrams take about six minutes.
bench-soak: $(STAMP)
	$(BIN)/python bench/soak.py

# Not part of `make bench` either: a week of one-second telegrams recorded takes about five minutes.
bench-storage: $(STAMP)
	$(BIN)/python bench/storage_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
