# The two commands of the README: `make demo` and `make test`. Each creates .venv if needed,
# installs hzforecast with what it needs, and runs.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs lint bench calibrate fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hzforecast run jiaozuo-2019 --paths 100000 --seed 20190128

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q

docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python benchmarks/trackrecord.py > docs/generated/trackrecord.md.tmp
	mv docs/generated/trackrecord.md.tmp docs/generated/trackrecord.md
	$(BIN)/python benchmarks/docs_outputs.py
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs built: docs/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

bench: $(STAMP) calibrate
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py > docs/generated/bench.md.tmp
	mv docs/generated/bench.md.tmp docs/generated/bench.md
	cat docs/generated/bench.md

# The growth model's calibration on sparse windows of real data (tables in docs/fitting.md)
calibrate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/calibrate.py --tables > docs/generated/calibration.md.tmp & pid=$$!; \
	$(BIN)/python benchmarks/calibrate.py --choose > docs/generated/calibration-choices.md.tmp \
		&& wait $$pid
	cat docs/generated/calibration.md.tmp docs/generated/calibration-choices.md.tmp \
		> docs/generated/calibration.md.all
	rm docs/generated/calibration.md.tmp docs/generated/calibration-choices.md.tmp
	mv docs/generated/calibration.md.all docs/generated/calibration.md

# The fuzz harness at full size: valid studies mutated field by field, loaded from real files and
# run (tests/fuzzing.py); the table goes to docs/robustness.md. Exits 1 if any case fails.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzzing --cases 2000 --seed 0 > docs/generated/fuzz.md.tmp
	mv docs/generated/fuzz.md.tmp docs/generated/fuzz.md
	cat docs/generated/fuzz.md

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
