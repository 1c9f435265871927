#!/usr/bin/env python3
"""Independent NumPy/SciPy reference for what predicts tvgeo's merge loss (issue 18).

Two parts, written to be obviously correct, not fast:

* ``comb_matrices(facs)``: Comb's own error from dense matrices, per (module, layer) block.
  ΔW_C(i,j) = (s_i/4)(B_i + B_j)(A_i + A_j), with host i's scaling;
  comb_shift(i,j) = ‖ΔW_C − ΔW_i‖ / ‖ΔW_i‖;
  comb_error(i,j) = ‖ΔW_C − ½(ΔW_i + ΔW_j)‖ / ‖½(ΔW_i + ΔW_j)‖ (each ΔW with its own scaling).
  null where the ranks differ or a denominator is 0; 0 on the diagonal where defined.
  scripts/reference_distances.py calls it, so the distance goldens carry both metrics.

* the statistics, from a distance golden (reference_distances.py) and a scores CSV:
  per-layer Spearman (per task, mean and population std over tasks), the best layer with a
  Holm-adjusted p (one-sample t-test of the per-task ρ against 0, over every metric and layer of
  the module), leave-one-task-out ridge regression and the select-best baseline, and the ridge
  fitted on all evaluated rows predicting every ordered pair.

    python3 scripts/reference_prediction.py --distances G.json --scores S.csv --out OUT.json \
        [--ridge-lambda 1.0] [--drop-merges FRACTION --drop-seed SEED --write-scores S2.csv]

The definitions are in docs/metrics.md ("What predicts the merge loss").
"""

import argparse
import csv
import json
import math
import random
import sys

import numpy as np
import scipy
import scipy.stats

SCHEMA = "tvgeo.golden-prediction/1"
METRICS = ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a", "comb_shift", "comb_error"]
# A feature whose training std is at most this share of its largest |value| counts as constant.
CONSTANT_TOLERANCE = 1e-12


# ---------------------------------------------------------------- Comb's own error (dense)

def comb_matrices(facs):
    """comb_shift and comb_error (N×N lists, None = null) for the factors of one block.
    Each factor has .B (d_out×r), .A (r×d_in) and .scale."""
    n = len(facs)
    dws = [f.scale * (f.B @ f.A) for f in facs]
    out = {"comb_shift": [[None] * n for _ in range(n)], "comb_error": [[None] * n for _ in range(n)]}
    for i in range(n):
        for j in range(n):
            fi, fj = facs[i], facs[j]
            if fi.B.shape[1] != fj.B.shape[1]:
                continue
            comb = (fi.scale / 4.0) * ((fi.B + fj.B) @ (fi.A + fj.A))
            own = float(np.linalg.norm(dws[i]))
            if own > 0:
                out["comb_shift"][i][j] = 0.0 if i == j else float(np.linalg.norm(comb - dws[i])) / own
            average = 0.5 * (dws[i] + dws[j])
            norm = float(np.linalg.norm(average))
            if norm > 0:
                out["comb_error"][i][j] = 0.0 if i == j else float(np.linalg.norm(comb - average)) / norm
    return out


# ---------------------------------------------------------------- inputs

def load_golden(path):
    with open(path, encoding="utf-8") as fh:
        golden = json.load(fh)
    return golden["tasks"], golden["modules"], golden["distances"]


def load_scores(path, tasks):
    """{task: own score}, {(host, partner): merge score on host}."""
    known = set(tasks)
    own, merged = {}, {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            model, task, score = row["model"].strip(), row["task"].strip(), float(row["score"])
            if model == task:
                if task in known:
                    own[task] = score
                continue
            partner = None
            if model.startswith(task + "+"):
                partner = model[len(task) + 1:]
            elif model.endswith("+" + task):
                partner = model[: -(len(task) + 1)]
            if partner in known and task in known:
                merged[(task, partner)] = score
    return own, merged


def delta_matrix(tasks, own, merged):
    n = len(tasks)
    delta = [[None] * n for _ in range(n)]
    for i, ti in enumerate(tasks):
        for j, tj in enumerate(tasks):
            if i != j and ti in own and (ti, tj) in merged:
                delta[i][j] = own[ti] - merged[(ti, tj)]
    return delta


# ---------------------------------------------------------------- statistics

def spearman(x, y):
    """scipy's Spearman ρ, None with fewer than 3 pairs or a constant side."""
    if len(x) < 3 or len(set(x)) == 1 or len(set(y)) == 1:
        return None
    return float(scipy.stats.spearmanr(x, y).statistic)


def mean_std(values):
    if not values:
        return None, None
    a = np.array(values, dtype=float)
    return float(np.mean(a)), float(np.std(a))  # population std


def per_task_rhos(matrix, delta):
    """Per host task: Spearman between its row of distances and its δ row (defined pairs)."""
    n = len(delta)
    rhos = []
    for i in range(n):
        x, y = [], []
        for j in range(n):
            if j != i and matrix[i][j] is not None and delta[i][j] is not None:
                x.append(matrix[i][j])
                y.append(delta[i][j])
        rhos.append(spearman(x, y))
    return rhos


def one_sample_t_p(values):
    """Two-sided p of the one-sample t-test of the mean against 0 (n − 1 degrees of freedom);
    None with fewer than 2 values or no spread."""
    if len(values) < 2 or float(np.std(values, ddof=1)) == 0.0:
        return None
    return float(scipy.stats.ttest_1samp(values, 0.0).pvalue)


def holm(pvalues):
    """Holm's step-down adjusted p-values, in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda k: (pvalues[k], k))
    adjusted = [0.0] * m
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[k]))
        adjusted[k] = running
    return adjusted


def per_layer(tasks, modules, distances, delta):
    out, best = {}, {}
    for module in modules:
        tests = []  # (metric, layer, mean, p)
        for metric in METRICS:
            entry = distances[metric][module]
            rows = []
            for layer, matrix in zip(entry["layer_ids"], entry["layers"]):
                rhos = [r for r in per_task_rhos(matrix, delta) if r is not None]
                mean, std = mean_std(rhos)
                rows.append({"layer": layer, "mean": mean, "std": std, "n": len(rhos)})
                p = one_sample_t_p(rhos)
                if mean is not None and p is not None:
                    tests.append((metric, layer, mean, p))
            out.setdefault(metric, {})[module] = rows
        if tests:
            adjusted = holm([t[3] for t in tests])
            k = max(range(len(tests)), key=lambda k: (tests[k][2], -k))
            best[module] = {"metric": tests[k][0], "layer": tests[k][1], "mean": tests[k][2],
                            "p": tests[k][3], "p_holm": adjusted[k], "tests": len(tests)}
    return out, best


# ---------------------------------------------------------------- prediction

def features(modules, distances, n):
    names, columns = [], []
    for metric in METRICS:
        for module in modules:
            mean = distances[metric][module]["mean"]
            if all(mean[i][j] is not None for i in range(n) for j in range(n) if i != j):
                names.append(f"{metric}/{module}")
                columns.append(mean)
    return names, columns


def evaluated_rows(tasks, own, delta):
    rows = []
    n = len(tasks)
    for i in range(n):
        for j in range(n):
            if delta[i][j] is not None and own[tasks[i]] != 0:
                rows.append((i, j, delta[i][j] / abs(own[tasks[i]])))
    return rows


def ridge_fit(x, y, lam):
    """Standardise with the rows' mean and population std (dropping constant columns), centre y,
    solve (XᵀX + λI)β = Xᵀy. Returns a predictor for raw feature rows."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    scale = np.abs(x).max(axis=0)
    keep = std > CONSTANT_TOLERANCE * scale
    y_mean = float(y.mean())
    if not keep.any():
        return lambda rows: np.full(len(rows), y_mean)
    z = (x[:, keep] - mean[keep]) / std[keep]
    beta = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (y - y_mean))

    def predict(rows):
        return y_mean + ((rows[:, keep] - mean[keep]) / std[keep]) @ beta
    return predict


def prediction(tasks, modules, distances, own, delta, lam):
    n = len(tasks)
    names, columns = features(modules, distances, n)
    rows = evaluated_rows(tasks, own, delta)

    def design(pairs):
        return np.array([[c[i][j] for c in columns] for i, j in pairs], dtype=float).reshape(len(pairs), len(columns))

    per_task, best = {}, {}
    for t in range(n):
        train = [r for r in rows if r[0] != t and r[1] != t]
        test = [r for r in rows if r[0] == t]
        rho, choice = None, None
        if train and test and names:
            xt, yt = design([(i, j) for i, j, _ in train]), np.array([v for _, _, v in train])
            xs, ys = design([(i, j) for i, j, _ in test]), [v for _, _, v in test]
            predicted = ridge_fit(xt, yt, lam)(xs)
            rho = spearman([float(v) for v in predicted], ys)
            scored = [(spearman(list(xt[:, f]), list(yt)), f) for f in range(len(names))]
            scored = [(s, f) for s, f in scored if s is not None]
            if scored:
                top = max(s for s, _ in scored)
                f = min(f for s, f in scored if s == top)
                choice = {"feature": names[f], "rho": spearman(list(xs[:, f]), ys)}
        per_task[tasks[t]] = rho
        best[tasks[t]] = choice
    mean, std = mean_std([v for v in per_task.values() if v is not None])
    best_mean, best_std = mean_std([v["rho"] for v in best.values() if v is not None and v["rho"] is not None])
    # Every ordered pair from the ridge fitted on all evaluated rows.
    predictions = []
    if rows and names:
        predict = ridge_fit(design([(i, j) for i, j, _ in rows]), np.array([v for _, _, v in rows]), lam)
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        values = predict(design(pairs))
        observed = {(i, j): v for i, j, v in rows}
        for (i, j), v in zip(pairs, values):
            predictions.append({"host": tasks[i], "partner": tasks[j], "predicted": float(v),
                                "observed": observed.get((i, j))})
    return {"features": names, "ridge_lambda": lam, "per_task": per_task, "mean": mean, "std": std,
            "select_best": {"per_task": best, "mean": best_mean, "std": best_std},
            "merge_predictions": predictions}


# ---------------------------------------------------------------- main

def drop_merges(scores_path, out_path, tasks, fraction, seed):
    """Writes a copy of the scores without `fraction` of the merge rows (chosen with `seed`)."""
    with open(scores_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    model = header.index("model")
    merges = [k for k, row in enumerate(rows) if "+" in row[model]]
    dropped = set(random.Random(seed).sample(merges, int(len(merges) * fraction)))
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for k, row in enumerate(rows):
            if k not in dropped:
                writer.writerow(row)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distances", required=True)
    parser.add_argument("--scores", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ridge-lambda", type=float, default=1.0)
    parser.add_argument("--drop-merges", type=float, help="first write --write-scores without this share of the merges")
    parser.add_argument("--drop-seed", type=int, default=18)
    parser.add_argument("--write-scores")
    args = parser.parse_args(argv)
    tasks, modules, distances = load_golden(args.distances)
    scores = args.scores
    if args.drop_merges is not None:
        drop_merges(args.scores, args.write_scores, tasks, args.drop_merges, args.drop_seed)
        scores = args.write_scores
    own, merged = load_scores(scores, tasks)
    delta = delta_matrix(tasks, own, merged)
    layers, best = per_layer(tasks, modules, distances, delta)
    result = {
        "schema": SCHEMA,
        "generator": f"scripts/reference_prediction.py (numpy {np.__version__}, scipy {scipy.__version__})",
        "distances": args.distances, "scores": scores, "tasks": tasks, "modules": modules,
        "per_layer": layers, "best_layer": best,
        "prediction": prediction(tasks, modules, distances, own, delta, args.ridge_lambda),
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, allow_nan=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
