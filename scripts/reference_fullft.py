#!/usr/bin/env python3
"""Dense NumPy/SciPy reference for full fine-tuning task vectors (tvgeo analyze --base).

    python3 scripts/reference_fullft.py --base BASE.safetensors --out GOLDEN.json [--k 8] [name=]CKPT.safetensors ...

For every 2-D weight `<path>.layer.<i>.attention.self.{query,value}.weight` of BASE: τ = W_t − W_0 as
stored (out × in), then per pair: l2 = ‖τ_i − τ_j‖_F, cosine = 1 − <τ_i, τ_j>/(‖τ_i‖‖τ_j‖), grassmann =
√Σθ² with θ = scipy.linalg.subspace_angles(U_i[:, :k_i], U_j[:, :k_j]) (U from np.linalg.svd, k_i = min(k,
numerical rank by SciPy's orth rule)), grassmann_a the same with the right singular vectors; grassmann_b
is null. Also per task vector: k, captured energy Σ_{m≤k}σ²/Σσ² and effective rank exp(H(σ/Σσ)).
Writes the layout of the distance goldens (tasks, modules, distances[metric][module] = layer_ids,
layers, mean) plus "spectra".
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import scipy
import scipy.linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_distances import read_safetensors  # noqa: E402

METRICS = ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a"]
MODULES = {"attention.self.query": "query", "attention.self.value": "value"}


def blocks(base: dict) -> list[tuple[str, int, str]]:
    out = []
    for name in base:
        parts = name.split(".")
        if parts[-1] != "weight" or len(base[name].shape) != 2:
            continue
        layer_index = next((i for i, p in enumerate(parts) if p.isdigit()), None)
        if layer_index is None:
            continue
        inner = ".".join(parts[layer_index + 1:-1])
        if inner in MODULES:
            out.append((MODULES[inner], int(parts[layer_index]), name))
    return sorted(out)


def leading(tau: np.ndarray, k: int):
    u, s, vt = np.linalg.svd(tau, full_matrices=False)
    tol = max(tau.shape) * np.finfo(float).eps * (s.max() if s.size else 0)
    rank = int((s > tol).sum())
    kk = min(k, rank)
    total = float((s ** 2).sum())
    p = s / s.sum() if s.sum() > 0 else s
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    spectrum = {"k": kk, "captured_energy": float((s[:kk] ** 2).sum() / total) if total > 0 else None,
                "effective_rank": float(np.exp(entropy)) if s.sum() > 0 else None}
    return u[:, :kk], vt[:kk].T, spectrum


def grassmann(x: np.ndarray, y: np.ndarray):
    if x.shape[1] == 0 or y.shape[1] == 0:
        return None
    return float(np.sqrt((scipy.linalg.subspace_angles(x, y) ** 2).sum()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args()
    specs = []
    for arg in args.checkpoints:
        name, _, path = arg.partition("=") if "=" in arg else ("", "", arg)
        specs.append((name or os.path.basename(os.path.dirname(path) if path.endswith("model.safetensors") else path).replace(".safetensors", ""), path))
    base = read_safetensors(args.base)
    tuned = [read_safetensors(p if p.endswith(".safetensors") else p + "/model.safetensors") for _, p in specs]
    tasks = [t for t, _ in specs]
    n = len(tasks)
    plan = blocks(base)
    modules = sorted({m for m, _, _ in plan})
    distances = {m: {mod: {"layer_ids": [], "layers": []} for mod in modules} for m in METRICS}
    spectra = {mod: {t: {"k": [], "captured_energy": [], "effective_rank": []} for t in tasks} for mod in modules}
    for module, layer, name in plan:
        w0 = base[name].astype(np.float64)
        taus = [t[name].astype(np.float64) - w0 for t in tuned]
        lead = [leading(tau, args.k) for tau in taus]
        for i, t in enumerate(tasks):
            for key in ("k", "captured_energy", "effective_rank"):
                spectra[module][t][key].append(lead[i][2][key])
        mats = {m: [[None] * n for _ in range(n)] for m in METRICS}
        for i in range(n):
            for j in range(n):
                if i == j:
                    mats["l2"][i][j] = 0.0
                    mats["cosine"][i][j] = 0.0 if np.linalg.norm(taus[i]) > 0 else None
                    mats["grassmann"][i][j] = 0.0 if lead[i][0].shape[1] else None
                    mats["grassmann_a"][i][j] = 0.0 if lead[i][1].shape[1] else None
                    continue
                mats["l2"][i][j] = float(np.linalg.norm(taus[i] - taus[j]))
                ni, nj = np.linalg.norm(taus[i]), np.linalg.norm(taus[j])
                mats["cosine"][i][j] = float(min(2, max(0, 1 - np.vdot(taus[i], taus[j]) / (ni * nj)))) if ni > 0 and nj > 0 else None
                mats["grassmann"][i][j] = grassmann(lead[i][0], lead[j][0])
                mats["grassmann_a"][i][j] = grassmann(lead[i][1], lead[j][1])
        for m in METRICS:
            distances[m][module]["layer_ids"].append(layer)
            distances[m][module]["layers"].append(mats[m])
    for m in METRICS:
        for mod in modules:
            layers = distances[m][mod]["layers"]
            mean = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(n):
                    vals = [L[i][j] for L in layers if L[i][j] is not None]
                    mean[i][j] = sum(vals) / len(vals) if vals else None
            distances[m][mod]["mean"] = mean
    doc = {"schema": "tvgeo.golden-fft/1", "generator": f"scripts/reference_fullft.py (numpy {np.__version__}, scipy {scipy.__version__})",
           "base": args.base, "inputs": [{"task": t, "path": p} for t, p in specs], "subspace_rank": args.k,
           "tasks": tasks, "modules": modules, "distances": distances, "spectra": spectra}
    with open(args.out, "w") as f:
        json.dump(doc, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
