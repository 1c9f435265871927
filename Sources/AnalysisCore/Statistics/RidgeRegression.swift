/// Ridge regression on standardised features with an unpenalised intercept, for predicting the
/// merge loss from distances (docs/metrics.md, "What predicts the merge loss").
///
/// Fit on rows X (n × p) and y: each feature is standardised with the rows' mean and population
/// std; a feature whose std is at most `constantTolerance` × its largest |value| is constant on
/// these rows and dropped; y is centred on its mean (the intercept, not penalised); then
/// β = (ZᵀZ + λI)⁻¹Zᵀ(y − ȳ), solved by Cholesky (ZᵀZ + λI is positive definite for λ > 0).
public struct RidgeModel: Sendable {
    /// A feature is constant when its std is at most this share of its largest |value|.
    public static let constantTolerance = 1e-12

    public var featureMeans: [Double]
    public var featureStds: [Double]
    /// Which features take part (non-constant on the training rows).
    public var kept: [Bool]
    /// One coefficient per kept feature, in feature order.
    public var coefficients: [Double]
    public var intercept: Double

    /// Requires λ > 0, at least one row, and rows of equal length.
    public init(rows x: [[Double]], targets y: [Double], lambda: Double) {
        precondition(lambda > 0 && !x.isEmpty && x.count == y.count)
        let n = Double(x.count), p = x[0].count
        let yMean = y.reduce(0, +) / n
        intercept = yMean
        let means = (0..<p).map { f in x.reduce(0) { $0 + $1[f] } / n }
        let stds = (0..<p).map { f in (x.reduce(0) { $0 + ($1[f] - means[f]) * ($1[f] - means[f]) } / n).squareRoot() }
        let keep = (0..<p).map { f in stds[f] > Self.constantTolerance * x.map { abs($0[f]) }.max()! }
        featureMeans = means
        featureStds = stds
        kept = keep
        let columns = (0..<p).filter { keep[$0] }
        let k = columns.count
        guard k > 0 else {
            coefficients = []
            return
        }
        let z = x.map { row in columns.map { (row[$0] - means[$0]) / stds[$0] } }
        var normal = [Double](repeating: 0, count: k * k)
        var right = [Double](repeating: 0, count: k)
        for (row, target) in zip(z, y) {
            let centred = target - yMean
            for a in 0..<k {
                right[a] += row[a] * centred
                for b in 0...a { normal[a * k + b] += row[a] * row[b] }
            }
        }
        for a in 0..<k { normal[a * k + a] += lambda }
        coefficients = Self.choleskySolve(&normal, right, size: k)
    }

    /// The prediction for one row of raw (unstandardised) features.
    public func predict(_ row: [Double]) -> Double {
        var value = intercept, index = 0
        for f in row.indices where kept[f] {
            value += coefficients[index] * (row[f] - featureMeans[f]) / featureStds[f]
            index += 1
        }
        return value
    }

    /// Solves M·x = b for a symmetric positive definite M (lower triangle read, row-major k × k).
    static func choleskySolve(_ m: inout [Double], _ b: [Double], size k: Int) -> [Double] {
        // M = L·Lᵀ in place (lower triangle).
        for j in 0..<k {
            var diagonal = m[j * k + j]
            for l in 0..<j { diagonal -= m[j * k + l] * m[j * k + l] }
            let pivot = diagonal.squareRoot()
            m[j * k + j] = pivot
            for i in (j + 1)..<max(k, j + 1) {
                var sum = m[i * k + j]
                for l in 0..<j { sum -= m[i * k + l] * m[j * k + l] }
                m[i * k + j] = sum / pivot
            }
        }
        var x = b
        for i in 0..<k {
            for l in 0..<i { x[i] -= m[i * k + l] * x[l] }
            x[i] /= m[i * k + i]
        }
        for i in stride(from: k - 1, through: 0, by: -1) {
            for l in (i + 1)..<k { x[i] -= m[l * k + i] * x[l] }
            x[i] /= m[i * k + i]
        }
        return x
    }
}

extension Correlation {
    /// Spearman's ρ alone (no p-value: cheap for many calls), nil where `compute` gives none.
    public static func spearmanCoefficient(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count)
        guard x.count >= minimumCount, x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite), !isConstant(x), !isConstant(y) else { return nil }
        return pearsonCoefficient(averageRanks(x), averageRanks(y))
    }

    /// Two-sided p of the one-sample t-test of mean(values) = 0 (t = mean/(s/√n), s with n − 1,
    /// n − 1 degrees of freedom, as `scipy.stats.ttest_1samp`); nil with fewer than two values or
    /// no spread.
    public static func oneSampleTTestP(_ values: [Double]) -> Double? {
        let n = Double(values.count)
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        guard variance > 0 else { return nil }
        let t = abs(mean) / (variance / n).squareRoot()
        return min(1, 2 * StudentT.survival(t, degreesOfFreedom: n - 1))
    }

    /// Holm's step-down adjusted p-values, in the input order: sorted ascending (ties by
    /// position), p_(k) × (m − k + 1), made non-decreasing, capped at 1.
    public static func holmAdjusted(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[index]))
            adjusted[index] = running
        }
        return adjusted
    }
}
