#!/usr/bin/env python3
"""The best low-rank NumPy path we could write (the strong baseline).

    python3 benchmarks/lowrank_numpy.py DIR... --out FILE.json|FILE.npz [--quiet]

Never forms a d × d matrix; holds one (module, layer) block of all adapters in
memory at a time (each factor is read from its byte range; no mmap).  Per block:

 1. Stack the N adapters' factors: B (N, d_out, r) and Aᵀ (N, d_in, r), float64.
 2. Batched thin QR: B = U·R_B, Aᵀ = V·R_A, so ΔW = U·C·Vᵀ with the r × r core
    C = s·R_B·R_Aᵀ and ‖ΔW‖_F = ‖C‖_F.
 3. ONE Gram product of the stacked U's, (N·r × d_out)·(d_out × N·r), and one of
    the V's (NumPy runs X @ X.T as a symmetric rank-k update).  Block (i, j) of
    the Gram is U_iᵀU_j.
 4. ⟨ΔW_i, ΔW_j⟩ = Σ (C_iᵀ·U_iᵀU_j·C_j) ⊙ V_iᵀV_j, batched on the r × r blocks;
    l2² = ‖ΔW_i‖² + ‖ΔW_j‖² − 2⟨⟩, cosine = 1 − ⟨⟩/(‖ΔW_i‖‖ΔW_j‖) clipped to [0, 2].
 5. Subspaces, with SciPy's orth rank rule (σ > max(m, n)·eps·σ_max, m × n the
    dense shape: d_out × d_in for ΔW, d_out × r for B, d_in × r for Aᵀ) applied
    to the singular values of C, R_B, R_A.  A full-rank adapter's subspace is
    Im(U) (or Im(V)) itself; a rank-deficient one is Im(U·E) with E the leading
    left singular vectors of its core, truncated at the numerical rank.  The
    cosines of the principal angles are the singular values of E_iᵀ(U_iᵀU_j)E_j
    (batched np.linalg.svd, compute_uv=False, over all pairs i < j), the first
    min(rank_i, rank_j) of them; θ = arccos.  When every core is full rank the
    ΔW and B subspaces coincide and `grassmann` reuses `grassmann_b`.

Accuracy guards (so the result agrees with the dense SciPy computation to
~1e-12 relative instead of losing digits to cancellation):
 * Nearly equal adapters: for pairs with l2² < 1e-2·(‖ΔW_i‖² + ‖ΔW_j‖²) or
   cosine < 1e-2, thin QRs of the stacked factors [B_i, B_j] = Q₁R₁ and
   [A_iᵀ, A_jᵀ] = Q₂R₂ give l2 = ‖R₁·D·R₂ᵀ‖_F with D = diag(s_i·I, −s_j·I), and
   cosine = ½‖R₁·D'·R₂ᵀ‖²_F with D' = diag(s_i/‖ΔW_i‖·I, −s_j/‖ΔW_j‖·I).
 * Small angles: for pairs whose Grassmann distance² from the arccos values is
   < 1e-2 (the rule chosen here; elsewhere arccos costs at most ~1e-12 relative
   on Σθ²), the sines are taken as the singular values of the residual
   Y_j − Y_i(Y_iᵀY_j) formed in the ambient space (Y = U·E), the
   Knyazev–Argentati split that scipy.linalg.subspace_angles uses, and each
   angle whose cosine² ≥ ½ is arcsin of its own sine (angles are paired by
   order; SciPy 1.17 pairs the mask in reversed order, which differs by
   ~1e-12 at most on mixed sets).

Threads: OpenBLAS is limited to one thread (set before NumPy is imported) and
the B side and the A side of each block (read, QR, Gram, cross-block SVDs) run
in two Python threads (NumPy releases the GIL in BLAS/LAPACK).  On a 2-core
machine this is markedly faster than OpenBLAS threading, whose overhead
dominates the many small tall-skinny QRs.  Set TVGEO_BENCH_BLAS_THREADS=N to
use N OpenBLAS threads instead and no Python threads.

Output: the layout of tvgeo's metrics.json "distances" (plus "tasks", "modules").  With an
--out ending in .npz, the matrices stay NumPy arrays and go to one np.savez file instead
(`<metric>/<module>` of shape [layers, N, N] and `<metric>/<module>/mean`, NaN = undefined;
`tasks`, `modules`): what a NumPy user would write at N in the hundreds, where the JSON lists
of Python floats alone take gigabytes (run_bench.py --scaling uses it).
"""

from __future__ import annotations

import os

_BLAS_THREADS = os.environ.get("TVGEO_BENCH_BLAS_THREADS")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _BLAS_THREADS or "1"

import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

import lora_io  # noqa: E402
from lora_io import METRICS  # noqa: E402

EPS = np.finfo(np.float64).eps
NEAR_L2 = 1e-2      # l2² < NEAR_L2·(‖a‖² + ‖b‖²)  -> stacked-QR l2 / cosine
NEAR_COS = 1e-2     # cosine < NEAR_COS              -> idem
SMALL_G2 = 1e-2     # grassmann² < SMALL_G2          -> sine branch


def _map2(pool, f, a, b):
    if pool is None:
        return f(a), f(b)
    fa, fb = pool.submit(f, a), pool.submit(f, b)
    return fa.result(), fb.result()


class Side:
    """One factor side of a block: B (d_out × r) or Aᵀ (d_in × r), all adapters."""

    def __init__(self, which: str):
        self.which = which  # "B" or "A"

    def load(self, adapters, key, r_max: int):
        ents = [ad.blocks[key]["lora_B" if self.which == "B" else "lora_A"] for ad in adapters]
        d = ents[0].shape[0] if self.which == "B" else ents[0].shape[1]
        n = len(adapters)
        X = np.zeros((n, d, r_max))
        self.r = np.empty(n, dtype=np.int64)
        for t, (ad, ent) in enumerate(zip(adapters, ents)):
            ad_fh = ad.open()
            M = lora_io.read_tensor(ad_fh, ent)
            if self.which == "B":
                if M.shape[0] != d:
                    raise SystemExit(f"{ad.weights}: {ent.name}: shape {M.shape} differs across adapters")
                X[t, :, :M.shape[1]] = M
                self.r[t] = M.shape[1]
            else:
                if M.shape[1] != d:
                    raise SystemExit(f"{ad.weights}: {ent.name}: shape {M.shape} differs across adapters")
                X[t, :, :M.shape[0]] = M.T
                self.r[t] = M.shape[0]
        self.X, self.d = X, d

    def factor(self):
        """Thin QR of every adapter's factor and one Gram product of the stacked Q's."""
        n, d, r = self.X.shape
        self.Q, self.R = np.linalg.qr(self.X)
        S = np.ascontiguousarray(self.Q.transpose(0, 2, 1)).reshape(n * r, d)
        G = S @ S.T  # symmetric: NumPy/OpenBLAS use syrk
        del S
        self.G4 = G.reshape(n, r, n, r).transpose(0, 2, 1, 3)  # G4[i, j] = Q_iᵀ Q_j
        # subspace of the factor itself (rank rule on the dense d × r_t shape)
        U, s, _ = np.linalg.svd(self.R)
        tol = np.maximum(d, self.r) * EPS * s[:, 0]
        self.sub_rank = np.sum(s > tol[:, None], axis=1)
        self.sub_E = U


def subspace_bases(U: np.ndarray, ranks: np.ndarray):
    """E (N, r, r): identity where full rank, else left singular vectors truncated
    at the rank (zero columns beyond); None if every adapter is full rank."""
    n, r, _ = U.shape
    if np.all(ranks == r):
        return None
    E = U * (np.arange(r)[None, None, :] < ranks[:, None, None])
    full = ranks == r
    E[full] = np.eye(r)
    return E


def grassmann_matrix(side: Side, ranks: np.ndarray, E, iu, ju) -> np.ndarray:
    """N×N Grassmann distances between Im(Q_t·E_t) (NaN where a rank is 0)."""
    n, _, r = side.Q.shape
    M = side.G4[iu, ju]  # (P, r, r) copies of the cross blocks
    if E is not None:
        M = np.swapaxes(E[iu], 1, 2) @ M @ E[ju]
    c = np.linalg.svd(M, compute_uv=False)  # (P, r), descending
    k = np.minimum(ranks[iu], ranks[ju])
    live = np.arange(r)[None, :] < k[:, None]
    theta = np.where(live, np.arccos(np.clip(c, -1.0, 1.0)), 0.0)
    g2 = np.sum(theta * theta, axis=1)
    valid = (ranks[iu] > 0) & (ranks[ju] > 0)
    for p in np.nonzero(valid & (g2 < SMALL_G2))[0]:
        g2[p] = _small_angle_g2(side, ranks, E, iu[p], ju[p], c[p])
    out = np.full((n, n), np.nan)
    g = np.sqrt(g2)
    g[~valid] = np.nan
    out[iu, ju] = g
    out[ju, iu] = g
    d = np.where(ranks > 0, 0.0, np.nan)
    out[np.arange(n), np.arange(n)] = d
    return out


def _small_angle_g2(side: Side, ranks, E, i, j, c) -> float:
    """Σθ² with the sine branch: residual formed in the ambient space."""
    pi, pj = int(ranks[i]), int(ranks[j])
    Yi = side.Q[i] if E is None else side.Q[i] @ E[i][:, :pi]
    Yj = side.Q[j] if E is None else side.Q[j] @ E[j][:, :pj]
    if pi >= pj:
        Rres = Yj - Yi @ (Yi.T @ Yj)
    else:
        Rres = Yi - Yj @ (Yj.T @ Yi)
    q = min(pi, pj)
    s = np.linalg.svd(Rres, compute_uv=False)[:q]  # sines, descending
    total = 0.0
    for k in range(q):  # k-th smallest angle: cosine c[k], sine s[q-1-k]
        ck = float(c[k])
        if ck * ck >= 0.5:
            th = float(np.arcsin(min(float(s[q - 1 - k]), 1.0)))
        else:
            th = float(np.arccos(min(max(ck, -1.0), 1.0)))
        total += th * th
    return total


def block_matrices(adapters, key, pool):
    n = len(adapters)
    scales = np.array([ad.scale for ad in adapters])
    r_max = max(max(ad.blocks[key]["lora_B"].shape[1], ad.blocks[key]["lora_A"].shape[0])
                for ad in adapters)
    sB, sA = Side("B"), Side("A")

    def prepare(side):
        side.load(adapters, key, r_max)
        side.factor()
        return side

    _map2(pool, prepare, sB, sA)
    for ad, rb, ra in zip(adapters, sB.r, sA.r):
        if rb != ra:
            raise SystemExit(f"{ad.weights}: {key}: lora_B has {rb} columns, lora_A {ra} rows")
    iu, ju = np.triu_indices(n, 1)

    # cores, norms, inner products
    C = scales[:, None, None] * (sB.R @ np.swapaxes(sA.R, 1, 2))
    norms = np.sqrt(np.einsum("tab,tab->t", C, C))
    X = np.swapaxes(C[iu], 1, 2) @ sB.G4[iu, ju] @ C[ju]
    inner = np.einsum("pab,pab->p", X, sA.G4[iu, ju])
    ni, nj = norms[iu], norms[ju]
    sumsq = ni * ni + nj * nj
    l2sq = sumsq - 2.0 * inner
    l2 = np.sqrt(np.maximum(l2sq, 0.0))
    nz = (ni > 0) & (nj > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(nz, np.clip(1.0 - inner / (ni * nj), 0.0, 2.0), np.nan)
    near = np.nonzero((l2sq < NEAR_L2 * sumsq) | (nz & (cos < NEAR_COS)))[0]
    if near.size:
        fi, fj = iu[near], ju[near]
        W1 = np.concatenate([sB.X[fi], sB.X[fj]], axis=2)  # [B_i, B_j]
        W2 = np.concatenate([sA.X[fi], sA.X[fj]], axis=2)  # [A_iᵀ, A_jᵀ]
        R1 = np.linalg.qr(W1, mode="r")
        R2 = np.linalg.qr(W2, mode="r")
        R2T = np.swapaxes(R2, 1, 2)
        ones = np.ones(r_max)
        D = np.concatenate([scales[fi][:, None] * ones, -scales[fj][:, None] * ones], axis=1)
        K = R1 @ (D[:, :, None] * R2T)
        l2[near] = np.sqrt(np.einsum("pab,pab->p", K, K))
        with np.errstate(divide="ignore", invalid="ignore"):
            Dn = np.concatenate([(scales[fi] / norms[fi])[:, None] * ones,
                                 -(scales[fj] / norms[fj])[:, None] * ones], axis=1)
            Kn = R1 @ (Dn[:, :, None] * R2T)
            c_acc = 0.5 * np.einsum("pab,pab->p", Kn, Kn)
        cos[near] = np.where(nz[near], np.clip(c_acc, 0.0, 2.0), np.nan)

    out = {}
    for name, vals, diag in (("l2", l2, np.zeros(n)),
                             ("cosine", cos, np.where(norms > 0, 0.0, np.nan))):
        M = np.empty((n, n))
        M[iu, ju] = vals
        M[ju, iu] = vals
        M[np.arange(n), np.arange(n)] = diag
        out[name] = M

    # subspaces
    d_out, d_in = sB.d, sA.d
    Uc, sc, _ = np.linalg.svd(C)
    tol = max(d_out, d_in) * EPS * sc[:, 0]
    dw_rank = np.sum(sc > tol[:, None], axis=1)
    E_dw = subspace_bases(Uc, dw_rank)
    E_b = subspace_bases(sB.sub_E, sB.sub_rank)
    E_a = subspace_bases(sA.sub_E, sA.sub_rank)
    out["grassmann_b"], out["grassmann_a"] = _map2(
        pool, lambda job: grassmann_matrix(*job, iu, ju),
        (sB, sB.sub_rank, E_b), (sA, sA.sub_rank, E_a))
    if E_dw is None and E_b is None and np.array_equal(dw_rank, sB.sub_rank):
        out["grassmann"] = out["grassmann_b"].copy()  # same subspaces: Im(U_t)
    else:
        out["grassmann"] = grassmann_matrix(sB, dw_rank, E_dw, iu, ju)
    return out


def run(paths, quiet=False, as_arrays=False):
    """(tasks, modules, distances) in metrics.json's layout; with as_arrays, distances is
    {metric: {module: (layer_ids, layers [L, N, N] float64, mean [N, N])}} instead."""
    adapters, tasks, modules, plan = lora_io.study_plan(paths)
    threads = os.environ.get("TVGEO_BENCH_BLAS_THREADS")
    pool = None if threads else ThreadPoolExecutor(max_workers=2)
    for ad in adapters:
        ad.open()  # before any worker thread reads
    distances = {m: {} for m in METRICS}
    total = sum(len(v) for v in plan.values())
    done, t0 = 0, time.perf_counter()
    try:
        for mod in modules:
            per_layer = {m: [] for m in METRICS}
            for layer, key in plan[mod]:
                mats = block_matrices(adapters, key, pool)
                for m in METRICS:
                    per_layer[m].append(mats[m] if as_arrays else lora_io.to_list(mats[m]))
                done += 1
                if not quiet and (done % 16 == 0 or done == total):
                    print(f"lowrank: {done}/{total} blocks, {time.perf_counter() - t0:.1f} s",
                          file=sys.stderr, flush=True)
            for m in METRICS:
                layer_ids = [layer for layer, _ in plan[mod]]
                if as_arrays:
                    stack = np.stack(per_layer[m])
                    distances[m][mod] = (layer_ids, stack, lora_io.layer_mean_array(stack))
                else:
                    distances[m][mod] = {
                        "layer_ids": layer_ids,
                        "layers": per_layer[m],
                        "mean": lora_io.layer_mean(per_layer[m]),
                    }
    finally:
        if pool is not None:
            pool.shutdown()
        for ad in adapters:
            ad.close()
    return tasks, modules, distances


def main(argv=None) -> int:
    return lora_io.run_cli(__doc__, run, f"benchmarks/lowrank_numpy.py (numpy {np.__version__})", argv,
                           arrays=True)


if __name__ == "__main__":
    sys.exit(main())
