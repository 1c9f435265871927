import Diagnostics
#if canImport(Glibc)
import Glibc
#endif

/// N×N matrices of one (module, layer) block, row-major in adapter order.
public struct PairMatrix: Sendable, Equatable {
    public var count: Int
    public var values: [Double]

    public init(count: Int, fill: Double = .nan) {
        self.count = count
        self.values = [Double](repeating: fill, count: count * count)
    }

    public subscript(i: Int, j: Int) -> Double {
        get { values[i * count + j] }
        set { values[i * count + j] = newValue }
    }

    public var rows: [[Double]] { (0..<count).map { Array(values[($0 * count)..<(($0 + 1) * count)]) } }

    public static func == (lhs: PairMatrix, rhs: PairMatrix) -> Bool {
        lhs.count == rhs.count && zip(lhs.values, rhs.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}

/// Everything the core computes for one block.
public struct BlockGeometryResult: Sendable {
    /// One symmetric matrix per metric; NaN where the distance is undefined.
    public var distances: [DistanceMetric: PairMatrix]
    /// ‖ΔW_i‖_F per adapter.
    public var norms: [Double]
    /// Numerical rank of each adapter's subspace (SciPy's `orth` rule), per kind.
    public var subspaceRanks: [SubspaceKind: [Int]]
    /// Pairs (i < j) whose l2/cosine took the cancellation-free path (nearly equal adapters).
    public var nearPairs: Int
    /// Pair-subspace comparisons (i < j, per Grassmann metric) that needed the sine branch.
    public var sineBranches: Int
}

/// The distances between N LoRA task vectors of one (module, layer) block, computed exactly
/// from the factors without forming any d_out × d_in matrix.
///
/// Method. Per adapter: thin QRs B = U·R and Aᵀ = V·S (U, V orthonormal), so
/// ΔW = U·C·Vᵀ with the small core C = s·R·Sᵀ. One symmetric Gram product of the stacked U's
/// (and one of the V's) gives every pair's UᵢᵀUⱼ; then ⟨ΔWᵢ, ΔWⱼ⟩ = tr(Cᵢᵀ·(UᵢᵀUⱼ)·Cⱼ·(VᵢᵀVⱼ)ᵀ)
/// and ‖ΔWᵢ‖ = ‖Cᵢ‖. Im(ΔW), Im(B) and Im(Aᵀ) are spanned by U or V times the leading left
/// singular vectors of C, R or S (all of U or V when the core has full rank, the usual case, so
/// that `grassmann` and `grassmann_b` are then one computation); the cosines of the principal
/// angles are the singular values of the small r × r cross products. Two accuracy guards:
/// - l2 and cosine of nearly equal adapters (where ‖a‖² + ‖b‖² − 2⟨a,b⟩ cancels) come from
///   thin QRs of the stacked factors [Bᵢ, Bⱼ] and [Aᵢ; Aⱼ]ᵀ, whose R factors carry the difference
///   without squaring it;
/// - when the distance from the cosines is small (d² < `sineThreshold`), where acos loses
///   digits, angles below 45° are recomputed from the sines: the singular values of the
///   residual Yⱼ − Yᵢ(YᵢᵀYⱼ) (the Knyazev–Argentati split that `scipy.linalg.subspace_angles`
///   uses). Above it, the acos error (≲ k·π·ε per d²) stays below 1e-12 relative.
public enum BlockGeometry {
    /// Below this ratio l2²/(‖a‖²+‖b‖²) (or this cosine distance) the stacked-QR path is used.
    public static let cancellationThreshold = 1e-2
    /// Below this d² (rad²) the angles are refined with the sine branch.
    public static let sineThreshold = 1e-2

    public static func analyze(_ adapters: [LoRAFactors]) throws(ToolError) -> BlockGeometryResult {
        let count = adapters.count
        guard let first = adapters.first else {
            return BlockGeometryResult(distances: [:], norms: [], subspaceRanks: [:], nearPairs: 0, sineBranches: 0)
        }
        let outFeatures = first.outFeatures, inFeatures = first.inFeatures
        for (index, factors) in adapters.enumerated() where factors.outFeatures != outFeatures || factors.inFeatures != inFeatures {
            throw .internalError("block shape mismatch: adapter \(index) is \(factors.outFeatures)×\(factors.inFeatures), adapter 0 is \(outFeatures)×\(inFeatures)")
        }
        var bases: [AdapterBasis] = []
        bases.reserveCapacity(count)
        for factors in adapters { bases.append(try AdapterBasis(factors)) }

        // Every pair's UᵢᵀUⱼ and VᵢᵀVⱼ from one symmetric Gram product each.
        let gramU = StackedGram(bases.map(\.u))
        let gramV = StackedGram(bases.map(\.v))
        let norms = bases.map(\.norm)
        var distances: [DistanceMetric: PairMatrix] = [:]
        for metric in DistanceMetric.allCases { distances[metric] = PairMatrix(count: count) }
        func set(_ metric: DistanceMetric, _ i: Int, _ j: Int, _ value: Double) {
            distances[metric]![i, j] = value
            distances[metric]![j, i] = value
        }
        // The distance of an adapter to itself, or to a bit-identical copy, is exactly zero
        // where it is defined (rounding in the pair path would otherwise leave ~1e-15).
        func setIdentical(_ i: Int, _ j: Int) {
            set(.l2, i, j, 0)
            set(.cosine, i, j, norms[i] > 0 ? 0 : .nan)
            for metric in [DistanceMetric.grassmann, .grassmannB, .grassmannA] {
                set(metric, i, j, bases[i].subspace(metric.subspace!).rank > 0 ? 0 : .nan)
            }
        }
        var nearPairs = 0, sineBranches = 0
        for i in 0..<count { setIdentical(i, i) }
        for i in 0..<count {
            for j in (i + 1)..<max(count, i + 1) {
                if adapters[i].scaling == adapters[j].scaling && adapters[i].b == adapters[j].b
                    && adapters[i].aTransposed == adapters[j].aTransposed {
                    setIdentical(i, j)
                    continue
                }
                let mu = gramU.cross(i, j), mv = gramV.cross(i, j)
                let inner = Matrix.frobeniusInner(bases[i].core, mu * bases[j].core * mv.transposed)
                let sumSquares = norms[i] * norms[i] + norms[j] * norms[j]
                var l2 = (max(0, sumSquares - 2 * inner)).squareRoot()
                var cosine = norms[i] > 0 && norms[j] > 0 ? min(2, max(0, 1 - inner / (norms[i] * norms[j]))) : .nan
                if l2 * l2 < cancellationThreshold * sumSquares || cosine < cancellationThreshold {
                    nearPairs += 1
                    let stacked = try StackedDifference(adapters[i], adapters[j])
                    l2 = stacked.norm(first: adapters[i].scaling, second: adapters[j].scaling)
                    if norms[i] > 0 && norms[j] > 0 {
                        let unit = stacked.norm(first: adapters[i].scaling / norms[i], second: adapters[j].scaling / norms[j])
                        cosine = min(2, unit * unit / 2)
                    }
                }
                set(.l2, i, j, l2)
                set(.cosine, i, j, cosine)

                var computedDelta: Double?
                for metric in [DistanceMetric.grassmann, .grassmannB, .grassmannA] {
                    let kind = metric.subspace!
                    let p = bases[i].subspace(kind), q = bases[j].subspace(kind)
                    // Full-rank Im(ΔW) and Im(B) are both span(U): one computation serves both.
                    if metric == .grassmannB, let computedDelta, p.isWholeHost, q.isWholeHost,
                       bases[i].subspace(.delta).isWholeHost, bases[j].subspace(.delta).isWholeHost {
                        set(metric, i, j, computedDelta)
                        continue
                    }
                    let (value, refined) = try grassmannDistance(p, q, hostCross: kind == .a ? mv : mu)
                    if refined { sineBranches += 1 }
                    set(metric, i, j, value)
                    if metric == .grassmann { computedDelta = value }
                }
            }
        }
        var ranks: [SubspaceKind: [Int]] = [:]
        for kind in SubspaceKind.allCases { ranks[kind] = bases.map { $0.subspace(kind).rank } }
        return BlockGeometryResult(distances: distances, norms: norms, subspaceRanks: ranks,
                                   nearPairs: nearPairs, sineBranches: sineBranches)
    }

    /// √(Σθ²) between two subspaces given the cross product of their host bases
    /// (UᵢᵀUⱼ for Im(ΔW) and Im(B), VᵢᵀVⱼ for Im(Aᵀ)); NaN when either subspace is {0}.
    /// Also says whether the sine branch was used.
    static func grassmannDistance(_ first: Subspace, _ second: Subspace, hostCross: Matrix) throws(ToolError) -> (Double, Bool) {
        guard first.rank > 0, second.rank > 0 else { return (.nan, false) }
        // YᵢᵀYⱼ = Eᵢᵀ (HᵢᵀHⱼ) Eⱼ, with H the orthonormal host basis and E the coefficients.
        var cross = hostCross
        if let coefficients = second.coefficients { cross = cross * coefficients }
        if let coefficients = first.coefficients { cross = Matrix.multiply(coefficients, transposeA: true, cross) }
        let cosines = try Factorizations.singularValues(cross)
        var angles = cosines.map { acos(min(1, $0)) }
        var squared = angles.reduce(0) { $0 + $1 * $1 }
        let refine = squared < sineThreshold && cosines.contains { $0 * $0 >= 0.5 }
        if refine {
            // Sines from the residual of the smaller basis against the larger one.
            let residual: Matrix
            if first.rank >= second.rank {
                residual = second.basis - first.basis * cross
            } else {
                residual = first.basis - second.basis * cross.transposed
            }
            let sines = try Factorizations.singularValues(residual)
            let k = cosines.count
            for m in 0..<k where cosines[m] * cosines[m] >= 0.5 {
                angles[m] = asin(min(1, sines[k - 1 - m]))
            }
            squared = angles.reduce(0) { $0 + $1 * $1 }
        }
        return (squared.squareRoot(), refine)
    }
}

/// A subspace of an adapter: an orthonormal basis Y = H·E, with H the adapter's host basis
/// (U or V) and E the leading left singular vectors of the corresponding core. When the core
/// has full rank, Y spans the same space as H and E is left out (`coefficients == nil`).
struct Subspace {
    var coefficients: Matrix?
    var host: Matrix
    var rank: Int

    init(host: Matrix, core: Matrix, denseRows: Int, denseCols: Int) throws(ToolError) {
        let (vectors, sigma) = try Factorizations.leftSingularVectors(core)
        rank = Factorizations.numericalRank(sigma, rows: denseRows, cols: denseCols)
        self.host = host
        coefficients = rank == host.cols ? nil : vectors.columns(0..<rank)
    }

    var isWholeHost: Bool { coefficients == nil }

    /// The orthonormal basis itself (d × rank); formed only when the sine branch needs it.
    var basis: Matrix {
        guard let coefficients else { return host }
        return host * coefficients
    }
}

/// Per-adapter factorisations shared by all pairs of a block.
struct AdapterBasis {
    var u: Matrix
    var v: Matrix
    var core: Matrix
    var norm: Double
    private var subspaces: [Subspace]

    init(_ factors: LoRAFactors) throws(ToolError) {
        let (u, r) = try Factorizations.thinQR(factors.b)
        let (v, s) = try Factorizations.thinQR(factors.aTransposed)
        self.u = u
        self.v = v
        core = Matrix.multiply(r, s, transposeB: true).scaled(by: factors.scaling)
        norm = core.frobeniusNorm
        let rank = factors.rank
        subspaces = [
            try Subspace(host: u, core: core, denseRows: factors.outFeatures, denseCols: factors.inFeatures),
            try Subspace(host: u, core: r, denseRows: factors.outFeatures, denseCols: rank),
            try Subspace(host: v, core: s, denseRows: factors.inFeatures, denseCols: rank),
        ]
    }

    func subspace(_ kind: SubspaceKind) -> Subspace {
        switch kind {
        case .delta: return subspaces[0]
        case .b: return subspaces[1]
        case .a: return subspaces[2]
        }
    }
}

/// HᵀH for the stacked host bases H = [H₁ … H_N] (one BLAS syrk), and each pair's block HᵢᵀHⱼ.
struct StackedGram {
    var gram: Matrix
    var offsets: [Int]
    var widths: [Int]

    init(_ hosts: [Matrix]) {
        widths = hosts.map(\.cols)
        var running = 0
        offsets = widths.map { width in defer { running += width }; return running }
        gram = Matrix.gram(Matrix.hstack(hosts))
    }

    func cross(_ i: Int, _ j: Int) -> Matrix {
        gram.block(rows: offsets[i]..<(offsets[i] + widths[i]), cols: offsets[j]..<(offsets[j] + widths[j]))
    }
}

/// ΔWᵢ·α − ΔWⱼ·β for any α, β from one pair of thin QRs: [Bᵢ, Bⱼ] = Q₁R₁ and
/// [Aᵢᵀ, Aⱼᵀ] = Q₂R₂ give ‖α·BᵢAᵢ − β·BⱼAⱼ‖ = ‖R₁·D·R₂ᵀ‖ with D = diag(α·I, −β·I).
struct StackedDifference {
    var rb: Matrix
    var ra: Matrix
    var split: Int

    init(_ first: LoRAFactors, _ second: LoRAFactors) throws(ToolError) {
        rb = try Factorizations.thinQR(Matrix.hstack([first.b, second.b])).r
        ra = try Factorizations.thinQR(Matrix.hstack([first.aTransposed, second.aTransposed])).r
        split = first.rank
    }

    /// ‖first·BᵢAᵢ − second·BⱼAⱼ‖_F.
    func norm(first: Double, second: Double) -> Double {
        var scaled = rb
        for j in 0..<scaled.cols {
            let factor = j < split ? first : -second
            for i in 0..<scaled.rows { scaled[i, j] *= factor }
        }
        return Matrix.multiply(scaled, ra, transposeB: true).frobeniusNorm
    }
}
