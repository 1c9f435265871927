import Diagnostics

/// How far Comb's merged update is from what it merges, for one pair of a block, exactly from
/// the factors (no d_out × d_in matrix).
///
/// Comb averages the factors: ΔW_C(i,j) = (s_i/4)(B_i + B_j)(A_i + A_j), with host i's scaling.
/// Every quantity here is the Frobenius norm of X = Σ c_ab·B_a·A_b over a, b ∈ {i, j}. With the
/// r × r Grams B_aᵀB_c = R_aᵀ(U_aᵀU_c)R_c and A_dA_bᵀ = S_dᵀ(V_dᵀV_b)S_b (B = U·R, Aᵀ = V·S),
/// ⟨B_aA_b, B_cA_d⟩ = tr((B_aᵀB_c)(A_dA_bᵀ)), so ‖X‖² = cᵀHc with H the 4 × 4 Gram of the four
/// products. When ‖X‖² is below `cancellationThreshold` times (Σ|c_ab|·‖B_aA_b‖)², where the sum
/// cancels (nearly equal factors), ‖X‖ is recomputed from thin QRs of the stacked bases,
/// [U_i, U_j] = Q₁T₁ and [V_i, V_j] = Q₂T₂: ‖X‖ = ‖T₁·K·T₂ᵀ‖ with K's (a, b) block c_ab·R_a·S_bᵀ,
/// whose error is a few ε·‖ΔW‖ in absolute terms, like a dense subtraction.
struct CombPair {
    /// Below this ratio of ‖X‖² to its terms' squared sum the stacked path is used.
    static let cancellationThreshold = 1e-2

    private let h: [[Double]]
    private let triangles: (r: [Matrix], s: [Matrix])
    private var stacked: StackedTriangles?

    private struct StackedTriangles {
        var t1: Matrix
        var t2: Matrix
    }

    /// `r`, `s`: the triangles of adapters i and j (B = U·R, Aᵀ = V·S); `mu` = UᵢᵀUⱼ, `mv` = VᵢᵀVⱼ;
    /// `grams`: each adapter's RᵀR and SᵀS (= BᵀB and A·Aᵀ), computed once per adapter. Requires rᵢ = rⱼ.
    init(r: (Matrix, Matrix), s: (Matrix, Matrix), grams: ((Matrix, Matrix), (Matrix, Matrix)), mu: Matrix, mv: Matrix) {
        // BᵢᵀBⱼ = Rᵢᵀ(UᵢᵀUⱼ)Rⱼ and AᵢAⱼᵀ = Sᵢᵀ(VᵢᵀVⱼ)Sⱼ; the reverse products are their transposes.
        let crossB = Matrix.multiply(r.0, transposeA: true, mu * r.1), crossA = Matrix.multiply(s.0, transposeA: true, mv * s.1)
        let gb = [[grams.0.0, crossB], [crossB.transposed, grams.1.0]]
        let ga = [[grams.0.1, crossA], [crossA.transposed, grams.1.1]]
        // Terms in the order (i,i), (i,j), (j,i), (j,j): term k = B_{a}·A_{b}.
        let terms = [(0, 0), (0, 1), (1, 0), (1, 1)]
        var h = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        for (k, (a, b)) in terms.enumerated() {
            for (l, (c, d)) in terms.enumerated() where l >= k {
                let value = Self.traceOfProduct(gb[a][c], ga[d][b])
                h[k][l] = value
                h[l][k] = value
            }
        }
        self.h = h
        self.triangles = ([r.0, r.1], [s.0, s.1])
    }

    /// tr(X·Y) for square X, Y.
    static func traceOfProduct(_ x: Matrix, _ y: Matrix) -> Double {
        let n = x.rows
        var sum = 0.0
        for row in 0..<n {
            for k in 0..<n { sum += x[row, k] * y[k, row] }
        }
        return sum
    }

    /// ‖Σ c_ab·B_a·A_b‖_F, coefficients in the order (i,i), (i,j), (j,i), (j,j) (a = 0 is i).
    /// `hosts` gives the orthonormal host bases [Uᵢ, Uⱼ] and [Vᵢ, Vⱼ] when the stacked path needs them.
    mutating func norm(_ c: [Double], hosts: () -> (u: [Matrix], v: [Matrix])) throws(ToolError) -> Double {
        var square = 0.0, scale = 0.0
        for k in 0..<4 {
            scale += abs(c[k]) * max(0, h[k][k]).squareRoot()
            for l in 0..<4 { square += c[k] * c[l] * h[k][l] }
        }
        if scale == 0 { return 0 }
        if square >= Self.cancellationThreshold * scale * scale { return square.squareRoot() }
        if stacked == nil {
            let (u, v) = hosts()
            stacked = StackedTriangles(t1: try Factorizations.thinQR(Matrix.hstack(u)).r,
                                       t2: try Factorizations.thinQR(Matrix.hstack(v)).r)
        }
        let r = triangles.r[0].cols
        var middle = Matrix(zeros: 2 * r, 2 * r)
        for (k, (a, b)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() where c[k] != 0 {
            let block = Matrix.multiply(triangles.r[a], triangles.s[b], transposeB: true)
            for col in 0..<r {
                for row in 0..<r { middle[a * r + row, b * r + col] += c[k] * block[row, col] }
            }
        }
        return Matrix.multiply(stacked!.t1 * middle, stacked!.t2, transposeB: true).frobeniusNorm
    }

    /// comb_shift and comb_error with `host` (0: i, 1: j) as the host, scalings (s_i, s_j) and
    /// the host's ‖ΔW‖; NaN where a denominator is 0.
    mutating func metrics(host: Int, scalings: (Double, Double), hostNorm: Double,
                          hosts: () -> (u: [Matrix], v: [Matrix])) throws(ToolError) -> (shift: Double, error: Double) {
        // In the host's own numbering: h = host, p = partner; then mapped to (i,i), (i,j), (j,i), (j,j).
        let (sh, sp) = host == 0 ? scalings : (scalings.1, scalings.0)
        func ordered(_ hh: Double, _ hp: Double, _ ph: Double, _ pp: Double) -> [Double] {
            host == 0 ? [hh, hp, ph, pp] : [pp, ph, hp, hh]
        }
        let quarter = sh / 4
        let shiftNorm = try norm(ordered(quarter - sh, quarter, quarter, quarter), hosts: hosts)
        let errorNorm = try norm(ordered(quarter - sh / 2, quarter, quarter, quarter - sp / 2), hosts: hosts)
        let averageNorm = try norm(ordered(sh / 2, 0, 0, sp / 2), hosts: hosts)
        return (hostNorm > 0 ? shiftNorm / hostNorm : .nan, averageNorm > 0 ? errorNorm / averageNorm : .nan)
    }
}
