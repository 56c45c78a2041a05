# netcoreset: two commands do everything on a fresh machine: `make demo` and `make test`.
# Every target creates or reuses .venv, installs the CPU torch wheel when torch is missing,
# then the package itself (non-editable, so tests exercise what users install).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.deps-stamp

# torch with 2 threads is pathologically slow on these machines.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg

.PHONY: venv deps install demo test lint pytest docs docs-test docs-check bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

# Dependencies: the CPU torch wheel first (an unpinned torch would pull a multi-GB CUDA build),
# then everything pyproject.toml asks for. Redone only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q --upgrade pip setuptools wheel
	@if $(PIP) show -q torch >/dev/null 2>&1; then echo "torch present: keeping it"; \
	 else $(PIP) install -q "$(TORCH_PIN)"; fi
	$(PIP) install -q ".[dev,docs]"
	touch $(STAMP)

deps: $(STAMP)

# The package itself, non-editable, reinstalled every time (seconds).
install: $(STAMP)
	$(PIP) install -q --no-deps --no-build-isolation --force-reinstall .
	@rm -rf build *.egg-info

demo: install
	$(VENV)/bin/netcoreset demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

pytest: install
	$(PY) -m pytest -p no:cacheprovider --doctest-modules \
	  tests --pyargs netcoreset.bounds netcoreset.sampler netcoreset.verification

docs: install
	@if [ -f docs/conf.py ]; then \
	  $(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html; \
	else echo "no docs/conf.py yet"; fi

docs-test: install
	@if [ -f docs/conf.py ]; then \
	  $(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html && \
	  $(VENV)/bin/sphinx-build -W --keep-going -q -b doctest docs docs/_build/doctest; \
	else echo "no docs/conf.py yet"; fi

test: lint pytest docs-test

bench: install
	$(PY) benchmarks/run.py --out bench-results/bench.json

clean:
	rm -rf build dist *.egg-info docs/_build bench-results demo-output .pytest_cache .ruff_cache
