#!/bin/sh
# Regenerate the synthetic scores CSV and both study goldens (a few seconds).
# Needs the distance goldens (scripts/make_goldens.sh) to exist already.
# Run from anywhere; paths recorded in the goldens are relative to the repo root.
set -eu
cd "$(dirname "$0")/.."
G=Tests/Fixtures/golden
S=Tests/Fixtures/synthetic

python3 scripts/reference_study.py make-scores \
  --distances "$G/synthetic-mixed.json" --out "$S/scores-mixed.csv"

python3 scripts/reference_study.py \
  --distances "$G/minilm-glue8.json" --scores examples/minilm-glue8/scores.csv \
  --out "$G/minilm-glue8-study.json"

python3 scripts/reference_study.py \
  --distances "$G/synthetic-mixed.json" --scores "$S/scores-mixed.csv" \
  --out "$G/synthetic-mixed-study.json"
