# tvgeo — the two commands:
#   make demo   install what is missing, build in release mode, write the report of the embedded example
#   make test   install what is missing (with Chromium and pdflatex for the end-to-end checks), run every test
SWIFT ?= swift
EXAMPLE := examples/minilm-glue8/adapters
TASKS := cola mrpc rte sst2 emotion hate irony offensive

.PHONY: demo test deps test-deps build clean goldens analyze-demo

deps:
	@bash scripts/install-deps.sh

test-deps:
	@bash scripts/install-deps.sh --test

# The Swift runtime and Foundation are linked statically: a start-up without loading and
# relocating them is ~5 ms faster (a seventh of a short `analyze`), for an ~80 MB executable.
build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product tvgeo

demo: build
	.build/release/tvgeo report $(addprefix $(EXAMPLE)/,$(TASKS)) --scores examples/minilm-glue8/scores.csv --name minilm-glue8

# The numbers only (metrics.json, layers.safetensors and CSV), as `tvgeo analyze` writes them.
analyze-demo: build
	.build/release/tvgeo analyze $(addprefix $(EXAMPLE)/,$(TASKS)) --scores examples/minilm-glue8/scores.csv --name minilm-glue8-analysis

# Tests that cannot run a check (a missing Chromium, pdfinfo, pdflatex) are skipped and listed at
# the end; under CI (CI=true) they fail instead (Tests/Support/RequiredTools.swift).
test: SHELL := /bin/bash
test: test-deps
	@skips=$$(mktemp); status=0; \
	TVGEO_SKIP_LOG=$$skips $(SWIFT) test --parallel || status=$$?; \
	count=$$(wc -l < $$skips); echo "tvgeo: $$count test(s) skipped$$( [ $$count -gt 0 ] && echo ':')"; \
	sort $$skips | uniq -c | sed 's/^/  /'; rm -f $$skips; exit $$status

# Regenerates the SciPy reference files the tests compare against (needs numpy and scipy).
goldens:
	bash scripts/make_goldens.sh

clean:
	rm -rf .build output/minilm-glue8

# Merges three example adapters with each method (every ordered pair) and checks every block of every
# folder with PEFT itself, including PEFT's own add_weighted_adapter on a random BERT of the example's
# shape (scripts/check_peft_merge.py --peft-reference). Needs torch, peft and transformers in PYTHON
# (pinned: scripts/requirements-peft.txt); prints "skipped" without them, except under CI (CI set) or
# with CHECK_PEFT_FLAGS=--require, where that fails. Not part of `make test`; .ci/run runs it after it,
# in a venv of its own. TVGEO is the executable that merges: the release build (made first) unless
# another is named, e.g. TVGEO=.build/debug/tvgeo, the one `make test` builds.
PYTHON ?= python3
TVGEO ?= .build/release/tvgeo
CHECK_PEFT_FLAGS ?=
.PHONY: check-peft
check-peft: $(if $(filter .build/release/tvgeo,$(TVGEO)),build)
	for method in comb cat svd; do \
	  $(TVGEO) merge --quiet --all-pairs --method $$method $(addprefix $(EXAMPLE)/,cola mrpc rte) --out output/merge-check/$$method || exit 1; \
	done
	$(PYTHON) scripts/check_peft_merge.py --peft-reference $(CHECK_PEFT_FLAGS) $(addprefix output/merge-check/,comb cat svd)

# Benchmarks tvgeo against naive and low-rank NumPy (benchmarks/README.md); needs numpy and scipy.
.PHONY: bench
bench: build
	python3 benchmarks/run_bench.py

# The scaling table (issue 16): analyze, report and the low-rank NumPy peer on the `library` workload
# at each N (median of SCALING_REPEATS runs, peak RSS, output sizes, the dominant cost term);
# benchmarks/README.md. Generates ~2.2 GB of adapters under benchmarks/workloads/ on first use.
SCALING_N ?= 10,50,100,200,500,1000
SCALING_REPEATS ?= 3
SCALING_FLAGS ?=
.PHONY: bench-scaling
bench-scaling: build
	python3 benchmarks/run_bench.py --scaling $(SCALING_N) --repeats $(SCALING_REPEATS) $(SCALING_FLAGS)

# libFuzzer targets for the parsers (Fuzz/README.md). A separate package, so the sanitizer flags
# never touch the main build. Each target runs FUZZ_SECONDS on a scratch copy of its committed
# corpus (Fuzz/Corpus/<target>, not grown); crashes, leaks and timeouts go to Fuzz/Crashes/<target>/.
# Not part of `make test`. Fails at the end if any target found something.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= safetensors adapter-config json torch-bin scores-csv
FUZZ_FLAGS ?=
FUZZ_SCRATCH := Fuzz/.build/corpus
fuzz_binary_safetensors := FuzzSafetensors
fuzz_binary_adapter-config := FuzzAdapterConfig
fuzz_binary_json := FuzzJSON
fuzz_binary_torch-bin := FuzzTorchBin
fuzz_binary_scores-csv := FuzzScoresCSV
fuzz_max_len_safetensors := 65536
fuzz_max_len_adapter-config := 4096
fuzz_max_len_json := 4096
fuzz_max_len_torch-bin := 16384
fuzz_max_len_scores-csv := 4096

.PHONY: fuzz fuzz-build
fuzz-build:
	$(SWIFT) build --package-path Fuzz --scratch-path Fuzz/.build -c debug -Xswiftc -sanitize=fuzzer,address

fuzz: SHELL := /bin/bash
fuzz: fuzz-build
	@failed=""; \
	for target in $(FUZZ_TARGETS); do \
	  case $$target in \
	    safetensors) bin=$(fuzz_binary_safetensors); len=$(fuzz_max_len_safetensors);; \
	    adapter-config) bin=$(fuzz_binary_adapter-config); len=$(fuzz_max_len_adapter-config);; \
	    json) bin=$(fuzz_binary_json); len=$(fuzz_max_len_json);; \
	    torch-bin) bin=$(fuzz_binary_torch-bin); len=$(fuzz_max_len_torch-bin);; \
	    scores-csv) bin=$(fuzz_binary_scores-csv); len=$(fuzz_max_len_scores-csv);; \
	    *) echo "unknown fuzz target $$target"; exit 2;; \
	  esac; \
	  rm -rf $(FUZZ_SCRATCH)/$$target && mkdir -p $(FUZZ_SCRATCH)/$$target Fuzz/Crashes/$$target && \
	  cp Fuzz/Corpus/$$target/* $(FUZZ_SCRATCH)/$$target/ && \
	  echo "== fuzz $$target ($$bin, $(FUZZ_SECONDS) s, max_len $$len)" && \
	  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 Fuzz/.build/debug/$$bin $(FUZZ_SCRATCH)/$$target \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=$$len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=Fuzz/Crashes/$$target/ $(FUZZ_FLAGS) \
	    2>&1 | tee Fuzz/.build/fuzz-$$target.log | grep --line-buffered -v '^#[0-9].*\(NEW\|REDUCE\|pulse\)'; \
	  status=$${PIPESTATUS[0]}; [ "$$status" = 0 ] || failed="$$failed $$target"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (see Fuzz/Crashes/)"; exit 1; fi

# Runs scripts/ray_analyze.py on a local Ray cluster (2 CPUs) and checks its metrics.json and CSVs against
# one `tvgeo analyze`, also with a part killed mid-run and retried (scripts/test_ray_driver.py). Needs ray
# in PYTHON (pinned: scripts/requirements-distributed.txt); .ci/run installs it into a venv of its own and
# runs this after check-peft. TVGEO as for check-peft.
.PHONY: check-ray
check-ray: $(if $(filter .build/release/tvgeo,$(TVGEO)),build)
	$(PYTHON) scripts/test_ray_driver.py --tvgeo $(TVGEO)
