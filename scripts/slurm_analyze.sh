#!/usr/bin/env bash
# A Slurm job array for a tvgeo study split into parts: one array task per part, then one combine job
# that starts when every part succeeded (afterok). Untested here (no Slurm on the CI machines); it uses
# the same commands as scripts/ray_analyze.py, documented in docs/distributed.md.
#
#   scripts/slurm_analyze.sh PARTS OUT ADAPTER...      (submit from a folder every node sees)
#
# Environment: TVGEO (the binary, default: tvgeo on PATH), SCORES (a scores CSV for combine),
# SBATCH_FLAGS (extra sbatch options, e.g. "--partition=cpu --time=02:00:00 --cpus-per-task=16").
# A failed array task can be resubmitted alone (sbatch --array=K ...): parts are idempotent.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTS OUT ADAPTER..." >&2
    exit 64
fi
parts=$1 out=$2
shift 2
tvgeo=$(command -v "${TVGEO:-tvgeo}") || { echo "$0: no tvgeo binary (set TVGEO)" >&2; exit 66; }
work="$out.parts"
mkdir -p "$work/logs"
# Absolute adapter paths: array tasks may start in another folder. (A name=path argument is passed as it is.)
adapters=()
for adapter in "$@"; do
    if [ -e "$adapter" ]; then adapters+=("$(realpath "$adapter")"); else adapters+=("$adapter"); fi
done
quoted=$(printf '%q ' "${adapters[@]}")

# shellcheck disable=SC2086  # SBATCH_FLAGS is a list of options
array=$(sbatch --parsable ${SBATCH_FLAGS:-} --array="1-$parts" --job-name=tvgeo-part --output="$work/logs/part-%a.log" \
    --wrap="$tvgeo analyze --quiet $quoted --part \$SLURM_ARRAY_TASK_ID/$parts --out $work/part-\$SLURM_ARRAY_TASK_ID-of-$parts")
scores=${SCORES:+--scores $(printf '%q' "$(realpath "$SCORES")")}
folders=$(for k in $(seq 1 "$parts"); do printf '%q ' "$work/part-$k-of-$parts"; done)
# shellcheck disable=SC2086
sbatch ${SBATCH_FLAGS:-} --dependency="afterok:$array" --job-name=tvgeo-combine --output="$work/logs/combine.log" \
    --wrap="$tvgeo combine --quiet $folders --out $(printf '%q' "$out") $scores"
echo "submitted parts as array job $array; the combine job writes $out when all $parts parts succeed"
