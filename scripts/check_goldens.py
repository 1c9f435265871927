#!/usr/bin/env python3
"""Sanity checks for the golden files written by reference_distances.py.

    python3 scripts/check_goldens.py Tests/Fixtures/golden/*.json

For every golden it re-loads the recorded inputs and reports:
  * symmetry of every N×N matrix (the goldens compute (i,j) and (j,i) separately)
    and that diagonals are exactly 0.0 (or null) and nulls are symmetric;
  * grassmann vs grassmann_b on blocks where every A has full row rank
    (col(s·B·A) == col(B) then, so the two must agree up to rounding);
  * scipy.linalg.subspace_angles vs a careful version (cosines from
    svd(QaᵀQb), sines from svd of the residual, branch chosen per angle by
    cos² >= 0.5, with the mask aligned to the angle it belongs to);
  * for pairs named t_r8 / t_near: l2 against an accurate factorised
    evaluation of ΔW_i − ΔW_j (no cancellation), and the tiny angles.

It only reads; nothing is written.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import scipy.linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_distances as ref  # noqa: E402


def careful_angles(Qa: np.ndarray, Qb: np.ndarray) -> np.ndarray:
    """Principal angles, ascending, each from the better-conditioned branch."""
    C = Qa.T @ Qb
    cos = scipy.linalg.svdvals(C)  # descending cosines -> ascending angles
    if Qa.shape[1] >= Qb.shape[1]:
        R = Qb - Qa @ C
    else:
        R = Qa - Qb @ C.T
    sin = scipy.linalg.svdvals(R)[::-1]  # ascending sines -> ascending angles
    k = min(Qa.shape[1], Qb.shape[1])
    assert len(cos) == k and len(sin) == k
    use_sin = cos * cos >= 0.5
    return np.where(use_sin, np.arcsin(np.clip(sin, -1.0, 1.0)),
                    np.arccos(np.clip(cos, -1.0, 1.0)))


def scipy_like_angles(Qa: np.ndarray, Qb: np.ndarray) -> np.ndarray:
    """scipy.linalg.subspace_angles' own formula on precomputed orth() bases
    (identical arithmetic; lets us reuse the bases for the big GPT-2 blocks)."""
    C = Qa.T @ Qb
    sigma = scipy.linalg.svdvals(C)
    if Qa.shape[1] >= Qb.shape[1]:
        R = Qb - Qa @ C
    else:
        R = Qa - Qb @ C.T
    mask = sigma ** 2 >= 0.5
    mu_arcsin = np.arcsin(np.clip(scipy.linalg.svdvals(R), -1.0, 1.0)) if mask.any() else 0.0
    return np.where(mask, mu_arcsin, np.arccos(np.clip(sigma[::-1], -1.0, 1.0)))


def _orthonormal_ld(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis of a full-column-rank X by twice-repeated modified
    Gram-Schmidt in extended precision (np.longdouble)."""
    Q = np.array(X, dtype=np.longdouble)
    for _ in range(2):
        for k in range(Q.shape[1]):
            for m in range(k):
                Q[:, k] -= (Q[:, m] @ Q[:, k]) * Q[:, m]
            Q[:, k] /= np.sqrt(Q[:, k] @ Q[:, k])
    return Q


def tiny_grassmann_accurate(X: np.ndarray, Y: np.ndarray) -> float:
    """Grassmann distance for nearly equal full-column-rank subspaces of equal
    dimension: sum θ² = ‖Qy − Qx QxᵀQy‖_F² · (1 + O(θ²)), residual in extended
    precision; the O(θ²) term is below 1e-12 relative for θ ~ 1e-6."""
    Qx, Qy = _orthonormal_ld(X), _orthonormal_ld(Y)
    R = Qy - Qx @ (Qx.T @ Qy)
    sines = np.sqrt(np.maximum(np.linalg.eigvalsh(np.asarray(R.T @ R, dtype=np.float64)), 0.0))
    return math.sqrt(float(np.sum(np.arcsin(sines) ** 2)))


def check(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        g = json.load(fh)
    print(f"== {path}  tasks={g['tasks']}  modules={g['modules']}")
    n = len(g["tasks"])

    # 1. symmetry / diagonals / null pattern
    worst = {}
    for metric, mods in g["distances"].items():
        asym_abs = asym_rel = 0.0
        for mod, d in mods.items():
            for M in d["layers"] + [d["mean"]]:
                for i in range(n):
                    assert M[i][i] in (0.0, None), (metric, mod, i, M[i][i])
                    for j in range(n):
                        a, b = M[i][j], M[j][i]
                        assert (a is None) == (b is None), (metric, mod, i, j)
                        if a is None:
                            continue
                        assert a >= 0.0
                        diff = abs(a - b)
                        asym_abs = max(asym_abs, diff)
                        if max(a, b) > 0:
                            asym_rel = max(asym_rel, diff / max(a, b))
        worst[metric] = (asym_abs, asym_rel)
    for metric, (a, r) in worst.items():
        print(f"  symmetry {metric:12s} max|M-Mᵀ| = {a:.3e}  (relative {r:.3e})")
    print("  diagonals: all exactly 0.0 or null; null pattern symmetric")

    # reload the adapters for the recomputation checks
    specs = [(inp["task"], inp["path"]) for inp in g["inputs"]]
    adapters = [ref.load_adapter(t, p) for t, p in specs]
    names = ref.module_names(adapters)
    inv = {}
    for (stack, inlayer), name in names.items():
        inv[name] = (stack, inlayer)

    gb_max = 0.0
    gb_rel = 0.0
    ang_max = {k: 0.0 for k in ref.GRASSMANN_METRICS}
    dist_max = {k: 0.0 for k in ref.GRASSMANN_METRICS}
    dist_rel = {k: 0.0 for k in ref.GRASSMANN_METRICS}
    worst_where = {k: None for k in ref.GRASSMANN_METRICS}
    near_pairs = []
    near_rel = {k: 0.0 for k in ref.GRASSMANN_METRICS}
    margin_in, margin_out = math.inf, 0.0
    tasks = g["tasks"]
    if "t_r8" in tasks and "t_near" in tasks:
        near_pairs.append((tasks.index("t_r8"), tasks.index("t_near")))

    for mod in g["modules"]:
        stack, inlayer = inv[mod]
        for li, layer in enumerate(g["distances"]["l2"][mod]["layer_ids"]):
            facs = [ad.blocks[(stack, inlayer, layer)] for ad in adapters]
            subs = [ref.subspace_inputs(f) for f in facs]
            Q = {k: [scipy.linalg.orth(s[k]) for s in subs] for k in ref.GRASSMANN_METRICS}
            for kind in ref.GRASSMANN_METRICS:
                for ti, sub in enumerate(subs):
                    sv = scipy.linalg.svdvals(sub[kind])
                    if sv.size == 0 or sv[0] == 0.0:
                        continue
                    tol = max(sub[kind].shape) * np.finfo(float).eps * sv[0]
                    rk = int(np.sum(sv > tol))
                    assert rk == g["ranks"][mod][tasks[ti]][kind][li]
                    margin_in = min(margin_in, sv[rk - 1] / tol)
                    if rk < sv.size:
                        margin_out = max(margin_out, sv[rk] / tol)
            full_row_rank = all(np.linalg.matrix_rank(f.A) == f.A.shape[0] for f in facs)
            for kind in ref.GRASSMANN_METRICS:
                gold = g["distances"][kind][mod]["layers"][li]
                for i in range(n):
                    for j in range(n):
                        if i == j or gold[i][j] is None:
                            continue
                        qa, qb = Q[kind][i], Q[kind][j]
                        th_s = np.sort(scipy_like_angles(qa, qb))
                        th_c = np.sort(careful_angles(qa, qb))
                        ang_max[kind] = max(ang_max[kind], float(np.max(np.abs(th_s - th_c))))
                        d_c = math.sqrt(float(np.sum(th_c * th_c)))
                        diff = abs(gold[i][j] - d_c)
                        if diff > dist_max[kind]:
                            worst_where[kind] = (mod, layer, tasks[i], tasks[j], gold[i][j], d_c)
                        dist_max[kind] = max(dist_max[kind], diff)
                        if d_c > 0:
                            dist_rel[kind] = max(dist_rel[kind], diff / d_c)
            if full_row_rank:
                G = g["distances"]["grassmann"][mod]["layers"][li]
                Gb = g["distances"]["grassmann_b"][mod]["layers"][li]
                for i in range(n):
                    for j in range(n):
                        if G[i][j] is None or Gb[i][j] is None:
                            continue
                        diff = abs(G[i][j] - Gb[i][j])
                        gb_max = max(gb_max, diff)
                        if max(G[i][j], Gb[i][j]) > 0:
                            gb_rel = max(gb_rel, diff / max(G[i][j], Gb[i][j]))
            for (i, j) in near_pairs:
                fi, fj = facs[i], facs[j]
                assert fi.scale == fj.scale
                dB, dA = fj.B - fi.B, fj.A - fi.A  # exact: tiny perturbations of F32 values
                diff = fi.scale * (dB @ fi.A + fi.B @ dA + dB @ dA)
                acc = float(np.linalg.norm(diff))
                got = g["distances"]["l2"][mod]["layers"][li][i][j]
                a, b = fi.scale * (fi.B @ fi.A), fj.scale * (fj.B @ fj.A)
                na, nb = np.linalg.norm(a), np.linalg.norm(b)
                na_minus_nb = float(np.sum(diff * (a + b))) / (na + nb)  # (‖b‖²-‖a‖²)/(‖a‖+‖b‖)
                cos_acc = (acc * acc - na_minus_nb ** 2) / (2.0 * na * nb)
                cos_gold = g["distances"]["cosine"][mod]["layers"][li][i][j]
                print(f"    cosine golden {cos_gold:.6e} vs cancellation-free {cos_acc:.6e} "
                      f"(rel.diff {abs(cos_gold - cos_acc) / cos_acc:.2e}, abs {abs(cos_gold - cos_acc):.1e})")
                for kind, X, Y in (("grassmann_b", fi.B, fj.B), ("grassmann_a", fi.A.T, fj.A.T)):
                    acc_g = tiny_grassmann_accurate(X, Y)
                    gold_g = g["distances"][kind][mod]["layers"][li][i][j]
                    gold_t = g["distances"][kind][mod]["layers"][li][j][i]
                    near_rel[kind] = max(near_rel[kind], abs(gold_g - acc_g) / acc_g,
                                         abs(gold_t - acc_g) / acc_g)
                    if kind == "grassmann_b":  # col(ΔW) == col(B) here
                        for v in (g["distances"]["grassmann"][mod]["layers"][li][i][j],
                                  g["distances"]["grassmann"][mod]["layers"][li][j][i]):
                            near_rel["grassmann"] = max(near_rel["grassmann"], abs(v - acc_g) / acc_g)
                print(f"  t_r8 vs t_near {mod} layer {layer}: l2 golden {got:.12e}  accurate "
                      f"{acc:.12e}  rel.diff {abs(got - acc) / acc:.2e}; cosine "
                      f"{g['distances']['cosine'][mod]['layers'][li][i][j]:.3e}; grassmann "
                      f"{g['distances']['grassmann'][mod]['layers'][li][i][j]:.6e}, _b "
                      f"{g['distances']['grassmann_b'][mod]['layers'][li][i][j]:.6e}, _a "
                      f"{g['distances']['grassmann_a'][mod]['layers'][li][i][j]:.6e}")

    print(f"  rank margins (orth rule, tol = max(m,n)·eps·σ₁): smallest kept σ/tol = {margin_in:.3e}, "
          f"largest dropped σ/tol = {margin_out:.3e}")
    if near_pairs:
        for kind, v in near_rel.items():
            print(f"  t_r8 vs t_near {kind:12s}: golden (both triangles) vs extended-precision "
                  f"tiny-angle reference: max rel diff {v:.3e}")
    print(f"  grassmann vs grassmann_b (blocks with full-row-rank A): max abs diff {gb_max:.3e}, "
          f"max rel diff {gb_rel:.3e}")
    for kind in ref.GRASSMANN_METRICS:
        print(f"  scipy vs careful {kind:12s}: max |angle diff| {ang_max[kind]:.3e}; "
              f"max |distance diff| {dist_max[kind]:.3e} (rel {dist_rel[kind]:.3e})"
              + (f" at {worst_where[kind]}" if worst_where[kind] else ""))


def main(argv):
    for p in argv or sys.exit("usage: check_goldens.py GOLDEN.json ..."):
        check(p)


if __name__ == "__main__":
    main(sys.argv[1:])
