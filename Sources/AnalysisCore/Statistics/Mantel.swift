/// The Mantel test between two N×N distance matrices, with Spearman's ρ as the statistic: ρ
/// between their upper triangles (i < j, row by row), and a one-sided permutation p-value, the
/// share of simultaneous row/column permutations of the second matrix whose ρ reaches the
/// observed one (within 1e-12, so ties count), the identity included. Every permutation when
/// N! ≤ `permutations`; otherwise the identity plus `permutations` random ones (Fisher–Yates from
/// SplitMix64(seed), so the p-value is reproducible but is not NumPy's stream).
public enum Mantel {
    public static let defaultPermutations = 9_999

    public struct Result: Sendable, Equatable {
        /// Spearman's ρ between the upper triangles, in [−1, 1].
        public var spearman: Double
        /// One-sided p-value, in (0, 1].
        public var p: Double
        /// The number of permutations the p-value counts (identity included).
        public var permutations: Int
        /// Whether every permutation was counted.
        public var exact: Bool
    }

    /// nil when ρ is undefined: N < 3 (fewer than three pairs), a non-finite entry or a constant triangle.
    public static func test(_ first: [[Double]], _ second: [[Double]], permutations: Int = defaultPermutations,
                            seed: UInt64 = Bootstrap.seed) -> Result? {
        let n = first.count
        precondition(second.count == n && first.allSatisfy { $0.count == n } && second.allSatisfy { $0.count == n })
        let x = upperTriangle(first) { first[$0][$1] }
        guard let observed = Correlation.compute(.spearman, x, upperTriangle(second) { second[$0][$1] })?.value else { return nil }
        let ranksX = Correlation.averageRanks(x)
        var atLeast = 0, total = 0
        func count(_ order: [Int]) {
            let y = upperTriangle(second) { second[order[$0]][order[$1]] }
            total += 1
            if Correlation.pearsonCoefficient(ranksX, Correlation.averageRanks(y)) >= observed - 1e-12 { atLeast += 1 }
        }
        var order = Array(0..<n)
        let exact = factorial(n, atMost: permutations) != nil
        if exact {
            // Heap's algorithm: every permutation once, the identity first.
            count(order)
            var counters = [Int](repeating: 0, count: n)
            var i = 1
            while i < n {
                if counters[i] < i {
                    order.swapAt(i % 2 == 0 ? 0 : counters[i], i)
                    count(order)
                    counters[i] += 1
                    i = 1
                } else {
                    counters[i] = 0
                    i += 1
                }
            }
        } else {
            count(order)
            var generator = SplitMix64(seed: seed)
            for _ in 0..<permutations {
                var shuffled = Array(0..<n)
                for index in stride(from: n - 1, to: 0, by: -1) {
                    shuffled.swapAt(index, Int(generator.next() % UInt64(index + 1)))
                }
                count(shuffled)
            }
        }
        return Result(spearman: observed, p: Double(atLeast) / Double(total), permutations: total, exact: exact)
    }

    /// The entries (i, j), i < j, row by row.
    static func upperTriangle(_ matrix: [[Double]], _ entry: (Int, Int) -> Double) -> [Double] {
        var values: [Double] = []
        for i in matrix.indices {
            for j in (i + 1)..<max(matrix.count, i + 1) { values.append(entry(i, j)) }
        }
        return values
    }

    /// n!, or nil when it exceeds `limit`.
    static func factorial(_ n: Int, atMost limit: Int) -> Int? {
        var product = 1
        for factor in stride(from: 2, through: n, by: 1) {
            product *= factor
            if product > limit { return nil }
        }
        return product
    }
}
