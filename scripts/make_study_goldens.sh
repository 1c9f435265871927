#!/bin/sh
# Regenerate the synthetic scores CSV, both study goldens and the prediction goldens (a few seconds).
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

# What predicts the merge loss (per-layer ρ, Holm, leave-one-task-out ridge, select-best, every
# pair's prediction), on the example with all its scores and with half of the merges dropped.
python3 scripts/reference_prediction.py \
  --distances "$G/minilm-glue8.json" --scores examples/minilm-glue8/scores.csv \
  --out "$G/minilm-glue8-prediction.json"

python3 scripts/reference_prediction.py \
  --distances "$G/minilm-glue8.json" --scores examples/minilm-glue8/scores.csv \
  --drop-merges 0.5 --drop-seed 18 --write-scores "$G/minilm-glue8-scores-half.csv" \
  --out "$G/minilm-glue8-prediction-half.json"
