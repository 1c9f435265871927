import CLapack
import Diagnostics

/// Merges of two LoRA updates of one weight, ΔW_i = s_i·B_i·A_i (the host) and ΔW_j = s_j·B_j·A_j
/// (the partner), into factors a PEFT adapter can hold. Pure numerics on one (module, layer) block:
/// no file access, no d × d matrix is ever formed.
///
/// - `average` (comb): element-wise ½(x + y) of two factors, with the host's storage rounding.
/// - `concatenate` (cat): the exact average ½(ΔW_i + ΔW_j) at rank r_i + r_j, scaling 1.
/// - `truncatedAverage` (svd): the best rank-k approximation of that average, for the host's scaling.
public enum LoRAMerge {
    /// ½(x + y) element by element, as PyTorch computes `(x + y) * 0.5` on two tensors of one
    /// floating-point type: the sum is rounded to the type, then the half is rounded to the type.
    /// `round` maps an exact Double to the nearest value of the storage type (ties to even); the
    /// identity for F64. For F32, F16 and BF16 this gives PyTorch's bits (its CPU kernels add in
    /// float32 and round to the storage type after each operation; a float32 sum of two such
    /// values is exact or rounds to the larger operand, so the result is the same).
    public static func average(_ x: [Double], _ y: [Double], round: (Double) -> Double) -> [Double] {
        precondition(x.count == y.count, "average: \(x.count) and \(y.count) elements")
        var out = [Double](repeating: 0, count: x.count)
        for k in 0..<x.count { out[k] = round(round(x[k] + y[k]) * 0.5) }
        return out
    }

    /// Cat: B′ = [s_i·B_i, s_j·B_j] / 2, A′ = [A_i; A_j], scaling 1, so that B′·A′ = ½(ΔW_i + ΔW_j)
    /// exactly (up to the rounding of s·B/2, which is exact when s/2 is a power of two).
    public static func concatenate(_ host: LoRAFactors, _ partner: LoRAFactors) -> LoRAFactors {
        checkShapes(host, partner)
        let b = Matrix.hstack([host.b.scaled(by: host.scaling / 2), partner.b.scaled(by: partner.scaling / 2)])
        let aTransposed = Matrix.hstack([host.aTransposed, partner.aTransposed])
        return LoRAFactors(b: b, aTransposed: aTransposed, scaling: 1)
    }

    /// The result of `truncatedAverage`.
    public struct TruncatedAverage: Sendable {
        /// B′ (d_out × k) and A′ᵀ (d_in × k) with the requested scaling: s·B′·A′ = U_k·Σ_k·V_kᵀ.
        public var factors: LoRAFactors
        /// All singular values of ½(ΔW_i + ΔW_j), descending (min(d_out, d_in, r_i + r_j) of them).
        public var singularValues: [Double]
        /// ‖ΔW_avg − ΔW_svd‖_F / ‖ΔW_avg‖_F = √(Σ_{m>k} σ_m²) / √(Σ σ_m²); NaN when ΔW_avg = 0.
        public var relativeError: Double
        /// ‖ΔW_avg − ΔW_svd‖_F.
        public var absoluteError: Double
    }

    /// Svd: ½(ΔW_i + ΔW_j) truncated to rank `rank` by SVD, as factors for the scaling `scaling`
    /// (the host's, so the host's config reproduces it): with the truncated SVD U_k·Σ_k·V_kᵀ,
    /// B′ = U_k·√Σ_k / √s and A′ = √Σ_k·V_kᵀ / √s (for s < 0, B′ also changes sign).
    ///
    /// Signs are fixed so that each left singular vector u_m has its largest-magnitude entry
    /// positive (ties: the lowest index); v_m flips with it. The SVD is taken from thin QRs of the
    /// stacked factors, [B_i B_j] = Q_B·R_B and [A_iᵀ A_jᵀ] = Q_A·R_A, and of the small core
    /// R_B·D·R_Aᵀ with D = diag(s_i/2, …, s_j/2, …): U = Q_B·U_core, V = Q_A·V_core. When the average
    /// has fewer than `rank` singular values, the extra columns of B′ and rows of A′ are zero.
    public static func truncatedAverage(_ host: LoRAFactors, _ partner: LoRAFactors, rank: Int,
                                        scaling: Double) throws(ToolError) -> TruncatedAverage {
        checkShapes(host, partner)
        precondition(rank >= 0, "truncatedAverage: rank \(rank)")
        guard scaling != 0, scaling.isFinite else {
            throw .internalError("truncatedAverage: scaling \(scaling) cannot carry a nonzero update")
        }
        let (qB, rB) = try Factorizations.thinQR(Matrix.hstack([host.b, partner.b]))
        let (qA, rA) = try Factorizations.thinQR(Matrix.hstack([host.aTransposed, partner.aTransposed]))
        // R_B·D: scale column c of R_B by the weight of stacked column c.
        var weighted = rB
        for c in 0..<weighted.cols {
            let weight = (c < host.rank ? host.scaling : partner.scaling) / 2
            for i in 0..<weighted.rows { weighted[i, c] *= weight }
        }
        let core = Matrix.multiply(weighted, rA, transposeB: true)
        let (uCore, sigma, vtCore) = try Factorizations.svd(core)
        var u = Matrix.multiply(qB, uCore)
        var v = Matrix.multiply(qA, vtCore, transposeB: true)
        canonicalizeSigns(u: &u, v: &v)

        let kept = min(rank, sigma.count)
        let magnitude = 1 / abs(scaling).squareRoot()
        let sign: Double = scaling < 0 ? -1 : 1
        var b = Matrix(zeros: host.outFeatures, rank)
        var aTransposed = Matrix(zeros: host.inFeatures, rank)
        for m in 0..<kept {
            let root = sigma[m].squareRoot()
            for i in 0..<b.rows { b[i, m] = sign * u[i, m] * root * magnitude }
            for i in 0..<aTransposed.rows { aTransposed[i, m] = v[i, m] * root * magnitude }
        }
        let total = euclideanNorm(sigma)
        let discarded = euclideanNorm(Array(sigma.dropFirst(kept)))
        return TruncatedAverage(factors: LoRAFactors(b: b, aTransposed: aTransposed, scaling: scaling),
                                singularValues: sigma,
                                relativeError: total > 0 ? discarded / total : .nan,
                                absoluteError: discarded)
    }

    /// The sign rule for singular vector pairs: for each column m, the entry of largest magnitude of
    /// u_m (the first one on ties) is made positive by flipping u_m and v_m together, which leaves
    /// U·Σ·Vᵀ unchanged. Zero columns stay as they are.
    public static func canonicalizeSigns(u: inout Matrix, v: inout Matrix) {
        precondition(u.cols == v.cols, "canonicalizeSigns: \(u.cols) left and \(v.cols) right vectors")
        for m in 0..<u.cols {
            var largest = 0.0
            var position = -1
            for i in 0..<u.rows where abs(u[i, m]) > largest {
                largest = abs(u[i, m])
                position = i
            }
            guard position >= 0, u[position, m] < 0 else { continue }
            for i in 0..<u.rows { u[i, m] = -u[i, m] }
            for i in 0..<v.rows { v[i, m] = -v[i, m] }
        }
    }

    private static func checkShapes(_ host: LoRAFactors, _ partner: LoRAFactors) {
        precondition(host.outFeatures == partner.outFeatures && host.inFeatures == partner.inFeatures,
                     "LoRAMerge: ΔW is \(host.outFeatures)×\(host.inFeatures) and \(partner.outFeatures)×\(partner.inFeatures)")
    }

    /// √(Σ x²) without overflow or underflow.
    static func euclideanNorm(_ values: [Double]) -> Double {
        guard let largest = values.map(abs).max(), largest > 0 else { return 0 }
        return largest * values.reduce(0) { $0 + ($1 / largest) * ($1 / largest) }.squareRoot()
    }
}
