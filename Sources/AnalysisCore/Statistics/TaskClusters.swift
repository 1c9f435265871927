/// A flat clustering of the tasks: a cut of the average-linkage tree, chosen by silhouette.
public struct TaskClusters: Sendable, Equatable {
    /// Cluster index per task (0..<count), clusters numbered by first appearance in the tree's
    /// `order`. In a study's findings, a task left out of the tree (a later copy of an identical
    /// adapter) has its first copy's cluster, and a task whose distances are undefined has −1.
    public var labels: [Int]
    /// The number of clusters k.
    public var count: Int
    /// Mean silhouette of this cut, in [−1, 1] (NaN when k == 1 or k == N).
    public var silhouette: Double
    /// Per cluster (by index), the member with the smallest summed distance to the members of its
    /// cluster (ties: the lowest task index).
    public var medoids: [Int]

    public init(labels: [Int], count: Int, silhouette: Double, medoids: [Int]) {
        self.labels = labels
        self.count = count
        self.silhouette = silhouette
        self.medoids = medoids
    }

    public static func == (lhs: TaskClusters, rhs: TaskClusters) -> Bool {
        lhs.labels == rhs.labels && lhs.count == rhs.count && lhs.medoids == rhs.medoids
            && (lhs.silhouette == rhs.silhouette || (lhs.silhouette.isNaN && rhs.silhouette.isNaN))
    }

    /// The candidate numbers of clusters tried for N tasks: 2 … min(N − 1, 20); empty (nil) below 3
    /// tasks. Twenty clusters is the most a report can name in a few lines.
    public static func defaultCandidates(taskCount: Int) -> ClosedRange<Int>? {
        let upper = min(taskCount - 1, maximumDefaultCount)
        return upper >= 2 ? 2...upper : nil
    }

    /// The largest k of `defaultCandidates`.
    public static let maximumDefaultCount = 20

    /// The cut of `clustering` (the tree of `distances`, N × N, symmetric) whose mean silhouette is
    /// highest among the k of `candidates` (clipped to 2…N − 1; ties: the smallest k). nil when no
    /// candidate is left (N < 3) or when the tree does not span the N tasks of `distances`.
    public static func bySilhouette(_ distances: [[Double]], clustering: TaskMaps.Clustering,
                                    candidates: ClosedRange<Int>) -> TaskClusters? {
        let n = distances.count
        guard clustering.order.count == n, clustering.merges.count == n - 1 else { return nil }
        let lower = max(candidates.lowerBound, 2), upper = min(candidates.upperBound, n - 1)
        guard lower <= upper else { return nil }
        var best: (labels: [Int], k: Int, silhouette: Double)?
        for k in lower...upper {
            let labels = clustering.cut(into: k)
            let score = Silhouette.mean(distances, labels: labels)
            if best == nil || score > best!.silhouette || (best!.silhouette.isNaN && !score.isNaN) { best = (labels, k, score) }
        }
        guard let best else { return nil }
        return TaskClusters(labels: best.labels, count: best.k, silhouette: best.silhouette,
                            medoids: medoids(distances, labels: best.labels, count: best.k))
    }

    /// Per cluster 0..<count, the member with the smallest summed distance to its cluster's members
    /// (ties: the lowest index); −1 for a cluster without members. Labels < 0 are ignored.
    public static func medoids(_ distances: [[Double]], labels: [Int], count: Int) -> [Int] {
        var members = [[Int]](repeating: [], count: count)
        for (task, label) in labels.enumerated() where label >= 0 && label < count { members[label].append(task) }
        return members.map { group in
            var best = -1, bestSum = Double.infinity
            for i in group {
                let sum = group.reduce(0.0) { $0 + distances[i][$1] }
                if best < 0 || sum < bestSum { (best, bestSum) = (i, sum) }
            }
            return best
        }
    }
}

extension TaskMaps.Clustering {
    /// Cluster labels of the cut of this tree into k clusters: the tree after its first
    /// `merges.count − (k − 1)` merges (k is clipped to 1…merges.count + 1). A leaf of `order` that
    /// no merge joins stays a cluster of its own. Clusters are numbered 0, 1, … by first appearance
    /// in `order`; the result is indexed by leaf (0..<order.count).
    ///
    /// For a monotone tree (average linkage) this is SciPy's `fcluster(Z, k, 'maxclust')` whenever
    /// merge `N − k` is strictly lower than merge `N − k + 1`; at a tie SciPy gives fewer clusters,
    /// this cut exactly k.
    public func cut(into k: Int) -> [Int] {
        let leafCount = order.count
        let applied = max(0, merges.count - max(0, k - 1))
        // Union-find over leaves; merge m's cluster is represented by any of its leaves.
        var parent = Array(0..<leafCount)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var representative = [Int](repeating: 0, count: merges.count)
        func leaf(of node: Int) -> Int { node < leafCount ? node : representative[node - leafCount] }
        for (index, merge) in merges.enumerated() {
            let a = leaf(of: merge.0), b = leaf(of: merge.1)
            representative[index] = a
            if index < applied { parent[root(b)] = root(a) }
        }
        var labelOfRoot: [Int: Int] = [:]
        var labels = [Int](repeating: 0, count: leafCount)
        for task in order {
            let r = root(task)
            if labelOfRoot[r] == nil { labelOfRoot[r] = labelOfRoot.count }
            labels[task] = labelOfRoot[r]!
        }
        return labels
    }
}

/// Rousseeuw's silhouette of a flat clustering.
public enum Silhouette {
    /// Per point i: s(i) = (b − a) / max(a, b), a = mean distance from i to the other members of its
    /// cluster, b = the smallest mean distance from i to the members of another cluster. A point
    /// alone in its cluster has s = 0 (Rousseeuw's convention), as has a point with a = b = 0.
    /// All NaN when there are fewer than 2 or as many clusters as points. Points with a label < 0
    /// are left out (their s is NaN and they count in no cluster).
    public static func values(_ distances: [[Double]], labels: [Int]) -> [Double] {
        let n = labels.count
        let count = (labels.max() ?? -1) + 1
        var sizes = [Int](repeating: 0, count: max(count, 0))
        for label in labels where label >= 0 { sizes[label] += 1 }
        let clustersUsed = sizes.filter { $0 > 0 }.count
        let points = sizes.reduce(0, +)
        guard clustersUsed >= 2, clustersUsed < points else { return [Double](repeating: .nan, count: n) }
        var result = [Double](repeating: .nan, count: n)
        var sums = [Double](repeating: 0, count: count)
        for i in 0..<n where labels[i] >= 0 {
            let own = labels[i]
            guard sizes[own] > 1 else { result[i] = 0; continue }
            for c in 0..<count { sums[c] = 0 }
            let row = distances[i]
            for j in 0..<n where labels[j] >= 0 && j != i { sums[labels[j]] += row[j] }
            let a = sums[own] / Double(sizes[own] - 1)
            var b = Double.infinity
            for c in 0..<count where c != own && sizes[c] > 0 { b = min(b, sums[c] / Double(sizes[c])) }
            let scale = max(a, b)
            result[i] = scale > 0 ? (b - a) / scale : 0
        }
        return result
    }

    /// The mean of `values` over the points with a label ≥ 0; NaN when k == 1 or k == N.
    public static func mean(_ distances: [[Double]], labels: [Int]) -> Double {
        let defined = zip(values(distances, labels: labels), labels).filter { $0.1 >= 0 }.map(\.0)
        guard !defined.isEmpty, !defined.contains(where: \.isNaN) else { return .nan }
        return defined.reduce(0, +) / Double(defined.count)
    }
}
