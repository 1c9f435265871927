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
}

/// The distances between N LoRA task vectors of one (module, layer) block, computed exactly
/// from the factors without forming any d_out × d_in matrix.
///
/// Method. Per adapter: thin QRs B = U·R and Aᵀ = V·S (U, V orthonormal), so
/// ΔW = U·C·Vᵀ with the small core C = s·R·Sᵀ. One Gram product of the stacked U's (and one of
/// the V's) gives every pair's UᵢᵀUⱼ; then ⟨ΔWᵢ, ΔWⱼ⟩ = tr(Cᵢᵀ·(UᵢᵀUⱼ)·Cⱼ·(VᵢᵀVⱼ)ᵀ) and
/// ‖ΔWᵢ‖ = ‖Cᵢ‖. Bases of Im(ΔW), Im(B), Im(Aᵀ) are U or V times the left singular vectors of
/// C, R or S, truncated at the numerical rank; the cosines of the principal angles are the
/// singular values of the small cross products. Two accuracy guards:
/// - l2 and cosine of nearly equal adapters (where ‖a‖² + ‖b‖² − 2⟨a,b⟩ cancels) come from
///   thin QRs of the stacked factors [Bᵢ, Bⱼ] and [Aᵢ; Aⱼ]ᵀ, whose R factors carry the difference
///   without squaring it;
/// - angles below 45° come from the sines, the singular values of the residual Yⱼ − Yᵢ(YᵢᵀYⱼ)
///   (the Knyazev–Argentati branch that `scipy.linalg.subspace_angles` also uses).
public enum BlockGeometry {
    /// Below this ratio l2²/(‖a‖²+‖b‖²) (or this cosine distance) the stacked-QR path is used.
    public static let cancellationThreshold = 1e-2

    public static func analyze(_ adapters: [LoRAFactors]) throws(ToolError) -> BlockGeometryResult {
        let count = adapters.count
        guard let first = adapters.first else {
            return BlockGeometryResult(distances: [:], norms: [], subspaceRanks: [:], nearPairs: 0)
        }
        let outFeatures = first.outFeatures, inFeatures = first.inFeatures
        for (index, factors) in adapters.enumerated() where factors.outFeatures != outFeatures || factors.inFeatures != inFeatures {
            throw .internalError("block shape mismatch: adapter \(index) is \(factors.outFeatures)×\(factors.inFeatures), adapter 0 is \(outFeatures)×\(inFeatures)")
        }
        var bases: [AdapterBasis] = []
        bases.reserveCapacity(count)
        for factors in adapters { bases.append(try AdapterBasis(factors)) }

        // Every pair's UᵢᵀUⱼ and VᵢᵀVⱼ from one Gram product each.
        let gramU = Matrix.multiply(Matrix.hstack(bases.map(\.u)), transposeA: true, Matrix.hstack(bases.map(\.u)))
        let gramV = Matrix.multiply(Matrix.hstack(bases.map(\.v)), transposeA: true, Matrix.hstack(bases.map(\.v)))
        var offsetsU: [Int] = [], offsetsV: [Int] = []
        var runningU = 0, runningV = 0
        for basis in bases {
            offsetsU.append(runningU); runningU += basis.u.cols
            offsetsV.append(runningV); runningV += basis.v.cols
        }
        func crossU(_ i: Int, _ j: Int) -> Matrix {
            gramU.block(rows: offsetsU[i]..<(offsetsU[i] + bases[i].u.cols), cols: offsetsU[j]..<(offsetsU[j] + bases[j].u.cols))
        }
        func crossV(_ i: Int, _ j: Int) -> Matrix {
            gramV.block(rows: offsetsV[i]..<(offsetsV[i] + bases[i].v.cols), cols: offsetsV[j]..<(offsetsV[j] + bases[j].v.cols))
        }

        var distances: [DistanceMetric: PairMatrix] = [:]
        for metric in DistanceMetric.allCases { distances[metric] = PairMatrix(count: count) }
        let norms = bases.map(\.norm)
        var nearPairs = 0
        // The distance of an adapter to itself, or to a bit-identical copy, is exactly zero
        // where it is defined (rounding in the pair path would otherwise leave ~1e-15).
        func setIdentical(_ i: Int, _ j: Int) {
            for metric in DistanceMetric.allCases {
                let defined: Bool
                switch metric {
                case .l2: defined = true
                case .cosine: defined = norms[i] > 0
                default: defined = bases[i].subspaces[metric.subspace!]!.rank > 0
                }
                distances[metric]![i, j] = defined ? 0 : .nan
                distances[metric]![j, i] = defined ? 0 : .nan
            }
        }
        for i in 0..<count { setIdentical(i, i) }
        for i in 0..<count {
            for j in (i + 1)..<max(count, i + 1) {
                if adapters[i].scaling == adapters[j].scaling && adapters[i].b == adapters[j].b
                    && adapters[i].aTransposed == adapters[j].aTransposed {
                    setIdentical(i, j)
                    continue
                }
                let mu = crossU(i, j), mv = crossV(i, j)
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
                distances[.l2]![i, j] = l2; distances[.l2]![j, i] = l2
                distances[.cosine]![i, j] = cosine; distances[.cosine]![j, i] = cosine
                for metric in [DistanceMetric.grassmann, .grassmannB, .grassmannA] {
                    let kind = metric.subspace!
                    let cross = kind == .a ? mv : mu
                    let value = try grassmannDistance(bases[i], bases[j], kind: kind, cross: cross)
                    distances[metric]![i, j] = value; distances[metric]![j, i] = value
                }
            }
        }
        var ranks: [SubspaceKind: [Int]] = [:]
        for kind in SubspaceKind.allCases { ranks[kind] = bases.map { $0.subspaces[kind]!.rank } }
        return BlockGeometryResult(distances: distances, norms: norms, subspaceRanks: ranks, nearPairs: nearPairs)
    }

    /// √(Σθ²) between two subspaces, given the cross product of their host bases
    /// (UᵢᵀUⱼ for Im(ΔW) and Im(B), VᵢᵀVⱼ for Im(Aᵀ)). NaN when either subspace is {0}.
    static func grassmannDistance(_ first: AdapterBasis, _ second: AdapterBasis, kind: SubspaceKind, cross: Matrix) throws(ToolError) -> Double {
        let angles = try principalAngles(first.subspaces[kind]!, second.subspaces[kind]!, hostCross: cross)
        guard let angles else { return .nan }
        return angles.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// The min(p, q) principal angles, ascending, or nil when a subspace is {0}.
    static func principalAngles(_ first: Subspace, _ second: Subspace, hostCross: Matrix) throws(ToolError) -> [Double]? {
        guard first.rank > 0, second.rank > 0 else { return nil }
        // YᵢᵀYⱼ = Eᵢᵀ (HᵢᵀHⱼ) Eⱼ, with H the orthonormal host basis and E the coefficients.
        let cross = Matrix.multiply(first.coefficients, transposeA: true, hostCross * second.coefficients)
        let cosines = try Factorizations.singularValues(cross)
        let k = cosines.count
        var angles = cosines.map { acos(min(1, $0)) }
        if cosines.contains(where: { $0 * $0 >= 0.5 }) {
            // Sines from the residual of the smaller basis against the larger one.
            let residual: Matrix
            if first.rank >= second.rank {
                residual = second.basis - first.basis * cross
            } else {
                residual = first.basis - second.basis * cross.transposed
            }
            let sines = try Factorizations.singularValues(residual)
            for m in 0..<k where cosines[m] * cosines[m] >= 0.5 {
                angles[m] = asin(min(1, sines[k - 1 - m]))
            }
        }
        return angles
    }
}

/// A subspace of an adapter: an orthonormal basis Y = H·E, with H the adapter's host basis
/// (U or V) and E the leading left singular vectors of the corresponding core.
struct Subspace {
    var coefficients: Matrix
    var basis: Matrix
    var rank: Int { coefficients.cols }

    init(host: Matrix, core: Matrix, denseRows: Int, denseCols: Int) throws(ToolError) {
        let (vectors, sigma) = try Factorizations.leftSingularVectors(core)
        let rank = Factorizations.numericalRank(sigma, rows: denseRows, cols: denseCols)
        coefficients = vectors.columns(0..<rank)
        basis = host * coefficients
    }
}

/// Per-adapter factorisations shared by all pairs of a block.
struct AdapterBasis {
    var u: Matrix
    var v: Matrix
    var core: Matrix
    var norm: Double
    var subspaces: [SubspaceKind: Subspace]

    init(_ factors: LoRAFactors) throws(ToolError) {
        let (u, r) = try Factorizations.thinQR(factors.b)
        let (v, s) = try Factorizations.thinQR(factors.aTransposed)
        self.u = u
        self.v = v
        core = Matrix.multiply(r, s, transposeB: true).scaled(by: factors.scaling)
        norm = core.frobeniusNorm
        let rank = factors.rank
        subspaces = [
            .delta: try Subspace(host: u, core: core, denseRows: factors.outFeatures, denseCols: factors.inFeatures),
            .b: try Subspace(host: u, core: r, denseRows: factors.outFeatures, denseCols: rank),
            .a: try Subspace(host: v, core: s, denseRows: factors.inFeatures, denseCols: rank),
        ]
    }
}

/// ΔWᵢ·α − ΔWⱼ·β for any α, β from one pair of thin QRs: [Bᵢ, Bⱼ] = Q₁R₁ and
/// [Aᵢᵀ, Aⱼᵀ] = Q₂R₂ give ‖αΔWᵢ − βΔWⱼ‖ = ‖R₁·D·R₂ᵀ‖ with D = diag(α·sᵢ·I, −β·sⱼ·I) folded in
/// by the caller through `first` = α·sᵢ and `second` = β·sⱼ.
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
