#!/bin/sh
# Regenerate the synthetic fixture adapters and every golden file.
# Run from anywhere; paths recorded in the goldens are relative to the repo root.
set -eu
cd "$(dirname "$0")/.."
G=Tests/Fixtures/golden
S=Tests/Fixtures/synthetic
mkdir -p "$G"

python3 scripts/make_synthetic_adapters.py --out "$S"

python3 scripts/reference_distances.py --quiet --out "$G/minilm-glue8.json" \
  examples/minilm-glue8/adapters/cola examples/minilm-glue8/adapters/mrpc \
  examples/minilm-glue8/adapters/rte examples/minilm-glue8/adapters/sst2 \
  examples/minilm-glue8/adapters/emotion examples/minilm-glue8/adapters/hate \
  examples/minilm-glue8/adapters/irony examples/minilm-glue8/adapters/offensive

python3 scripts/reference_distances.py --quiet --out "$G/synthetic-mixed.json" \
  $S/t_r8 $S/t_r4 $S/t_r16_rslora $S/t_bf16_patterns $S/t_near $S/t_zero_b $S/t_rankdef

python3 scripts/reference_distances.py --quiet --out "$G/synthetic-query-only.json" \
  $S/t_r8 $S/t_query_only $S/bare_r8.safetensors

# tvgeo merge --method cat / svd of t_r8 (F32) and t_r4 (F64), dense NumPy: a second.
python3 scripts/reference_merge.py --out "$G/merge-synthetic.json" $S/t_r8 $S/t_r4 2>/dev/null

# The real data committed for the tests (Tests/Fixtures/real/README.md).
R=Tests/Fixtures/real

# Full fine-tuning task vectors of the MiniLM checkpoints (tvgeo analyze --base): seconds.
python3 scripts/reference_fullft.py --base $R/minilm-fullft/base.safetensors --out "$G/minilm-fullft.json" \
  $R/minilm-fullft/sst2 $R/minilm-fullft/emotion $R/minilm-fullft/irony

# The slow one (dense 2304x768 c_attn SVDs): a few minutes.
python3 scripts/reference_distances.py --quiet --out "$G/gpt2-third-party.json" \
  $R/third-party/gpt2/appreviews_gurvineet_epoch1 \
  $R/third-party/gpt2/appreviews_gurvineet_epoch2 \
  $R/third-party/gpt2/appreviews_gurvineet_epoch3 \
  $R/third-party/gpt2/medqpairs_deepbiolab_attn_mlp

# The study goldens (maps, correlations) read the distance goldens above.
sh scripts/make_study_goldens.sh

# LoRA beside full fine-tuning (issue 17): cross-kind cosine and Grassmann distances, matching, the Mantel
# agreement of the two kinds' maps and intruder dimensions of the MiniLM tasks both kinds have; dense, seconds.
python3 scripts/reference_crosskind.py --base $R/minilm-fullft/base.safetensors \
  --fft $R/minilm-fullft/sst2 $R/minilm-fullft/emotion $R/minilm-fullft/irony \
  --lora examples/minilm-glue8/adapters/sst2 examples/minilm-glue8/adapters/emotion examples/minilm-glue8/adapters/irony \
  --scores $R/minilm-fullft/scores.csv --lora-scores examples/minilm-glue8/scores.csv --out "$G/minilm-crosskind.json"
