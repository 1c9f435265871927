# tvgeo — the two commands:
#   make demo   install what is missing, build in release mode, analyse the embedded example
#   make test   install what is missing, run the whole test suite
SWIFT ?= swift
EXAMPLE := examples/minilm-glue8/adapters
TASKS := cola mrpc rte sst2 emotion hate irony offensive

.PHONY: demo test deps build clean goldens

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product tvgeo

demo: build
	.build/release/tvgeo analyze $(addprefix $(EXAMPLE)/,$(TASKS)) --scores examples/minilm-glue8/scores.csv --name minilm-glue8

test: deps
	$(SWIFT) test --parallel

# Regenerates the SciPy reference files the tests compare against (needs numpy and scipy).
goldens:
	bash scripts/make_goldens.sh

clean:
	rm -rf .build output/minilm-glue8

# Merges three example adapters with each method and checks the folders with PEFT itself
# (needs torch and peft; prints "skipped" without them). Not part of `make test`.
.PHONY: check-peft
check-peft: build
	for method in comb cat svd; do \
	  .build/release/tvgeo merge --quiet --all-pairs --method $$method $(addprefix $(EXAMPLE)/,cola mrpc rte) --out output/merge-check/$$method && \
	  python3 scripts/check_peft_merge.py output/merge-check/$$method || exit 1; \
	done

# Benchmarks tvgeo against naive and low-rank NumPy (benchmarks/README.md); needs numpy and scipy.
.PHONY: bench
bench: build
	python3 benchmarks/run_bench.py
