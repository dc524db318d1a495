# neuralnet: `make demo` runs the lecture's tutorial, `make test` runs the test suite.
# Both create .venv on first use and install what they need into it.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast bench lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.installed-plot: pyproject.toml | $(PY)
	$(PIP) -e '.[plot]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) -e '.[dev]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) -e '.[bench]'
	touch $@

demo: $(VENV)/.installed-plot
	$(PY) examples/spiral_tutorial.py --out out
	$(VENV)/bin/neuralnet demo --out out/demo

test: $(VENV)/.installed-dev
	$(PY) -m pytest

test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -m "not slow"

# Benchmarks unset the OpenBLAS overrides some machines set (they halve NumPy's matmul speed),
# for every framework alike.
bench: $(VENV)/.installed-bench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run.py

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check src tests examples benchmarks
	$(PY) -m ruff format --check src tests examples benchmarks

format: $(VENV)/.installed-dev
	$(PY) -m ruff format src tests examples benchmarks

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
