#!/usr/bin/env python3
"""Independent NumPy/SciPy reference for issue 17: LoRA beside full fine-tuning.

Dense and direct on purpose (every ΔW = s·B·A and τ = W_t − W_0 formed, full SVDs), so that it shares
nothing with tvgeo's low-rank path. It prints one JSON document laid out as the issue's `crosskind` and
`intruders` blocks of metrics.json, plus `kind_scores` when both score files are given.

Definitions (per module and layer):
  cosine distance    1 − ⟨ΔW_i, τ_j⟩_F / (‖ΔW_i‖_F ‖τ_j‖_F), LoRA task i (rows) against f-FT task j (columns)
  Grassmann distance √Σθ² between Im(ΔW_t) (dimension r = rank of the LoRA block) and the span of the top-r
                     left singular vectors of τ_t (same task only; θ from scipy.linalg.subspace_angles)
  matching           share of LoRA tasks whose nearest f-FT update (layer-mean cosine distance) is their own
  agreement          Spearman between the upper triangles of the LoRA and f-FT layer-mean cosine-distance
                     matrices (each kind against itself), with a one-sided Mantel p-value: the share of row/column
                     permutations of the f-FT matrix whose Spearman is ≥ the observed one (identity included);
                     every permutation when N! ≤ 9 999, else 9 999 random ones (seed 0) plus the identity
  intruders          SVD of W_0 and of W_t = W_0 + ΔW (LoRA: s·B·A; f-FT: τ); a left singular vector y of W_t among
                     its top k is an intruder when max_x |cos(y, x)| < ε over all left singular vectors x of W_0

Usage:
  reference_crosskind.py --base BASE.safetensors --fft NAME=DIR... --lora NAME=DIR... [--k 10] [--epsilon 0.5]
                         [--scores FFT.csv] [--lora-scores LORA.csv] [--out FILE.json]
"""
import argparse
import itertools
import json
import math
import os
import re
import sys

import numpy as np
import scipy
from scipy import linalg, stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_distances import read_safetensors as load_file  # noqa: E402  (NumPy only, no safetensors package)

LAYER = re.compile(r"layer\.(\d+)\.attention\.self\.(query|value)\.")


def blocks(tensors, suffix):
    """{(module, layer): array} for tensor names ending in `suffix` (e.g. "weight", "lora_A.weight")."""
    found = {}
    for name, value in tensors.items():
        match = LAYER.search(name)
        if match and name.endswith("." + suffix):
            found[(match.group(2), int(match.group(1)))] = value.astype(np.float64)
    return found


def lora_updates(folder):
    """ΔW = s·B·A per (module, layer) of a PEFT folder (s = lora_alpha / r; no rank or alpha pattern here)."""
    with open(os.path.join(folder, "adapter_config.json")) as handle:
        config = json.load(handle)
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        sys.exit(f"{folder}: rank_pattern/alpha_pattern are not handled by this reference")
    scaling = config["lora_alpha"] / config["r"]
    tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
    a, b = blocks(tensors, "lora_A.weight"), blocks(tensors, "lora_B.weight")
    return {key: scaling * b[key] @ a[key] for key in a}, {key: a[key].shape[0] for key in a}


def fft_updates(folder, base):
    tensors = blocks(load_file(os.path.join(folder, "model.safetensors")), "weight")
    return {key: tensors[key] - base[key] for key in base}


def cosine_distance(x, y):
    return 1.0 - float(np.sum(x * y)) / (np.linalg.norm(x) * np.linalg.norm(y))


def grassmann(update, tau, rank):
    u, _, _ = np.linalg.svd(update, full_matrices=False)
    v, _, _ = np.linalg.svd(tau, full_matrices=False)
    angles = linalg.subspace_angles(u[:, :rank], v[:, :rank])
    return math.sqrt(float(np.sum(angles ** 2)))


def intruder_count(base_vectors, weight, k, epsilon):
    y, _, _ = np.linalg.svd(weight, full_matrices=False)
    similarity = np.abs(y[:, :k].T @ base_vectors)  # unit vectors: |cos| is |inner product|
    return int(np.sum(similarity.max(axis=1) < epsilon))


def upper(matrix):
    rows, columns = np.triu_indices(matrix.shape[0], k=1)
    return matrix[rows, columns]


def mantel(lora, fft, permutations=9999, seed=0):
    observed = stats.spearmanr(upper(lora), upper(fft)).statistic
    n = lora.shape[0]
    if math.factorial(n) <= permutations:
        orders = [list(order) for order in itertools.permutations(range(n))]
    else:
        generator = np.random.default_rng(seed)
        orders = [list(range(n))] + [list(generator.permutation(n)) for _ in range(permutations)]
    at_least = sum(stats.spearmanr(upper(lora), upper(fft[np.ix_(order, order)])).statistic >= observed - 1e-12
                   for order in orders)
    return float(observed), at_least / len(orders)


def single_scores(path):
    scores = {}
    with open(path) as handle:
        header = handle.readline().strip().split(",")
        for line in handle:
            row = dict(zip(header, line.strip().split(",")))
            if row["model"] == row["task"]:
                scores[row["task"]] = float(row["score"])
    return scores


def named(pairs):
    return [tuple(pair.split("=", 1)) if "=" in pair else (os.path.basename(pair.rstrip("/")), pair) for pair in pairs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--fft", nargs="+", required=True)
    parser.add_argument("--lora", nargs="+", required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--epsilon", type=float, default=0.5)
    parser.add_argument("--scores")
    parser.add_argument("--lora-scores")
    parser.add_argument("--out", help="JSON file to write (default: standard output)")
    options = parser.parse_args()

    base = blocks(load_file(options.base), "weight")
    fft = {name: fft_updates(folder, base) for name, folder in named(options.fft)}
    lora, ranks = {}, {}
    for name, folder in named(options.lora):
        lora[name], ranks[name] = lora_updates(folder)
    tasks = [name for name, _ in named(options.lora) if name in fft]
    modules = sorted({module for module, _ in base})
    layers = {module: sorted(layer for m, layer in base if m == module) for module in modules}

    crosskind = {"tasks": tasks, "cosine": {}, "grassmann": {}, "agreement": {"cosine": {}}}
    for module in modules:
        ids = layers[module]
        cross = np.array([[[cosine_distance(lora[i][(module, layer)], fft[j][(module, layer)]) for j in tasks]
                           for i in tasks] for layer in ids])
        mean = cross.mean(axis=0)
        matching = float(np.mean([int(np.argmin(mean[row])) == row for row in range(len(tasks))]))
        crosskind["cosine"][module] = {
            "layer_ids": ids,
            "per_task": {task: {"layers": [float(value) for value in cross[:, index, index]],
                                "mean": float(mean[index, index])} for index, task in enumerate(tasks)},
            "matrix": mean.tolist(), "matching": matching}
        crosskind["grassmann"][module] = {"layer_ids": ids, "per_task": {}}
        for task in tasks:
            values = [grassmann(lora[task][(module, layer)], fft[task][(module, layer)], ranks[task][(module, layer)])
                      for layer in ids]
            crosskind["grassmann"][module]["per_task"][task] = {"layers": values, "mean": float(np.mean(values))}
        within = {kind: np.array([[np.mean([cosine_distance(updates[i][(module, layer)], updates[j][(module, layer)])
                                            for layer in ids]) if i != j else 0.0 for j in tasks] for i in tasks])
                  for kind, updates in (("lora", lora), ("fft", fft))}
        spearman, p = mantel(within["lora"], within["fft"])
        crosskind["agreement"]["cosine"][module] = {"spearman": spearman, "mantel_p": p}

    intruders = {"k": options.k, "epsilon": options.epsilon, "lora": {}, "fft": {}}
    for module in modules:
        base_vectors = {layer: np.linalg.svd(base[(module, layer)], full_matrices=False)[0] for layer in layers[module]}
        for kind, updates in (("lora", lora), ("fft", fft)):
            intruders[kind][module] = {
                task: [intruder_count(base_vectors[layer], base[(module, layer)] + updates[task][(module, layer)],
                                      options.k, options.epsilon) for layer in layers[module]]
                for task in tasks}

    document = {"schema": "tvgeo.golden-crosskind/1",
                "generator": f"scripts/reference_crosskind.py (numpy {np.__version__}, scipy {scipy.__version__})",
                "base": options.base, "fft": options.fft, "lora": options.lora,
                "crosskind": crosskind, "intruders": intruders}
    if options.scores and options.lora_scores:
        fft_scores, lora_scores = single_scores(options.scores), single_scores(options.lora_scores)
        document["kind_scores"] = {task: {"fft": fft_scores.get(task), "lora": lora_scores.get(task)} for task in tasks}
    text = json.dumps(document, indent=1) + "\n"
    if options.out:
        with open(options.out, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
