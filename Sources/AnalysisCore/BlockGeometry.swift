import Diagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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
    /// One symmetric matrix per metric that applies to LoRA (and only those); NaN where the
    /// distance is undefined.
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
/// Method. Per adapter: thin QRs B = U·R and Aᵀ = V·S (U, V orthonormal, computed in place in
/// the stacks of a `StackedBlock`), so
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
    public static let sineThreshold = PrincipalAngles.sineThreshold

    /// Convenience for callers holding separate factors: copies them into a `StackedBlock`.
    public static func analyze(_ adapters: [LoRAFactors]) throws(ToolError) -> BlockGeometryResult {
        guard let first = adapters.first else {
            return BlockGeometryResult(distances: [:], norms: [], subspaceRanks: [:], nearPairs: 0, sineBranches: 0)
        }
        for (index, factors) in adapters.enumerated() where factors.outFeatures != first.outFeatures || factors.inFeatures != first.inFeatures {
            throw .internalError("block shape mismatch: adapter \(index) is \(factors.outFeatures)×\(factors.inFeatures), "
                                 + "adapter 0 is \(first.outFeatures)×\(first.inFeatures)")
        }
        var block = StackedBlock(adapters)
        return try analyze(&block)
    }

    /// Analyses a filled block. On return the stacks hold the orthonormal factors U and V
    /// (the block's factors are consumed); refill the block before the next call.
    public static func analyze(_ block: inout StackedBlock) throws(ToolError) -> BlockGeometryResult {
        let count = block.count
        guard count > 0 else {
            return BlockGeometryResult(distances: [:], norms: [], subspaceRanks: [:], nearPairs: 0, sineBranches: 0)
        }
        // Bit-identical adapters are found before the factors are overwritten.
        var identical = Set<Int>()  // j·count + i for i < j
        for j in 0..<count {
            for i in 0..<j where block.ranks[i] == block.ranks[j] && block.scalings[i] == block.scalings[j]
                && block.b[block.columns(i).lowerBound * block.outFeatures..<block.columns(i).upperBound * block.outFeatures]
                    .elementsEqual(block.b[block.columns(j).lowerBound * block.outFeatures..<block.columns(j).upperBound * block.outFeatures])
                && block.aTransposed[block.columns(i).lowerBound * block.inFeatures..<block.columns(i).upperBound * block.inFeatures]
                    .elementsEqual(
                        block.aTransposed[block.columns(j).lowerBound * block.inFeatures..<block.columns(j).upperBound * block.inFeatures]) {
                identical.insert(j * count + i)
            }
        }
        let triangularB = try Factorizations.qrInPlace(&block.b, rows: block.outFeatures, columnRanges: (0..<count).map(block.columns))
        let triangularA = try Factorizations.qrInPlace(&block.aTransposed, rows: block.inFeatures, columnRanges: (0..<count).map(block.columns))
        var bases: [AdapterBasis] = []
        bases.reserveCapacity(count)
        for i in 0..<count {
            bases.append(try AdapterBasis(r: triangularB[i], s: triangularA[i], scaling: block.scalings[i],
                                          outFeatures: block.outFeatures, inFeatures: block.inFeatures))
        }
        // Every pair's UᵢᵀUⱼ and VᵢᵀVⱼ from one symmetric Gram product each; pairs are read with
        // i < j only, so from the upper triangle (the lower one is not filled).
        let total = block.totalRank
        Matrix.gram(of: block.b, rows: block.outFeatures, cols: total, into: &block.gramU, mirrored: false)
        Matrix.gram(of: block.aTransposed, rows: block.inFeatures, cols: total, into: &block.gramV, mirrored: false)
        func cross(_ gram: [Double], _ i: Int, _ j: Int) -> Matrix {
            let rows = block.columns(i), cols = block.columns(j)
            var out = Matrix(zeros: rows.count, cols.count)
            for (jj, column) in cols.enumerated() {
                for (ii, row) in rows.enumerated() { out.values[ii + jj * rows.count] = gram[row + column * total] }
            }
            return out
        }
        func host(_ stack: [Double], rows: Int, _ i: Int) -> Matrix {
            let columns = block.columns(i)
            return Matrix(rows: rows, cols: columns.count, values: Array(stack[(columns.lowerBound * rows)..<(columns.upperBound * rows)]))
        }
        let norms = bases.map(\.norm)
        // A matrix exists only for a metric the kernel fills (see `DistanceMetric.applying(to:)`).
        var distances: [DistanceMetric: PairMatrix] = [:]
        func set(_ metric: DistanceMetric, _ i: Int, _ j: Int, _ value: Double) {
            distances[metric, default: PairMatrix(count: count)][i, j] = value
            distances[metric, default: PairMatrix(count: count)][j, i] = value
        }
        /// One entry of an asymmetric metric: row i is the host.
        func setOrdered(_ metric: DistanceMetric, _ i: Int, _ j: Int, _ value: Double) {
            distances[metric, default: PairMatrix(count: count)][i, j] = value
        }
        // The distance of an adapter to itself, or to a bit-identical copy, is exactly zero
        // where it is defined (rounding in the pair path would otherwise leave ~1e-15).
        func setIdentical(_ i: Int, _ j: Int) {
            // Comb of an adapter with itself is that adapter: both Comb metrics are 0 (host's ΔW ≠ 0).
            for metric in DistanceMetric.allCases where metric.isCombMetric {
                set(metric, i, j, norms[i] > 0 ? 0 : .nan)
            }
            set(.l2, i, j, 0)
            set(.cosine, i, j, norms[i] > 0 ? 0 : .nan)
            for metric in [DistanceMetric.grassmann, .grassmannB, .grassmannA] {
                set(metric, i, j, bases[i].subspace(metric.subspace!).rank > 0 ? 0 : .nan)
            }
        }
        /// comb_shift and comb_error of (i, j) and (j, i); undefined (NaN) when the ranks differ.
        func combMetrics(_ i: Int, _ j: Int) throws(ToolError) {
            guard block.ranks[i] == block.ranks[j] else {
                for metric in DistanceMetric.allCases where metric.isCombMetric { set(metric, i, j, .nan) }
                return
            }
            var pair = CombPair(r: (bases[i].r, bases[j].r), s: (bases[i].s, bases[j].s), grams: (bases[i].grams, bases[j].grams),
                                mu: cross(block.gramU, i, j), mv: cross(block.gramV, i, j))
            func hosts() -> (u: [Matrix], v: [Matrix]) {
                ([host(block.b, rows: block.outFeatures, i), host(block.b, rows: block.outFeatures, j)],
                 [host(block.aTransposed, rows: block.inFeatures, i), host(block.aTransposed, rows: block.inFeatures, j)])
            }
            let scalings = (block.scalings[i], block.scalings[j])
            let forward = try pair.metrics(host: 0, scalings: scalings, hostNorm: norms[i], hosts: hosts)
            let backward = try pair.metrics(host: 1, scalings: scalings, hostNorm: norms[j], hosts: hosts)
            setOrdered(.combShift, i, j, forward.shift)
            setOrdered(.combError, i, j, forward.error)
            setOrdered(.combShift, j, i, backward.shift)
            setOrdered(.combError, j, i, backward.error)
        }
        var nearPairs = 0, sineBranches = 0
        for i in 0..<count { setIdentical(i, i) }
        let kernel = PairKernel(maxRank: block.ranks.max() ?? 0, outFeatures: block.outFeatures, inFeatures: block.inFeatures)
        for i in 0..<count {
            for j in (i + 1)..<max(count, i + 1) {
                if identical.contains(j * count + i) {
                    setIdentical(i, j)
                    continue
                }
                // ⟨ΔWᵢ, ΔWⱼ⟩ from the cores and the host cross products, whatever the subspaces.
                kernel.load(i, j, block: block)
                try combMetrics(i, j)
                let inner = kernel.inner(bases[i].core, bases[j].core)
                let sumSquares = norms[i] * norms[i] + norms[j] * norms[j]
                var l2 = (max(0, sumSquares - 2 * inner)).squareRoot()
                var cosine = norms[i] > 0 && norms[j] > 0 ? min(2, max(0, 1 - inner / (norms[i] * norms[j]))) : .nan
                if l2 * l2 < cancellationThreshold * sumSquares || cosine < cancellationThreshold {
                    nearPairs += 1
                    (l2, cosine) = kernel.canStackDifference
                        ? try kernel.stackedDistances(cores: (bases[i].core, bases[j].core), norms: (norms[i], norms[j]), block: block)
                        : try stackedDistances(block: block, bases: bases, norms: norms, i, j)
                }
                set(.l2, i, j, l2)
                set(.cosine, i, j, cosine)
                if bases[i].isWholeHost && bases[j].isWholeHost {
                    // The usual case: every subspace is its whole host basis.
                    let anglesB = try kernel.principalAngles(onA: false, block: block)
                    let onB = PrincipalAngles.grassmannDistance(anglesB.angles, count: anglesB.count)
                    let anglesA = try kernel.principalAngles(onA: true, block: block)
                    let onA = PrincipalAngles.grassmannDistance(anglesA.angles, count: anglesA.count)
                    let (refinedB, refinedA) = (anglesB.refined, anglesA.refined)
                    // Im(ΔW) = Im(B) = span(U) here: one computation serves both.
                    set(.grassmann, i, j, onB)
                    set(.grassmannB, i, j, onB)
                    set(.grassmannA, i, j, onA)
                    sineBranches += (refinedB ? 1 : 0) + (refinedA ? 1 : 0)
                    continue
                }
                let mu = cross(block.gramU, i, j), mv = cross(block.gramV, i, j)

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
                    let onA = kind == .a
                    let (angles, refined) = try principalAngles(p, q, hostCross: onA ? mv : mu) {
                        onA ? (host(block.aTransposed, rows: block.inFeatures, i), host(block.aTransposed, rows: block.inFeatures, j))
                            : (host(block.b, rows: block.outFeatures, i), host(block.b, rows: block.outFeatures, j))
                    }
                    if refined { sineBranches += 1 }
                    let value = angles.map(PrincipalAngles.grassmannDistance) ?? .nan
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

    /// l2 and cosine of a nearly equal pair from the thin QRs of the stacked host bases, where
    /// a host has fewer rows than the two ranks together (`PairKernel` handles the others).
    private static func stackedDistances(block: StackedBlock, bases: [AdapterBasis], norms: [Double],
                                         _ i: Int, _ j: Int) throws(ToolError) -> (Double, Double) {
        func host(_ stack: [Double], rows: Int, _ index: Int) -> Matrix {
            let columns = block.columns(index)
            return Matrix(rows: rows, cols: columns.count, values: Array(stack[(columns.lowerBound * rows)..<(columns.upperBound * rows)]))
        }
        let stacked = try StackedDifference(
            u: [host(block.b, rows: block.outFeatures, i), host(block.b, rows: block.outFeatures, j)],
            v: [host(block.aTransposed, rows: block.inFeatures, i), host(block.aTransposed, rows: block.inFeatures, j)],
            cores: [bases[i].core, bases[j].core])
        let l2 = stacked.norm(first: 1, second: 1)
        var cosine = Double.nan
        if norms[i] > 0 && norms[j] > 0 {
            let unit = stacked.norm(first: 1 / norms[i], second: 1 / norms[j])
            cosine = min(2, unit * unit / 2)
        }
        return (l2, cosine)
    }

    /// The principal angles between two subspaces given the cross product of their host bases
    /// (UᵢᵀUⱼ for Im(ΔW) and Im(B), VᵢᵀVⱼ for Im(Aᵀ)); nil when either subspace is {0}.
    /// `hosts` gives the two host bases, only needed (and only formed) for the sine branch.
    /// Also says whether the sine branch was used.
    static func principalAngles(_ first: Subspace, _ second: Subspace, hostCross: Matrix,
                                hosts: () -> (Matrix, Matrix)) throws(ToolError) -> ([Double]?, Bool) {
        guard first.rank > 0, second.rank > 0 else { return (nil, false) }
        // YᵢᵀYⱼ = Eᵢᵀ (HᵢᵀHⱼ) Eⱼ, with H the orthonormal host basis and E the coefficients.
        var cross = hostCross
        if let coefficients = second.coefficients { cross = cross * coefficients }
        if let coefficients = first.coefficients { cross = Matrix.multiply(coefficients, transposeA: true, cross) }
        let cosines = try Factorizations.singularValues(cross)
        let k = cosines.count
        var angles = [Double](repeating: 0, count: k)
        let refine = angles.withUnsafeMutableBufferPointer { PrincipalAngles.fromCosines(cosines, count: k, into: $0.baseAddress!) }
        if refine {
            let (firstHost, secondHost) = hosts()
            let firstBasis = first.basis(host: firstHost), secondBasis = second.basis(host: secondHost)
            // Sines from the residual of the smaller basis against the larger one.
            let residual: Matrix
            if first.rank >= second.rank {
                residual = secondBasis - firstBasis * cross
            } else {
                residual = firstBasis - secondBasis * cross.transposed
            }
            let sines = try Factorizations.singularValues(residual)
            angles.withUnsafeMutableBufferPointer { PrincipalAngles.refine($0.baseAddress!, cosines: cosines, sines: sines, count: k) }
        }
        return (angles, refine)
    }
}

/// A subspace of an adapter: an orthonormal basis Y = H·E, with H the adapter's host basis
/// (U or V) and E the leading left singular vectors of the corresponding core. When the core
/// has full rank, Y spans the same space as H and E is left out (`coefficients == nil`).
struct Subspace {
    var coefficients: Matrix?
    var rank: Int

    init(core: Matrix, denseRows: Int, denseCols: Int) throws(ToolError) {
        let (vectors, sigma) = try Factorizations.leftSingularVectors(core)
        rank = Factorizations.numericalRank(sigma, rows: denseRows, cols: denseCols)
        coefficients = rank == core.rows ? nil : vectors.columns(0..<rank)
    }

    var isWholeHost: Bool { coefficients == nil }

    /// The orthonormal basis itself (d × rank) for the given host.
    func basis(host: Matrix) -> Matrix {
        guard let coefficients else { return host }
        return host * coefficients
    }
}

/// Per-adapter small factors shared by all pairs of a block: the core C = s·R·Sᵀ and the
/// three subspaces' coefficients.
struct AdapterBasis {
    var core: Matrix
    /// The triangles of B = U·R and Aᵀ = V·S and their Grams RᵀR = BᵀB, SᵀS = A·Aᵀ (for Comb's metrics).
    var r: Matrix
    var s: Matrix
    var grams: (Matrix, Matrix)
    var norm: Double
    /// All three subspaces are the whole host bases (full-rank R, S and C).
    var isWholeHost: Bool
    private var subspaces: [Subspace]

    init(r: Matrix, s: Matrix, scaling: Double, outFeatures: Int, inFeatures: Int) throws(ToolError) {
        core = Matrix.multiply(r, s, transposeB: true).scaled(by: scaling)
        norm = core.frobeniusNorm
        self.r = r
        self.s = s
        grams = (Matrix.multiply(r, transposeA: true, r), Matrix.multiply(s, transposeA: true, s))
        let rank = r.cols
        // Usually R and S have full rank and C = s·R·Sᵀ is well conditioned: then all three
        // subspaces are whole hosts, decided from R and S alone, since
        // σ_min(C)/σ_max(C) ≥ (σ_min(R)/σ_max(R))·(σ_min(S)/σ_max(S)); the product must clear
        // SciPy's rank tolerance of the dense ΔW (which also covers B's and Aᵀ's) with a margin
        // of 4, so borderline cores stay on the exact path below. The ratios are first bounded
        // from the eigenvalues of RᵀR and SᵀS (cheap, enough for any well-conditioned factor),
        // then, if that cannot decide, from the singular values.
        let tolerance = 4 * Double(max(outFeatures, inFeatures)) * Double.ulpOfOne
        var wellConditioned = Self.conditionLowerBound(r) * Self.conditionLowerBound(s) > tolerance
        if !wellConditioned {
            let sigmaR = try Factorizations.singularValues(r), sigmaS = try Factorizations.singularValues(s)
            if let maxR = sigmaR.first, let minR = sigmaR.last, let maxS = sigmaS.first, let minS = sigmaS.last, maxR > 0, maxS > 0 {
                wellConditioned = (minR / maxR) * (minS / maxS) > tolerance
            }
        }
        if wellConditioned, scaling != 0 {
            let whole = Subspace(wholeHostOfRank: rank)
            subspaces = [whole, whole, whole]
            isWholeHost = true
            return
        }
        subspaces = [
            try Subspace(core: core, denseRows: outFeatures, denseCols: inFeatures),
            try Subspace(core: r, denseRows: outFeatures, denseCols: rank),
            try Subspace(core: s, denseRows: inFeatures, denseCols: rank),
        ]
        isWholeHost = subspaces.allSatisfy(\.isWholeHost)
    }

    /// A lower bound on σ_min(M)/σ_max(M) for a small square M, from the eigenvalues of MᵀM
    /// widened by their error (rounding of the product and of the eigensolver, well within
    /// 32·n·ε·λ_max); 0 when that error could hide σ_min (a ratio below about 3e-7), or on NaN.
    static func conditionLowerBound(_ matrix: Matrix) -> Double {
        let n = matrix.cols
        guard n > 0, matrix.rows == n else { return 0 }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n + 3 * n) { buffer in
            let gram = buffer.baseAddress!, values = gram + n * n, scratch = values + n
            matrix.values.withUnsafeBufferPointer { m in
                for j in 0..<n {
                    for i in j..<n {
                        var sum = 0.0
                        for k in 0..<n { sum += m[k + i * n] * m[k + j * n] }
                        gram[i + j * n] = sum
                        gram[j + i * n] = sum
                    }
                }
            }
            guard SmallSymmetricEigen.values(gram, n: n, into: values, scratch: scratch), values[0] > 0 else { return 0 }
            let slack = 32 * Double(n) * Double.ulpOfOne * values[0]
            guard values[n - 1] - slack > 0 else { return 0 }
            return ((values[n - 1] - slack) / (values[0] + slack)).squareRoot()
        }
    }

    func subspace(_ kind: SubspaceKind) -> Subspace {
        switch kind {
        case .delta: return subspaces[0]
        case .b: return subspaces[1]
        case .a: return subspaces[2]
        }
    }
}

/// α·ΔWᵢ − β·ΔWⱼ for any α, β, with ΔW = U·C·Vᵀ: thin QRs [Uᵢ, Uⱼ] = Q₁T₁ and [Vᵢ, Vⱼ] = Q₂T₂
/// give ‖α·ΔWᵢ − β·ΔWⱼ‖ = ‖T₁·diag(α·Cᵢ, −β·Cⱼ)·T₂ᵀ‖. When the adapters are nearly equal the
/// difference is carried by T's small trailing blocks, so it is not lost to cancellation.
struct StackedDifference {
    var t1: Matrix
    var t2: Matrix
    var cores: [Matrix]

    init(u: [Matrix], v: [Matrix], cores: [Matrix]) throws(ToolError) {
        t1 = try Factorizations.thinQR(Matrix.hstack(u)).r
        t2 = try Factorizations.thinQR(Matrix.hstack(v)).r
        self.cores = cores
    }

    /// ‖first·ΔWᵢ − second·ΔWⱼ‖_F.
    func norm(first: Double, second: Double) -> Double {
        let p = cores[0].rows, q = cores[1].rows
        var middle = Matrix(zeros: p + q, cores[0].cols + cores[1].cols)
        for j in 0..<cores[0].cols {
            for i in 0..<p { middle[i, j] = first * cores[0][i, j] }
        }
        for j in 0..<cores[1].cols {
            for i in 0..<q { middle[p + i, cores[0].cols + j] = -second * cores[1][i, j] }
        }
        return Matrix.multiply(t1 * middle, t2, transposeB: true).frobeniusNorm
    }
}
