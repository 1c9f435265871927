#!/usr/bin/env python3
"""The naive NumPy/SciPy path: what a researcher writes first.

    python3 benchmarks/naive_numpy.py DIR... --out FILE.json [--quiet]

For every (module, layer) block it materialises each adapter's dense
ΔW = s·B·A in float64 and, for every pair i < j (the matrices are symmetric, so
the lower triangle is mirrored):
  l2          np.linalg.norm(ΔW_i − ΔW_j)
  cosine      1 − np.vdot(ΔW_i, ΔW_j) / (‖ΔW_i‖‖ΔW_j‖), clipped to [0, 2]
  grassmann   sqrt(Σθ²), θ = scipy.linalg.subspace_angles(ΔW_i, ΔW_j)
  grassmann_b the same on B_i, B_j;  grassmann_a on A_iᵀ, A_jᵀ
Undefined values (a zero ΔW, a numerically-zero subspace by SciPy's orth rule)
are null.  subspace_angles orthonormalises both arguments (an SVD of the dense
d_out × d_in matrix) on every call: that is the point of this baseline.

The output has the layout of tvgeo's metrics.json "distances" (plus "tasks",
"modules").  Intended for the small `seed` workload only: it is slow.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import scipy
import scipy.linalg

import lora_io
from lora_io import METRICS


def has_subspace(X: np.ndarray) -> bool:
    """False when SciPy's orth rule finds rank 0 (then the distance is null)."""
    return bool(np.any(X)) and scipy.linalg.orth(X).shape[1] > 0


def grassmann(X: np.ndarray, Y: np.ndarray):
    theta = scipy.linalg.subspace_angles(X, Y)
    return float(math.sqrt(float(np.sum(theta * theta))))


def block_matrices(factors, scales):
    n = len(factors)
    dws = [s * (B @ A) for (A, B), s in zip(factors, scales)]
    norms = [float(np.linalg.norm(w)) for w in dws]
    out = {m: [[None] * n for _ in range(n)] for m in METRICS}
    defined = {"grassmann": [has_subspace(w) for w in dws],
               "grassmann_b": [has_subspace(B) for _A, B in factors],
               "grassmann_a": [has_subspace(A.T) for A, _B in factors]}
    for i in range(n):
        out["l2"][i][i] = 0.0
        if norms[i] > 0:
            out["cosine"][i][i] = 0.0
        for g in defined:
            if defined[g][i]:
                out[g][i][i] = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            vals = {"l2": float(np.linalg.norm(dws[i] - dws[j]))}
            if norms[i] == 0.0 or norms[j] == 0.0:
                vals["cosine"] = None
            else:
                c = 1.0 - float(np.vdot(dws[i], dws[j])) / (norms[i] * norms[j])
                vals["cosine"] = min(max(c, 0.0), 2.0)
            (Ai, Bi), (Aj, Bj) = factors[i], factors[j]
            for g, X, Y in (("grassmann", dws[i], dws[j]), ("grassmann_b", Bi, Bj),
                            ("grassmann_a", Ai.T, Aj.T)):
                vals[g] = grassmann(X, Y) if defined[g][i] and defined[g][j] else None
            for m, v in vals.items():
                out[m][i][j] = out[m][j][i] = v
    return out


def run(paths, quiet=False):
    adapters, tasks, modules, plan = lora_io.study_plan(paths)
    distances = {m: {} for m in METRICS}
    total = sum(len(v) for v in plan.values())
    done, t0 = 0, time.perf_counter()
    for mod in modules:
        per_layer = {m: [] for m in METRICS}
        for layer, key in plan[mod]:
            factors = [ad.factors(key) for ad in adapters]
            mats = block_matrices(factors, [ad.scale for ad in adapters])
            for m in METRICS:
                per_layer[m].append(mats[m])
            done += 1
            if not quiet:
                el = time.perf_counter() - t0
                print(f"naive: {mod} layer {layer} ({done}/{total}, {el:.0f} s, "
                      f"~{el / done * (total - done):.0f} s left)", file=sys.stderr, flush=True)
        for m in METRICS:
            distances[m][mod] = {
                "layer_ids": [layer for layer, _ in plan[mod]],
                "layers": per_layer[m],
                "mean": lora_io.layer_mean(per_layer[m]),
            }
    for ad in adapters:
        ad.close()
    return tasks, modules, distances


def main(argv=None) -> int:
    return lora_io.run_cli(__doc__, run, f"benchmarks/naive_numpy.py (numpy {np.__version__}, scipy {scipy.__version__})", argv)


if __name__ == "__main__":
    sys.exit(main())
