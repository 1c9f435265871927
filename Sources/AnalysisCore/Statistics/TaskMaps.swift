import Diagnostics

/// Two-dimensional maps of the tasks from a layer-mean distance matrix, and a task ordering.
public enum TaskMaps {
    public struct PCA: Sendable, Equatable {
        /// N × 2: the scores U·S of the first two components (0 where a component does not exist).
        public var coordinates: [[Double]]
        /// The share of the total variance carried by each of the two components.
        public var explainedVarianceRatio: [Double]
    }

    public struct MDS: Sendable, Equatable {
        /// N × 2: eigenvector · √λ for the two largest eigenvalues (0 where λ ≤ 0).
        public var coordinates: [[Double]]
        /// All eigenvalues of −½·J·D²·J, descending.
        public var eigenvalues: [Double]
        /// (Positive part of the top two eigenvalues) / (sum of all positive eigenvalues).
        public var positiveMass: Double
        /// Kruskal's stress-1 of the 2-D configuration against D.
        public var stress1: Double
        /// Components dropped because their eigenvalue is ≤ 0 although the points could span them
        /// (D is not Euclidean there); with n points, components from n − 1 on are 0 silently.
        public var nonPositiveComponents: [Int]
    }

    public struct Clustering: Sendable, Equatable {
        /// SciPy's linkage layout: [cluster a, cluster b, height, size], a < b; leaves are 0..<N and
        /// the k-th merge creates cluster N + k.
        public var merges: [(Int, Int, Double, Int)]
        /// Leaves in dendrogram order (left child first).
        public var order: [Int]

        public init(merges: [(Int, Int, Double, Int)], order: [Int]) {
            self.merges = merges
            self.order = order
        }

        public static func == (lhs: Clustering, rhs: Clustering) -> Bool {
            lhs.order == rhs.order && lhs.merges.count == rhs.merges.count
                && zip(lhs.merges, rhs.merges).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 && $0.3 == $1.3 }
        }
    }

    /// PCA of the rows of `matrix` (N × N, columns centred). Each component's sign makes its
    /// largest-magnitude loading positive (ties within 1e-12: the lowest index), so maps are the
    /// same on every machine. nil when a value is not finite.
    public static func pca(_ matrix: [[Double]]) throws(ToolError) -> PCA? {
        let n = matrix.count
        guard n > 0, matrix.allSatisfy({ $0.count == n && $0.allSatisfy(\.isFinite) }) else { return nil }
        var centred = Matrix(zeros: n, n)
        for j in 0..<n {
            let mean = matrix.reduce(0) { $0 + $1[j] } / Double(n)
            for i in 0..<n { centred[i, j] = matrix[i][j] - mean }
        }
        let (u, sigma, vt) = try Factorizations.svd(centred)
        let total = sigma.reduce(0) { $0 + $1 * $1 }
        var coordinates = [[Double]](repeating: [0, 0], count: n)
        var ratios = [0.0, 0.0]
        for k in 0..<min(2, sigma.count) {
            let loadings = (0..<n).map { vt[k, $0] }
            let sign = signMakingLargestPositive(loadings)
            for i in 0..<n { coordinates[i][k] = sign * u[i, k] * sigma[k] }
            ratios[k] = total > 0 ? sigma[k] * sigma[k] / total : 0
        }
        return PCA(coordinates: coordinates, explainedVarianceRatio: ratios)
    }

    /// Classical (Torgerson) MDS of the distance matrix D. nil when a value is not finite.
    public static func mds(_ distances: [[Double]]) throws(ToolError) -> MDS? {
        let n = distances.count
        guard n > 0, distances.allSatisfy({ $0.count == n && $0.allSatisfy(\.isFinite) }) else { return nil }
        // B = −½ J D² J, J = I − 11ᵀ/n: double centring of the squared distances.
        var squared = Matrix(zeros: n, n)
        for i in 0..<n { for j in 0..<n { squared[i, j] = distances[i][j] * distances[i][j] } }
        let rowMeans = (0..<n).map { i in (0..<n).reduce(0) { $0 + squared[i, $1] } / Double(n) }
        let colMeans = (0..<n).map { j in (0..<n).reduce(0) { $0 + squared[$1, j] } / Double(n) }
        let grand = rowMeans.reduce(0, +) / Double(n)
        var b = Matrix(zeros: n, n)
        for i in 0..<n { for j in 0..<n { b[i, j] = -0.5 * (squared[i, j] - rowMeans[i] - colMeans[j] + grand) } }
        let (values, vectors) = try Factorizations.symmetricEigen(b)
        var coordinates = [[Double]](repeating: [0, 0], count: n)
        var dropped: [Int] = []
        for k in 0..<min(2, n) {
            // n points span at most n − 1 dimensions: a component beyond that is no finding.
            guard values[k] > 0 else {
                if k < n - 1 { dropped.append(k) }
                continue
            }
            let vector = (0..<n).map { vectors[$0, k] }
            let sign = signMakingLargestPositive(vector)
            for i in 0..<n { coordinates[i][k] = sign * vector[i] * values[k].squareRoot() }
        }
        let positive = values.filter { $0 > 0 }.reduce(0, +)
        let captured = values.prefix(2).filter { $0 > 0 }.reduce(0, +)
        var residual = 0.0, scale = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let dx = coordinates[i][0] - coordinates[j][0], dy = coordinates[i][1] - coordinates[j][1]
                let embedded = (dx * dx + dy * dy).squareRoot()
                residual += (distances[i][j] - embedded) * (distances[i][j] - embedded)
                scale += distances[i][j] * distances[i][j]
            }
        }
        return MDS(coordinates: coordinates, eigenvalues: values, positiveMass: positive > 0 ? captured / positive : 0,
                   stress1: scale > 0 ? (residual / scale).squareRoot() : 0, nonPositiveComponents: dropped)
    }

    /// Average-linkage (UPGMA) hierarchical clustering of a distance matrix: at each step the two
    /// clusters with the smallest mean pairwise distance merge (ties: the lowest cluster ids, first
    /// the lower of the pair, then the other). nil when a value is not finite.
    ///
    /// Cost: O(N²) memory (one matrix of summed distances between clusters) and, per merge, O(N)
    /// plus O(N) for each cluster whose nearest later cluster was one of the two merged (per-row
    /// minima, as in Müllner's generic algorithm); about O(N² log N) on study data, O(N³) at worst.
    /// The mean distance between two clusters is their summed member distances / (|a|·|b|), the
    /// sums kept exactly as merges add them, so integer distances give exact ties.
    public static func averageLinkage(_ distances: [[Double]]) -> Clustering? {
        let n = distances.count
        guard n > 0, distances.allSatisfy({ $0.count == n && $0.allSatisfy(\.isFinite) }) else { return nil }
        // Slot s holds cluster ids[s]; a merge puts the new cluster in the lower slot of the two.
        var sums = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { sums[i * n + j] = distances[i][j] } }
        var ids = Array(0..<n)
        var sizes = [Int](repeating: 1, count: n)
        var active = [Bool](repeating: true, count: n)
        // Per slot: the smallest mean distance to a cluster of higher id, and that cluster's slot
        // (ties: the lowest id). -1 when there is none.
        var rowMinimum = [Double](repeating: .infinity, count: n)
        var rowPartner = [Int](repeating: -1, count: n)
        func mean(_ s: Int, _ t: Int) -> Double { sums[s * n + t] / Double(sizes[s] * sizes[t]) }
        func refreshRow(_ s: Int) {
            var best = Double.infinity, partner = -1
            for t in 0..<n where active[t] && ids[t] > ids[s] {
                let d = mean(s, t)
                if partner < 0 || d < best || (d == best && ids[t] < ids[partner]) { (best, partner) = (d, t) }
            }
            rowMinimum[s] = best
            rowPartner[s] = partner
        }
        for s in 0..<n { refreshRow(s) }
        var merges: [(Int, Int, Double, Int)] = []
        merges.reserveCapacity(max(0, n - 1))
        for step in 0..<max(0, n - 1) {
            var lower = -1
            for s in 0..<n where active[s] && rowPartner[s] >= 0 {
                if lower < 0 || rowMinimum[s] < rowMinimum[lower] || (rowMinimum[s] == rowMinimum[lower] && ids[s] < ids[lower]) {
                    lower = s
                }
            }
            let upper = rowPartner[lower]
            let height = rowMinimum[lower]
            let size = sizes[lower] + sizes[upper]
            merges.append((ids[lower], ids[upper], height, size))
            // The merged cluster takes slot `lower`; its summed distances are the two rows added.
            let kept = min(lower, upper), dropped = max(lower, upper)
            active[dropped] = false
            for t in 0..<n where active[t] && t != kept {
                let sum = sums[kept * n + t] + sums[dropped * n + t]
                sums[kept * n + t] = sum
                sums[t * n + kept] = sum
            }
            ids[kept] = n + step
            sizes[kept] = size
            // The new cluster has the highest id: its own row is empty; every other row gains it
            // as a candidate, and rows that pointed at a merged cluster are searched again.
            rowMinimum[kept] = .infinity
            rowPartner[kept] = -1
            for s in 0..<n where active[s] && s != kept {
                if rowPartner[s] == kept || rowPartner[s] == dropped {
                    refreshRow(s)
                } else {
                    let d = mean(s, kept)
                    if rowPartner[s] < 0 || d < rowMinimum[s] { (rowMinimum[s], rowPartner[s]) = (d, kept) }
                }
            }
        }
        // Leaves left to right, left child first, without recursion (the tree can be N deep).
        var order: [Int] = []
        order.reserveCapacity(n)
        var stack = [n == 1 ? 0 : 2 * n - 2]
        while let node = stack.popLast() {
            if node < n { order.append(node); continue }
            let merge = merges[node - n]
            stack.append(merge.1)
            stack.append(merge.0)
        }
        return Clustering(merges: merges, order: order)
    }

    /// +1 or −1: the sign that makes the entry of largest magnitude positive (ties within 1e-12
    /// of the largest magnitude: the lowest index).
    static func signMakingLargestPositive(_ vector: [Double]) -> Double {
        guard let largest = vector.map({ abs($0) }).max(), largest > 0 else { return 1 }
        let index = vector.firstIndex { abs($0) >= largest - 1e-12 * largest }!
        return vector[index] < 0 ? -1 : 1
    }
}
