#!/usr/bin/env python3
"""Golden cuts and silhouettes of average-linkage trees for TaskClustersTests.

Writes Tests/Fixtures/golden/clusters.json: for a few seeded distance matrices (points in a few
Gaussian blobs, Euclidean distances), SciPy's average linkage, `fcluster(Z, k, 'maxclust')` for
every k in 2..min(N-1, 20) (labels renumbered 0, 1, ... by first appearance in `leaves_list`),
Rousseeuw's silhouette per point (computed here with NumPy: a lone point has 0), the mean, and the
medoid of each cluster (smallest summed distance to its members, ties: lowest index).

    python3 scripts/reference_clusters.py --out Tests/Fixtures/golden/clusters.json
"""
import argparse
import json

import numpy as np
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import pdist, squareform


def silhouette(D, labels):
    n = len(labels)
    ks = sorted(set(labels))
    if len(ks) < 2 or len(ks) >= n:
        return [float("nan")] * n
    s = np.zeros(n)
    for i in range(n):
        own = labels == labels[i]
        if own.sum() == 1:
            s[i] = 0.0
            continue
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == c].mean() for c in ks if c != labels[i])
        s[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return s.tolist()


def medoids(D, labels, k):
    out = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        sums = D[np.ix_(members, members)].sum(axis=1)
        out.append(int(members[np.argmin(sums)]))
    return out


def case(name, seed, n, blobs, dims=5):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(blobs, dims))
    points = centres[rng.integers(0, blobs, size=n)] + rng.normal(size=(n, dims))
    D = squareform(pdist(points))
    Z = linkage(pdist(points), "average")
    heights = Z[:, 2]
    assert len(set(heights.tolist())) == len(heights), "tied heights: pick another seed"
    order = leaves_list(Z)
    cuts = []
    for k in range(2, min(n - 1, 20) + 1):
        raw = fcluster(Z, k, "maxclust")
        renumber = {}
        for leaf in order:
            renumber.setdefault(raw[leaf], len(renumber))
        labels = np.array([renumber[x] for x in raw])
        assert len(renumber) == k
        s = silhouette(D, labels)
        cuts.append({"k": k, "labels": labels.tolist(), "silhouette": s, "mean": float(np.mean(s)),
                     "medoids": medoids(D, labels, k)})
    best = max(cuts, key=lambda c: (c["mean"], -c["k"]))
    return {"name": name, "distances": D.tolist(), "order": order.tolist(),
            "heights": heights.tolist(), "cuts": cuts, "best_k": best["k"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    cases = [case("blobs-12", 1, 12, 3), case("blobs-30", 2, 30, 4), case("blobs-60", 3, 60, 6)]
    with open(args.out, "w") as f:
        json.dump({"generator": "scripts/reference_clusters.py", "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
