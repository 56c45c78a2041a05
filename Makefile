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

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bounds sampler verification

pytest: install
	$(PY) -m pytest -p no:cacheprovider --doctest-modules \
	  tests --pyargs netcoreset.bounds netcoreset.sampler netcoreset.verification

docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: HTML in docs/_build/html (warnings are errors)"

docs-test: install
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	$(VENV)/bin/sphinx-build -W --keep-going -q -b doctest docs docs/_build/doctest
	@echo "docs: HTML built and doctests passed (warnings are errors)"

# Offline render check: the HTML (which publishes its own MathJax, never a CDN) rendered by
# headless Chromium with no network; pages go to docs/_build/screenshots/*.png and the DOM dump
# must show typeset formulas (<mjx-container>) and no MathJax errors. Installs Chromium
# (apt-get) when missing.
docs-check: docs
	@set -euo pipefail; root="$(CURDIR)"; out="$$root/docs/_build"; \
	sudo=""; if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo -n"; fi; \
	chrome="$$(command -v chromium || command -v chromium-browser || true)"; \
	if [ -z "$$chrome" ]; then \
	  echo "installing chromium (apt-get)"; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium >/dev/null; \
	  chrome="$$(command -v chromium)"; \
	fi; \
	mkdir -p "$$out/screenshots"; status=0; \
	for page in index theory/guarantee theory/derivation-checks; do \
	  name="$$(echo $$page | tr / -)"; \
	  for mode in "--screenshot=$$out/screenshots/$$name.png" --dump-dom; do \
	    prof="$$(mktemp -d)"; \
	    timeout 120 "$$chrome" --headless --no-sandbox --disable-gpu --disable-quic \
	      --no-first-run --disable-background-networking --disable-component-update \
	      --disable-sync --user-data-dir="$$prof" \
	      --virtual-time-budget=10000 --window-size=1280,2000 $$mode \
	      "file://$$out/html/$$page.html" > "$$out/screenshots/$$name.html" 2>/dev/null; \
	    rm -rf "$$prof"; \
	  done; \
	  ntex=$$({ grep -o '<mjx-container\|class="MathJax"\|class="MathJax_CHTML"' "$$out/screenshots/$$name.html" || true; } | wc -l); \
	  nerr=$$({ grep -o 'data-mjx-error\|<mjx-merror\|class="merror"' "$$out/screenshots/$$name.html" || true; } | wc -l); \
	  echo "$$page: $$ntex typeset formulas, $$nerr MathJax errors -> docs/_build/screenshots/$$name.png"; \
	  if [ "$$ntex" -eq 0 ] || [ "$$nerr" -ne 0 ] || [ ! -s "$$out/screenshots/$$name.png" ]; then status=1; fi; \
	done; \
	exit $$status

# pytest last, so that its summary line closes the output
test: lint docs-test pytest

bench: install
	$(PY) benchmarks/run.py --out bench-results/bench.json

clean:
	rm -rf build dist *.egg-info docs/_build bench-results demo-output .pytest_cache .ruff_cache
