#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A rank or linear correlation between two samples, with its two-sided p-value.
public struct CorrelationResult: Sendable, Equatable {
    /// The coefficient, in [−1, 1].
    public var value: Double
    /// Two-sided p-value under independence, in [0, 1].
    public var p: Double
    /// The number of pairs used.
    public var n: Int
}

/// The three coefficients tvgeo reports between a distance and the merge loss.
public enum CorrelationKind: String, CaseIterable, Sendable {
    case spearman, pearson, kendall
}

public enum Correlation {
    /// Samples smaller than this have no coefficient.
    public static let minimumCount = 3
    /// Spearman p-values are exact (all n! permutations) up to this n, then from Student's t.
    public static let exactPermutationLimit = 9

    /// The coefficient of `kind` between x and y (same length), or nil when it is undefined:
    /// fewer than three pairs, a non-finite value, or a constant side.
    public static func compute(_ kind: CorrelationKind, _ x: [Double], _ y: [Double]) -> CorrelationResult? {
        precondition(x.count == y.count)
        let n = x.count
        guard n >= minimumCount, x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite),
              !isConstant(x), !isConstant(y) else { return nil }
        switch kind {
        case .spearman: return spearman(x, y)
        case .pearson:
            let r = pearsonCoefficient(x, y)
            return CorrelationResult(value: r, p: studentTwoSidedP(r, n: n), n: n)
        case .kendall: return kendallTauB(x, y)
        }
    }

    static func isConstant(_ values: [Double]) -> Bool {
        guard let first = values.first else { return true }
        return values.allSatisfy { $0 == first }
    }

    /// Ranks from 1, ties sharing the average of their ranks.
    public static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for k in start...end { ranks[order[k]] = average }
            start = end + 1
        }
        return ranks
    }

    /// Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²), clamped to [−1, 1].
    public static func pearsonCoefficient(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for k in x.indices {
            let dx = x[k] - mx, dy = y[k] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// p = 2·P(T > |t|) with t = r·√((n−2)/(1−r²)) and n − 2 degrees of freedom; 0 when |r| = 1.
    static func studentTwoSidedP(_ r: Double, n: Int) -> Double {
        guard abs(r) < 1 else { return 0 }
        let df = Double(n - 2)
        let t = abs(r) * (df / (1 - r * r)).squareRoot()
        return min(1, 2 * StudentT.survival(t, degreesOfFreedom: df))
    }

    /// Spearman's ρ (Pearson on average ranks); p exact by permutation for n ≤ 9, else Student's t.
    static func spearman(_ x: [Double], _ y: [Double]) -> CorrelationResult {
        let rx = averageRanks(x), ry = averageRanks(y)
        let rho = pearsonCoefficient(rx, ry)
        let n = x.count
        let p = n <= exactPermutationLimit ? exactPermutationP(rx, ry, observed: rho) : studentTwoSidedP(rho, n: n)
        return CorrelationResult(value: rho, p: p, n: n)
    }

    /// The share of the n! pairings of y's ranks with x's ranks whose |ρ| reaches the observed |ρ|
    /// (within 1e-12, so exact ties of the statistic count).
    static func exactPermutationP(_ rx: [Double], _ ry: [Double], observed: Double) -> Double {
        let n = rx.count
        var permutation = ry
        var counters = [Int](repeating: 0, count: n)
        var hits = 0, total = 0
        let threshold = abs(observed) - 1e-12
        func visit() {
            total += 1
            if abs(pearsonCoefficient(rx, permutation)) >= threshold { hits += 1 }
        }
        // Heap's algorithm: every permutation once.
        visit()
        var i = 1
        while i < n {
            if counters[i] < i {
                permutation.swapAt(i % 2 == 0 ? 0 : counters[i], i)
                visit()
                counters[i] += 1
                i = 1
            } else {
                counters[i] = 0
                i += 1
            }
        }
        return Double(hits) / Double(total)
    }

    /// Kendall's τ-b with the asymptotic normal p-value (tie-corrected variance), as
    /// `scipy.stats.kendalltau(method="asymptotic")`.
    static func kendallTauB(_ x: [Double], _ y: [Double]) -> CorrelationResult {
        let n = x.count
        var concordantMinusDiscordant = 0.0, tiedX = 0.0, tiedY = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let sx = (x[i] - x[j]).sign, sy = (y[i] - y[j]).sign
                let zx = x[i] == x[j], zy = y[i] == y[j]
                if zx { tiedX += 1 }
                if zy { tiedY += 1 }
                if !zx && !zy { concordantMinusDiscordant += sx == sy ? 1 : -1 }
            }
        }
        let total = Double(n * (n - 1) / 2)
        let tau = max(-1, min(1, concordantMinusDiscordant / ((total - tiedX) * (total - tiedY)).squareRoot()))
        func tieSums(_ values: [Double]) -> (Double, Double, Double) {
            var counts: [Double: Int] = [:]
            for value in values { counts[value, default: 0] += 1 }
            var pairs = 0.0, v0 = 0.0, v1 = 0.0
            for (_, c) in counts where c > 1 {
                let t = Double(c)
                pairs += t * (t - 1) / 2
                v0 += t * (t - 1) * (t - 2)
                v1 += t * (t - 1) * (2 * t + 5)
            }
            return (pairs, v0, v1)
        }
        let (xtie, x0, x1) = tieSums(x), (ytie, y0, y1) = tieSums(y)
        let m = Double(n) * Double(n - 1)
        let variance = (m * Double(2 * n + 5) - x1 - y1) / 18 + 2 * xtie * ytie / m + x0 * y0 / (9 * m * Double(n - 2))
        let z = concordantMinusDiscordant / variance.squareRoot()
        return CorrelationResult(value: tau, p: min(1, erfc(abs(z) / 2.0.squareRoot())), n: n)
    }
}

private extension Double {
    var sign: Double { self > 0 ? 1 : (self < 0 ? -1 : 0) }
}
