import Diagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much of a full task vector τ = W_t − W_0 its leading singular directions carry.
public struct TaskVectorSpectrum: Sendable, Equatable {
    /// The subspace dimension used: min(requested k, numerical rank).
    public var k: Int
    /// Σ_{m≤k} σ_m² / Σ σ², in [0, 1]; NaN for τ = 0.
    public var capturedEnergy: Double
    /// exp(−Σ pᵢ log pᵢ) with pᵢ = σᵢ / Σσ (Roy & Vetterli), in [1, min(d_out, d_in)]; NaN for
    /// τ = 0 and on the randomized path (which does not see the whole spectrum).
    public var effectiveRank: Double
    /// Whether the leading directions came from the randomized range finder.
    public var randomized: Bool
}

/// Distances between full fine-tuning task vectors of one block (N dense d_out × d_in matrices):
/// `l2` and `cosine` as for LoRA; `grassmann` between the spans of the top-k left singular
/// vectors, `grassmann_a` between the top-k right singular vectors; `grassmann_b` does not apply
/// (NaN). Matrices up to `exactLimit` in their smaller dimension get exact subspaces (from the
/// Gram matrix when that is accurate enough, else a thin SVD), larger ones a randomized range
/// finder (see `leadingSubspaces`).
public enum FullTaskVectors {
    public static let exactLimit = 2048
    /// Oversampling and power iterations of the randomized range finder.
    public static let oversampling = 10
    public static let powerIterations = 3

    public struct BlockResult: Sendable {
        public var distances: [DistanceMetric: PairMatrix]
        public var norms: [Double]
        public var spectra: [TaskVectorSpectrum]
    }

    /// `deltas` are τ_i, column-major d_out × d_in, all of one shape; or, with `transposed`, τ_iᵀ
    /// (d_in × d_out: a row-major weight read as stored), whose left and right subspaces are
    /// swapped back, so the result is the same either way.
    public static func analyze(_ deltas: [Matrix], subspaceRank: Int, seed: UInt64 = Bootstrap.seed,
                               transposed: Bool = false) throws(ToolError) -> BlockResult {
        let count = deltas.count
        // A matrix exists only for a metric the kernel fills (see `DistanceMetric.applying(to:)`).
        var distances: [DistanceMetric: PairMatrix] = [:]
        guard let first = deltas.first else { return BlockResult(distances: distances, norms: [], spectra: []) }
        if transposed, min(first.rows, first.cols) > exactLimit {
            // The randomized range finder sketches τ's columns: give it τ, as documented.
            return try analyze(deltas.map(\.transposed), subspaceRank: subspaceRank, seed: seed)
        }
        for (index, delta) in deltas.enumerated() where delta.rows != first.rows || delta.cols != first.cols {
            throw .internalError("block shape mismatch: task vector \(index) is \(delta.rows)×\(delta.cols), 0 is \(first.rows)×\(first.cols)")
        }
        let norms = deltas.map(\.frobeniusNorm)
        var left: [Matrix] = [], right: [Matrix] = [], spectra: [TaskVectorSpectrum] = []
        for (index, delta) in deltas.enumerated() {
            let (u, v, spectrum) = try leadingSubspaces(delta, k: subspaceRank, seed: seed &+ UInt64(index))
            left.append(u); right.append(v); spectra.append(spectrum)
        }
        func set(_ metric: DistanceMetric, _ i: Int, _ j: Int, _ value: Double) {
            distances[metric, default: PairMatrix(count: count)][i, j] = value
            distances[metric, default: PairMatrix(count: count)][j, i] = value
        }
        var difference = Matrix(zeros: first.rows, first.cols)  // reused by every pair
        for i in 0..<count {
            set(.l2, i, i, 0)
            set(.cosine, i, i, norms[i] > 0 ? 0 : .nan)
            set(.grassmann, i, i, left[i].cols > 0 ? 0 : .nan)
            set(.grassmannA, i, i, right[i].cols > 0 ? 0 : .nan)
            for j in (i + 1)..<max(count, i + 1) {
                // A dense subtraction: no cancellation for nearly equal checkpoints.
                difference.values.withUnsafeMutableBufferPointer { out in
                    deltas[i].values.withUnsafeBufferPointer { a in
                        deltas[j].values.withUnsafeBufferPointer { b in
                            for index in out.indices { out[index] = a[index] - b[index] }
                        }
                    }
                }
                set(.l2, i, j, difference.frobeniusNorm)
                let inner = Matrix.frobeniusInner(deltas[i], deltas[j])
                set(.cosine, i, j, norms[i] > 0 && norms[j] > 0 ? min(2, max(0, 1 - inner / (norms[i] * norms[j]))) : .nan)
                for (metric, bases) in [(DistanceMetric.grassmann, left), (.grassmannA, right)] {
                    let p = Subspace(wholeHostOfRank: bases[i].cols), q = Subspace(wholeHostOfRank: bases[j].cols)
                    let cross = Matrix.multiply(bases[i], transposeA: true, bases[j])
                    let (angles, _) = try BlockGeometry.principalAngles(p, q, hostCross: cross) { (bases[i], bases[j]) }
                    set(metric, i, j, angles.map(PrincipalAngles.grassmannDistance) ?? .nan)
                }
            }
        }
        if transposed { (distances[.grassmann], distances[.grassmannA]) = (distances[.grassmannA], distances[.grassmann]) }
        return BlockResult(distances: distances, norms: norms, spectra: spectra)
    }

    /// The top-k left and right singular vectors of τ (k capped at the numerical rank, SciPy's
    /// rule) and its spectrum; the columns of `left` and `right` are orthonormal, each singular
    /// vector up to its sign. When min(d_out, d_in) ≤ `exactLimit`: from the Gram matrix
    /// (`gramSubspaces`, unless `useGram` is false or its accuracy guard refuses), else an exact
    /// thin SVD (dgesdd); both agree to within `gramTolerance`. Otherwise a
    /// randomized range finder (Halko, Martinsson & Tropp): a Gaussian sketch of k + 10 columns
    /// from a SplitMix64 stream, 3 power iterations with re-orthonormalisation, then the SVD of
    /// the small projection. Its subspaces match the exact ones to within a few times
    /// (σ_{k+11}/σ_k)^7 in the sine of the largest angle (4.4× on σ_j = 1/j, k = 8: measured
    /// against an analytic reference in FullTaskVectorsTests).
    public static func leadingSubspaces(_ delta: Matrix, k requested: Int, seed: UInt64, exactLimit: Int = exactLimit,
                                        useGram: Bool = true) throws(ToolError)
        -> (left: Matrix, right: Matrix, spectrum: TaskVectorSpectrum)
    {
        let m = delta.rows, n = delta.cols
        let total = delta.values.reduce(0) { $0 + $1 * $1 }
        if min(m, n) <= exactLimit {
            if useGram, let fast = try gramSubspaces(delta, k: requested, total: total) { return fast }
            // Divide and conquer: the same thin SVD to rounding, a few times faster than dgesvd here.
            let (u, sigma, vt) = try Factorizations.svdDivideAndConquer(delta)
            let k = min(requested, Factorizations.numericalRank(sigma, rows: m, cols: n))
            let captured = sigma.prefix(k).reduce(0) { $0 + $1 * $1 }
            let sum = sigma.reduce(0, +)
            var entropy = 0.0
            for value in sigma where value > 0 {
                let p = value / sum
                entropy -= p * log(p)
            }
            let spectrum = TaskVectorSpectrum(k: k, capturedEnergy: total > 0 ? captured / total : .nan,
                                              effectiveRank: sum > 0 ? exp(entropy) : .nan, randomized: false)
            return (u.columns(0..<k), vt.transposed.columns(0..<k), spectrum)
        }
        let width = min(requested + oversampling, min(m, n))
        var generator = SplitMix64(seed: seed)
        var sketch = Matrix(zeros: n, width)
        for index in sketch.values.indices { sketch.values[index] = gaussian(&generator) }
        var range = try Factorizations.thinQR(delta * sketch).q
        for _ in 0..<powerIterations {
            let back = try Factorizations.thinQR(Matrix.multiply(delta, transposeA: true, range)).q
            range = try Factorizations.thinQR(delta * back).q
        }
        let projected = Matrix.multiply(range, transposeA: true, delta)  // width × n
        let (small, sigma, vt) = try Factorizations.svd(projected)
        let k = min(requested, Factorizations.numericalRank(sigma, rows: m, cols: n))
        let captured = sigma.prefix(k).reduce(0) { $0 + $1 * $1 }
        let spectrum = TaskVectorSpectrum(k: k, capturedEnergy: total > 0 ? captured / total : .nan,
                                          effectiveRank: .nan, randomized: true)
        return ((range * small).columns(0..<k), vt.transposed.columns(0..<k), spectrum)
    }

    /// The accuracy a Gram result must be estimated to reach (relative, on the effective rank and
    /// in the sine of the subspace angles) to be used; otherwise the exact SVD runs.
    public static let gramTolerance = 1e-9

    /// The exact-path result from the Gram matrix of τ on its smaller side (p = min(d_out, d_in)):
    /// σ = √eig(τᵀτ), the top-k right singular vectors as its eigenvectors, the left ones as the
    /// orthonormalised τ·V_k (a d_out × d_in τ with d_out < d_in goes through τᵀ). Half the work of
    /// the bidiagonalisation an SVD needs; but an eigenvalue λ of the computed Gram is only known to
    /// about ε·λ₁ (ε = 2⁻⁵²), so √λ loses accuracy where σ is small. Nil (the caller runs the exact
    /// SVD) unless a first-order estimate keeps every result within `gramTolerance`:
    /// - every λ > 0, and the effective rank's relative error Σ_j (ε·λ₁/σ_j)·(|log p_j| + H)/Σσ ≤ tol
    ///   (δσ_j ≤ ε·λ₁/σ_j; ∂H/∂σ_j = −(log p_j + H)/Σσ); this also keeps every σ far above SciPy's
    ///   rank threshold, so the numerical rank is p (a rank-deficient or zero τ takes the exact path);
    /// - when k < p, the subspace's error ε·λ₁/(λ_k − λ_{k+1}) ≤ tol (a perturbation of norm ε·λ₁
    ///   against the eigengap).
    /// On the MiniLM checkpoints (384 × 384) the estimate is at most 2.5e-10 and the measured
    /// differences to the SVD are 1e-12 (effective rank) and 6e-14 (sines of the angles).
    static func gramSubspaces(_ delta: Matrix, k requested: Int, total: Double) throws(ToolError)
        -> (left: Matrix, right: Matrix, spectrum: TaskVectorSpectrum)?
    {
        if delta.rows < delta.cols {
            guard let flipped = try gramSubspaces(delta.transposed, k: requested, total: total) else { return nil }
            return (flipped.right, flipped.left, flipped.spectrum)
        }
        let p = delta.cols
        guard p > 0, total > 0 else { return nil }
        var gram: [Double] = []
        Matrix.gram(of: delta.values, rows: delta.rows, cols: p, into: &gram)
        let k = min(max(requested, 0), p)
        let (lambda, right) = try Factorizations.symmetricEigenvaluesAndTopVectors(gram, n: p, top: k)
        guard let largest = lambda.first, let smallest = lambda.last, smallest > 0 else { return nil }
        let error = Double.ulpOfOne * largest
        if k > 0, k < p {
            let gap = lambda[k - 1] - lambda[k]
            guard gap > 0, error / gap <= gramTolerance else { return nil }
        }
        let sigma = lambda.map { $0.squareRoot() }
        let sum = sigma.reduce(0, +)
        var entropy = 0.0
        for value in sigma {
            let share = value / sum
            entropy -= share * log(share)
        }
        var estimate = 0.0
        for value in sigma { estimate += error / value * (abs(log(value / sum)) + entropy) }
        guard estimate / sum <= gramTolerance, Factorizations.numericalRank(sigma, rows: delta.rows, cols: p) == p else { return nil }
        // τ·V_k = U_k·Σ_k: orthogonal columns, so the Householder QR returns U_k up to signs.
        let left = k > 0 ? try Factorizations.thinQR(delta * right).q : Matrix(zeros: delta.rows, 0)
        let captured = lambda.prefix(k).reduce(0, +)
        let spectrum = TaskVectorSpectrum(k: k, capturedEnergy: captured / total, effectiveRank: exp(entropy), randomized: false)
        return (left, right, spectrum)
    }

    static func gaussian(_ generator: inout SplitMix64) -> Double {
        let u1 = (Double(generator.next() >> 11) + 0.5) * 0x1p-53
        let u2 = Double(generator.next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

extension Subspace {
    /// A subspace spanned by all of its (orthonormal) host's columns.
    init(wholeHostOfRank rank: Int) {
        coefficients = nil
        self.rank = rank
    }
}
