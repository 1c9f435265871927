#!/usr/bin/env python3
"""Independent NumPy/SciPy reference for tvgeo's study statistics.

Reads a distance golden (written by scripts/reference_distances.py) and a
scores CSV, and writes a golden JSON with the correlations between the mean
task-vector distances T̄ and the merge losses δ, plus PCA, classical MDS and
average-linkage clustering of T̄.

    python3 scripts/reference_study.py --distances G.json --scores S.csv --out OUT.json
    python3 scripts/reference_study.py make-scores --distances G.json --out S.csv

Written to be obviously correct, not fast. See scripts/README.md for the
exact definitions.
"""

import argparse
import csv
import itertools
import json
import math
import sys

import numpy as np
import scipy
import scipy.stats
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

SCHEMA = "tvgeo.golden-study/1"
METRICS = ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a", "comb_shift", "comb_error"]
# Asymmetric (row = host): correlations read the rows, maps use ½(T̄ + T̄ᵀ).
ASYMMETRIC = {"comb_shift", "comb_error"}
KINDS = ["spearman", "pearson", "kendall"]
EXACT_MAX_N = 9  # Spearman p: exact permutation test for n <= 9
PERM_TOL = 1e-12
BOOT_SEED = 0x747667656F
BOOT_REPS = 10000
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- inputs

def load_distances(path):
    with open(path, encoding="utf-8") as fh:
        golden = json.load(fh)
    tasks = list(golden["tasks"])
    modules = list(golden["modules"])
    means = {}
    for metric in METRICS:
        means[metric] = {}
        for module in modules:
            mean = golden["distances"][metric][module]["mean"]
            assert len(mean) == len(tasks) and all(len(r) == len(tasks) for r in mean)
            means[metric][module] = [[None if v is None else float(v) for v in row] for row in mean]
    return tasks, modules, means


def load_scores(path, tasks):
    """Returns {(model_key, task): score}; model_key is a task name or a
    frozenset of two task names (a Comb merge, either spelling)."""
    known = set(tasks)
    scores = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["model", "task", "metric", "score"], reader.fieldnames
        for row in reader:
            model, task = row["model"].strip(), row["task"].strip()
            if task not in known:
                raise SystemExit(f"scores: unknown task {task!r}")
            parts = model.split("+")
            if len(parts) == 1:
                key = parts[0]
                if key != task:
                    raise SystemExit(f"scores: single adapter {model!r} evaluated on {task!r}")
            elif len(parts) == 2:
                a, b = parts
                if a == b or a not in known or b not in known or task not in (a, b):
                    raise SystemExit(f"scores: bad merge row {model!r} on {task!r}")
                key = frozenset(parts)
            else:
                raise SystemExit(f"scores: bad model {model!r}")
            if (key, task) in scores:
                raise SystemExit(f"scores: duplicate row for {model!r} on {task!r}")
            scores[(key, task)] = float(row["score"])
    return scores


def delta_matrix(tasks, scores):
    n = len(tasks)
    self_score = [scores.get((t, t)) for t in tasks]
    delta = [[None] * n for _ in range(n)]
    for i, ti in enumerate(tasks):
        for j, tj in enumerate(tasks):
            if i == j or self_score[i] is None:
                continue
            merged = scores.get((frozenset((ti, tj)), ti))
            if merged is not None:
                delta[i][j] = self_score[i] - merged
    return delta, self_score


# ---------------------------------------------------------------- statistics

def is_constant(values):
    return all(v == values[0] for v in values)


def t_pvalue(r, n):
    """Two-sided p of the t approximation for a correlation r from n pairs."""
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * scipy.stats.t.sf(abs(t), n - 2))


_PERMS = {}


def all_permutations(n):
    if n not in _PERMS:
        _PERMS[n] = np.array(list(itertools.permutations(range(n))), dtype=np.intp)
    return _PERMS[n]


def spearman_exact_p(x, y):
    """Share of all n! re-pairings of y's ranks with |rho| >= |rho_obs| - 1e-12."""
    rx = scipy.stats.rankdata(x, method="average")
    ry = scipy.stats.rankdata(y, method="average")
    cx = rx - rx.mean()
    cy = ry - ry.mean()
    denom = math.sqrt(float(np.dot(cx, cx)) * float(np.dot(cy, cy)))
    perms = all_permutations(len(x))
    rho_perm = (cy[perms] @ cx) / denom          # row k: y's ranks in order perms[k]
    rho_obs = float(np.dot(cx, cy)) / denom       # the identity permutation, same formula
    count = int(np.count_nonzero(np.abs(rho_perm) >= abs(rho_obs) - PERM_TOL))
    return count / len(perms), rho_obs


def coefficient(kind, x, y):
    """(value, p) or (None, None) per the n < 3 / constant rule."""
    n = len(x)
    if n < 3 or is_constant(x) or is_constant(y):
        return None, None
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if kind == "spearman":
        rx = scipy.stats.rankdata(xa, method="average")
        ry = scipy.stats.rankdata(ya, method="average")
        rho = float(np.corrcoef(rx, ry)[0, 1])
        sp = float(scipy.stats.spearmanr(xa, ya).statistic)
        assert abs(rho - sp) <= 1e-14, (rho, sp)
        if n <= EXACT_MAX_N:
            p, rho_formula = spearman_exact_p(xa, ya)
            assert abs(rho_formula - rho) <= 1e-14
        else:
            p = t_pvalue(rho, n)
        return rho, p
    if kind == "pearson":
        res = scipy.stats.pearsonr(xa, ya)
        r = float(res.statistic)
        p = t_pvalue(r, n)
        assert abs(p - float(res.pvalue)) <= 1e-9 * max(p, 1e-300) + 1e-14, (p, res.pvalue)
        return r, p
    if kind == "kendall":
        res = scipy.stats.kendalltau(xa, ya, variant="b", method="asymptotic")
        return float(res.statistic), float(res.pvalue)
    raise ValueError(kind)


def splitmix64(seed):
    state = seed & MASK64
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


_BOOT_INDICES = {}


def bootstrap_indices(m):
    """The generator restarts from the seed for every bootstrap, so the index
    stream depends on m only."""
    if m not in _BOOT_INDICES:
        gen = splitmix64(BOOT_SEED)
        _BOOT_INDICES[m] = [[next(gen) % m for _ in range(m)] for _ in range(BOOT_REPS)]
    return _BOOT_INDICES[m]


def bootstrap_ci95(values):
    m = len(values)
    if m < 2:
        return None
    means = []
    for draw in bootstrap_indices(m):
        s = 0.0
        for idx in draw:
            s += values[idx]
        means.append(s / m)
    means = np.array(means)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def correlations(tasks, tbar, delta, self_score):
    n = len(tasks)
    out = {}
    for kind in KINDS:
        per_task = {}
        values = []
        for i, task in enumerate(tasks):
            x, y = [], []
            for j in range(n):
                if j != i and tbar[i][j] is not None and delta[i][j] is not None:
                    x.append(tbar[i][j])
                    y.append(delta[i][j])
            value, p = coefficient(kind, x, y)
            per_task[task] = {"rho": value, "n": len(x), "p": p}
            if value is not None:
                values.append(value)
        px, py = [], []
        for i in range(n):
            if self_score[i] is None or self_score[i] == 0.0:
                continue
            for j in range(n):
                if j != i and tbar[i][j] is not None and delta[i][j] is not None:
                    px.append(tbar[i][j])
                    py.append(delta[i][j] / abs(self_score[i]))
        pooled, pooled_p = coefficient(kind, px, py)
        out[kind] = {
            "per_task": per_task,
            "mean": float(np.mean(values)) if values else None,
            "std": float(np.std(values)) if values else None,
            "pooled": pooled,
            "pooled_n": len(px),
            "pooled_p": pooled_p,
            "ci95": bootstrap_ci95(values),
        }
    return out


# ---------------------------------------------------------------- geometry

def sign_index(vector):
    """Index of the entry of largest |value|; ties within 1e-12·max -> lowest."""
    a = np.abs(vector)
    top = float(a.max())
    if top == 0.0:
        return None
    return int(np.nonzero(a >= top - 1e-12 * top)[0][0])


def sign_margin(vector):
    """Diagnostic: relative gap between the largest |entry| and the largest
    |entry| of the opposite sign (how safe the sign decision is)."""
    top = float(np.max(np.abs(vector)))
    if top == 0.0:
        return float("inf")
    idx = sign_index(vector)
    other = [abs(v) for v in vector if v * vector[idx] < 0]
    return float((top - max(other)) / top) if other else 1.0


def has_null(matrix):
    return any(v is None for row in matrix for v in row)


def mapped_tasks(tbar):
    """The tasks a map and ordering place (tvgeo's rule): while some distance among the kept tasks
    is undefined, leave out the task with the most undefined ones (the last of equals); a lone task
    whose own distance is undefined is no map either."""
    kept = list(range(len(tbar)))
    while len(kept) > 1:
        undefined = [sum(1 for j in kept if tbar[i][j] is None) for i in kept]
        worst = max(undefined)
        if worst == 0:
            break
        kept.pop(len(undefined) - 1 - undefined[::-1].index(worst))
    if len(kept) == 1 and tbar[kept[0]][kept[0]] is None:
        kept = []
    return kept


def on_mapped_tasks(tbar, tasks, compute, *extra):
    """`compute` (pca, mds or clustering) on the kept tasks' submatrix, spread back over all tasks:
    left-out tasks get null coordinates, clustering leaves are task indices (merge k is cluster
    N + k) and the order lists the left-out tasks last; "left_out" names them when there are any."""
    n = len(tbar)
    kept = mapped_tasks(tbar)
    if not kept:
        return None
    sub = [[tbar[i][j] for j in kept] for i in kept]
    result = compute(sub, *extra)
    if result is None:
        return None
    left_out = [i for i in range(n) if i not in kept]
    if not left_out:
        return result
    if "coordinates" in result:
        full = [[None, None] for _ in range(n)]
        for local, task in enumerate(kept):
            full[task] = result["coordinates"][local]
        result["coordinates"] = full
    if "merges" in result:
        m = len(kept)
        ident = lambda local: kept[local] if local < m else n + (local - m)
        result["merges"] = [[ident(a), ident(b), h, size] for a, b, h, size in result["merges"]]
        result["order"] = [kept[i] for i in result["order"]] + left_out
    result["left_out"] = [tasks[i] for i in left_out]
    return result


def pca(tbar, diag):
    if has_null(tbar):
        return None
    X = np.array(tbar, dtype=np.float64)
    X = X - X.mean(axis=0)
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    coords = U * S
    total = float(np.sum(S * S))
    out_coords = np.zeros((X.shape[0], 2))
    evr = [0.0, 0.0]
    for k in range(min(2, len(S))):
        c = coords[:, k].copy()
        idx = sign_index(Vt[k])
        if idx is not None and Vt[k][idx] < 0:
            c = -c
        out_coords[:, k] = c
        evr[k] = float(S[k] * S[k] / total) if total > 0 else 0.0
        diag["pca_sign_margin"] = min(diag.get("pca_sign_margin", math.inf), sign_margin(Vt[k]))
    if len(S) > 2 and S[0] > 0:
        diag["pca_sv_gap"] = min(diag.get("pca_sv_gap", math.inf),
                                 float((S[0] - S[1]) / S[0]), float((S[1] - S[2]) / S[0]))
    return {"coordinates": out_coords.tolist(), "explained_variance_ratio": evr}


def mds(tbar, diag):
    if has_null(tbar):
        return None
    D = np.array(tbar, dtype=np.float64)
    n = D.shape[0]
    J = np.eye(n) - np.ones((n, n)) / n
    B = -0.5 * J @ (D * D) @ J
    w, V = np.linalg.eigh(B)
    order = np.argsort(w)[::-1]
    w = w[order]
    V = V[:, order]
    coords = np.zeros((n, 2))
    for k in range(min(2, n)):
        v = V[:, k].copy()
        idx = sign_index(v)
        if idx is not None and v[idx] < 0:
            v = -v
        if w[k] > 0:
            coords[:, k] = v * math.sqrt(w[k])
        diag["mds_sign_margin"] = min(diag.get("mds_sign_margin", math.inf), sign_margin(v))
    if n > 2 and w[0] > 0:
        diag["mds_eig_gap"] = min(diag.get("mds_eig_gap", math.inf),
                                  float((w[0] - w[1]) / w[0]), float((w[1] - w[2]) / w[0]))
    positive = float(np.sum(w[w > 0]))
    top = float(sum(w[k] for k in range(min(2, n)) if w[k] > 0))
    num = den = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            e = float(np.linalg.norm(coords[i] - coords[j]))
            num += (D[i, j] - e) ** 2
            den += D[i, j] ** 2
    return {
        "coordinates": coords.tolist(),
        "eigenvalues": [float(v) for v in w],
        "positive_mass": top / positive if positive > 0 else None,
        "stress1": math.sqrt(num / den) if den > 0 else None,
    }


def upgma(tbar, diag):
    """Naive average linkage on the upper triangle of T̄ (d(a,b) = T̄[min][max])."""
    n = len(tbar)
    dist = lambda a, b: tbar[min(a, b)][max(a, b)]
    members = {i: [i] for i in range(n)}
    children = {}
    merges = []
    next_id = n
    while len(members) > 1:
        ids = sorted(members)
        best = None
        second = math.inf
        for ia, a in enumerate(ids):
            for b in ids[ia + 1:]:
                total = 0.0
                for p in members[a]:
                    for q in members[b]:
                        total += dist(p, q)
                avg = total / (len(members[a]) * len(members[b]))
                if best is None or avg < best[0]:
                    if best is not None:
                        second = min(second, best[0])
                    best = (avg, a, b)
                else:
                    second = min(second, avg)
        height, a, b = best
        if second < math.inf:
            gap = (second - height) / max(abs(second), 1e-300)
            diag["upgma_tie_gap"] = min(diag.get("upgma_tie_gap", math.inf), gap)
        members[next_id] = members.pop(a) + members.pop(b)
        children[next_id] = (a, b)
        merges.append([a, b, height, len(members[next_id])])
        next_id += 1

    def leaves(node):
        if node < n:
            return [node]
        a, b = children[node]
        return leaves(a) + leaves(b)

    return merges, leaves(next_id - 1)


def clustering(tbar, diag, checks):
    if has_null(tbar):
        return None
    merges, order = upgma(tbar, diag)
    D = np.array(tbar, dtype=np.float64)
    Z = linkage(squareform(D, checks=False), "average")
    sp_order = [int(v) for v in leaves_list(Z)]
    heights_ok = all(abs(m[2] - Z[k, 2]) <= 1e-12 * max(1.0, abs(m[2])) for k, m in enumerate(merges))
    rows_ok = all(sorted((int(Z[k, 0]), int(Z[k, 1]))) == [m[0], m[1]] and int(Z[k, 3]) == m[3]
                  for k, m in enumerate(merges))
    checks.append({"heights": heights_ok, "rows": rows_ok, "order": sp_order == order})
    return {"merges": merges, "order": order}


# ---------------------------------------------------------------- driver

def study(distances_path, scores_path):
    tasks, modules, means = load_distances(distances_path)
    scores = load_scores(scores_path, tasks)
    delta, self_score = delta_matrix(tasks, scores)
    diag = {}
    checks = []
    out = {
        "schema": SCHEMA,
        "generator": f"scripts/reference_study.py (numpy {np.__version__}, scipy {scipy.__version__})",
        "distances_golden": distances_path,
        "scores": scores_path,
        "tasks": tasks,
        "delta": delta,
        "correlations": {},
        "pca": {},
        "mds": {},
        "clustering": {},
        "grassmann_vs_grassmann_b": {},
    }
    for metric in METRICS:
        for key in ("correlations", "pca", "mds", "clustering"):
            out[key][metric] = {}
        for module in modules:
            tbar = means[metric][module]
            out["correlations"][metric][module] = correlations(tasks, tbar, delta, self_score)
            if metric in ASYMMETRIC:
                tbar = [[None if a is None or b is None else 0.5 * (a + b) for a, b in zip(row, col)]
                        for row, col in zip(tbar, zip(*tbar))]
            out["pca"][metric][module] = on_mapped_tasks(tbar, tasks, pca, diag)
            out["mds"][metric][module] = on_mapped_tasks(tbar, tasks, mds, diag)
            out["clustering"][metric][module] = on_mapped_tasks(tbar, tasks, clustering, diag, checks)
    for module in modules:
        g, gb = means["grassmann"][module], means["grassmann_b"][module]
        diffs = [abs(g[i][j] - gb[i][j]) for i in range(len(tasks)) for j in range(len(tasks))
                 if g[i][j] is not None and gb[i][j] is not None]
        out["grassmann_vs_grassmann_b"][module] = max(diffs) if diffs else None
    return out, diag, checks


def make_scores(distances_path, out_path, seed=20240607):
    """Deterministic synthetic scores for the synthetic-mixed tasks: integer
    scores (so δ has ties), t_near's self score exactly 0, two Comb rows
    missing, and every third merge spelled j+i."""
    tasks, _, _ = load_distances(distances_path)
    rng = np.random.default_rng(seed)
    zero_self = "t_near"
    missing = {(frozenset(("t_r8", "t_r4")), "t_r4"),
               (frozenset(("t_r16_rslora", "t_rankdef")), "t_rankdef")}
    self_score = {}
    for t in tasks:
        s = int(rng.integers(55, 91))
        self_score[t] = 0 if t == zero_self else s
    rows = [(t, t, "accuracy", float(self_score[t])) for t in tasks]
    k = 0
    for i, ti in enumerate(tasks):
        for tj in tasks[i + 1:]:
            name = f"{tj}+{ti}" if k % 3 == 2 else f"{ti}+{tj}"
            k += 1
            for host in (ti, tj):
                loss = int(rng.integers(-2, 7))
                if (frozenset((ti, tj)), host) in missing:
                    continue
                rows.append((name, host, "accuracy", float(self_score[host] - loss)))
    with open(out_path, "w", newline="", encoding="utf-8") as fh:
        fh.write("model,task,metric,score\n")
        for model, task, metric, score in rows:
            fh.write(f"{model},{task},{metric},{score:.4f}\n")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "make-scores":
        ap = argparse.ArgumentParser(prog="reference_study.py make-scores")
        ap.add_argument("--distances", required=True)
        ap.add_argument("--out", required=True)
        args = ap.parse_args(argv[1:])
        make_scores(args.distances, args.out)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distances", required=True, help="distance golden (reference_distances.py)")
    ap.add_argument("--scores", required=True, help="scores CSV: model,task,metric,score")
    ap.add_argument("--out", required=True, help="study golden JSON to write")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out, diag, checks = study(args.distances, args.scores)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, allow_nan=False)
        fh.write("\n")
    if not args.quiet:
        agree = sum(all(c.values()) for c in checks)
        print(f"{args.out}: UPGMA vs scipy linkage agree on {agree}/{len(checks)} blocks", file=sys.stderr)
        for c in checks:
            if not all(c.values()):
                print(f"  disagreement: {c}", file=sys.stderr)
        for k, v in sorted(diag.items()):
            print(f"  min {k}: {v:.3g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
