import CLapack
import Diagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-pair work of one block, done in scratch memory allocated once per block: no array is
/// created per pair, and LAPACK is called without its per-call workspace query. Every pair gets
/// its inner product and, when nearly equal, its cancellation-free l2 and cosine here; the
/// Grassmann distances only when every subspace of both adapters is its whole host basis
/// (full-rank cores, the usual case; the others take `BlockGeometry.principalAngles`).
///
/// Reads UᵢᵀUⱼ and VᵢᵀVⱼ straight out of the block's Gram matrices. Results agree with the
/// general path (`BlockGeometry.principalAngles`, `StackedDifference`) to rounding.
final class PairKernel {
    private let maxRank: Int
    private let outFeatures: Int
    private let inFeatures: Int
    /// rᵢ × rⱼ cross products UᵢᵀUⱼ and VᵢᵀVⱼ of the current pair.
    private let mu: UnsafeMutablePointer<Double>
    private let mv: UnsafeMutablePointer<Double>
    /// Products for the inner product, and a copy that LAPACK may destroy.
    private let product: UnsafeMutablePointer<Double>
    private let product2: UnsafeMutablePointer<Double>
    private let copy: UnsafeMutablePointer<Double>
    private let sigma: UnsafeMutablePointer<Double>
    private let sines: UnsafeMutablePointer<Double>
    private let angles: UnsafeMutablePointer<Double>
    private let work: UnsafeMutablePointer<Double>
    private let workCount: Int
    /// d × r residual of one host basis against the other (near pairs and the sine branch).
    private let residual: UnsafeMutablePointer<Double>
    private let tau: UnsafeMutablePointer<Double>
    /// The rⱼ × rⱼ triangle of the residual's QR, per host (U, V), for the current pair.
    private let triangleU: UnsafeMutablePointer<Double>
    private let triangleV: UnsafeMutablePointer<Double>
    /// The direction (`swap`, see `residualTriangle`) each triangle holds, nil when not computed.
    private var directionU: Bool?
    private var directionV: Bool?

    private(set) var i = 0
    private(set) var j = 0
    private(set) var ri = 0
    private(set) var rj = 0

    init(maxRank: Int, outFeatures: Int, inFeatures: Int) {
        self.maxRank = maxRank
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        let square = maxRank * maxRank
        mu = .allocate(capacity: square)
        mv = .allocate(capacity: square)
        product = .allocate(capacity: square)
        product2 = .allocate(capacity: square)
        copy = .allocate(capacity: square)
        sigma = .allocate(capacity: maxRank)
        sines = .allocate(capacity: maxRank)
        angles = .allocate(capacity: maxRank)
        // Enough for LAPACK's blocked paths (asked once: dgesvd without vectors on rank × rank,
        // dgeqrf on d × rank); too little would silently select the unblocked BLAS-2 code, which
        // is many times slower at large ranks. Also ≥ 2·rank for the eigensolver's scratch.
        workCount = Self.workspace(maxRank: maxRank, rows: max(outFeatures, inFeatures))
        work = .allocate(capacity: workCount)
        residual = .allocate(capacity: max(outFeatures, inFeatures) * maxRank)
        tau = .allocate(capacity: maxRank)
        triangleU = .allocate(capacity: square)
        triangleV = .allocate(capacity: square)
    }

    private static func workspace(maxRank: Int, rows: Int) -> Int {
        var size = max(64, 16 * maxRank + 64)
        guard maxRank > 0 else { return size }
        var query = 0.0, matrix = 0.0, values = 0.0, left = 0.0, right = 0.0
        if LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(maxRank), Int32(maxRank),
                               &matrix, Int32(maxRank), &values, &left, 1, &right, 1, &query, -1) == 0 {
            size = max(size, Int(query))
        }
        if LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, Int32(rows), Int32(maxRank), &matrix, Int32(max(1, rows)), &values, &query, -1) == 0 {
            size = max(size, Int(query))
        }
        return size
    }

    deinit {
        for pointer in [mu, mv, product, product2, copy, sigma, sines, angles, work, residual, tau, triangleU, triangleV] {
            pointer.deallocate()
        }
    }

    /// Selects pair (i, j) and copies its cross products out of the Gram matrices.
    func load(_ i: Int, _ j: Int, block: StackedBlock) {
        self.i = i
        self.j = j
        let rows = block.columns(i), cols = block.columns(j)
        ri = rows.count
        rj = cols.count
        directionU = nil
        directionV = nil
        let total = block.totalRank
        block.gramU.withUnsafeBufferPointer { gu in
            block.gramV.withUnsafeBufferPointer { gv in
                for (jj, column) in cols.enumerated() {
                    let source = column * total + rows.lowerBound
                    for ii in 0..<ri {
                        mu[ii + jj * ri] = gu[source + ii]
                        mv[ii + jj * ri] = gv[source + ii]
                    }
                }
            }
        }
    }

    /// ⟨ΔWᵢ, ΔWⱼ⟩ = tr(Cᵢᵀ·(UᵢᵀUⱼ)·Cⱼ·(VᵢᵀVⱼ)ᵀ), from the two cores (rᵢ × rᵢ and rⱼ × rⱼ).
    func inner(_ first: Matrix, _ second: Matrix) -> Double {
        // product = mu · Cⱼ (rᵢ × rⱼ)
        second.values.withUnsafeBufferPointer { c in
            for col in 0..<rj {
                for row in 0..<ri { product[row + col * ri] = 0 }
                for k in 0..<rj {
                    let factor = c[k + col * rj]
                    if factor == 0 { continue }
                    for row in 0..<ri { product[row + col * ri] += mu[row + k * ri] * factor }
                }
            }
        }
        // product2 = product · mvᵀ (rᵢ × rᵢ)
        for col in 0..<ri {
            for row in 0..<ri { product2[row + col * ri] = 0 }
            for k in 0..<rj {
                let factor = mv[col + k * ri]
                for row in 0..<ri { product2[row + col * ri] += product[row + k * ri] * factor }
            }
        }
        return first.values.withUnsafeBufferPointer { c in
            var sum = 0.0
            for index in 0..<(ri * ri) { sum += c[index] * product2[index] }
            return sum
        }
    }

    /// The principal angles between span(Uᵢ) and span(Uⱼ) (`onA` false) or span(Vᵢ) and span(Vⱼ),
    /// with the sine branch of `PrincipalAngles`: min(rᵢ, rⱼ) angles in `angles`, valid until
    /// the next call; also says whether the sine branch was taken.
    func principalAngles(onA: Bool, block: StackedBlock) throws(ToolError) -> (angles: UnsafePointer<Double>, count: Int, refined: Bool) {
        let cross = onA ? mv : mu
        let k = min(ri, rj)
        try cosines(cross, into: sigma)
        guard PrincipalAngles.fromCosines(sigma, count: k, into: angles) else { return (UnsafePointer(angles), k, false) }
        let triangle = try residualTriangle(onA: onA, block: block)
        try singularValues(triangle, rows: k, cols: k, into: sines)
        PrincipalAngles.refine(angles, cosines: sigma, sines: sines, count: k)
        return (UnsafePointer(angles), k, true)
    }

    /// ‖α·ΔWᵢ − β·ΔWⱼ‖_F without cancellation: with E = Hⱼ − Hᵢ·(HᵢᵀHⱼ) = Q·T (Householder),
    /// [Hᵢ, Hⱼ] = [Hᵢ, Q]·[[I, HᵢᵀHⱼ], [0, T]], so the norm is that of the small
    /// (rᵢ + rⱼ)-square product of those triangles with diag(α·Cᵢ, −β·Cⱼ).
    /// Needs d ≥ rᵢ + rⱼ for both hosts (the caller checks `canStackDifference`).
    private func differenceNorm(first: Double, second: Double, cores: (Matrix, Matrix), block: StackedBlock) throws(ToolError) -> Double {
        let t1 = try stackedTriangle(onA: false, block: block)
        let t2 = try stackedTriangle(onA: true, block: block)
        let n = ri + rj
        var middle = Matrix(zeros: n, n)
        for col in 0..<ri {
            for row in 0..<ri { middle[row, col] = first * cores.0[row, col] }
        }
        for col in 0..<rj {
            for row in 0..<rj { middle[ri + row, ri + col] = -second * cores.1[row, col] }
        }
        return Matrix.multiply(t1 * middle, t2, transposeB: true).frobeniusNorm
    }

    /// l2 and cosine distance of a nearly equal pair without cancellation (needs
    /// `canStackDifference`); the cosine distance is ½‖ΔWᵢ/‖ΔWᵢ‖ − ΔWⱼ/‖ΔWⱼ‖‖², NaN if a norm is 0.
    func stackedDistances(cores: (Matrix, Matrix), norms: (Double, Double), block: StackedBlock) throws(ToolError) -> (Double, Double) {
        let l2 = try differenceNorm(first: 1, second: 1, cores: cores, block: block)
        guard norms.0 > 0 && norms.1 > 0 else { return (l2, .nan) }
        let unit = try differenceNorm(first: 1 / norms.0, second: 1 / norms.1, cores: cores, block: block)
        return (l2, min(2, unit * unit / 2))
    }

    /// True when both hosts have room for the stacked bases (d ≥ rᵢ + rⱼ).
    var canStackDifference: Bool { outFeatures >= ri + rj && inFeatures >= ri + rj }

    /// [[I, HᵢᵀHⱼ], [0, T]] for the pair, as an (rᵢ + rⱼ)-square matrix.
    private func stackedTriangle(onA: Bool, block: StackedBlock) throws(ToolError) -> Matrix {
        let cross = onA ? mv : mu
        let n = ri + rj
        var out = Matrix(zeros: n, n)
        for d in 0..<ri { out[d, d] = 1 }
        for col in 0..<rj {
            for row in 0..<ri { out[row, ri + col] = cross[row + col * ri] }
        }
        // Hⱼ against Hᵢ, whichever way round the sine branch needed it.
        let triangle = try residualTriangle(onA: onA, block: block, against: false)
        for col in 0..<rj {
            for row in 0...col { out[ri + row, ri + col] = triangle[row + col * rj] }
        }
        return out
    }

    /// The upper triangle T (k × k) of E = Hⱼ − Hᵢ·(HᵢᵀHⱼ) = Q·T, or of Hᵢ − Hⱼ·(HᵢᵀHⱼ)ᵀ when
    /// `against` is nil and rᵢ < rⱼ (the residual of the smaller basis against the larger, as the
    /// sine branch needs). Computed once per pair and host for a given direction.
    private func residualTriangle(onA: Bool, block: StackedBlock, against preferSwap: Bool? = nil) throws(ToolError) -> UnsafeMutablePointer<Double> {
        let swap = preferSwap ?? (ri < rj)
        let triangle = onA ? triangleV : triangleU
        if (onA ? directionV : directionU) == swap { return triangle }
        let rows = onA ? inFeatures : outFeatures
        let cross = onA ? mv : mu
        let (target, source) = swap ? (i, j) : (j, i)
        let targetColumns = block.columns(target), sourceColumns = block.columns(source)
        let k = targetColumns.count, sourceRank = sourceColumns.count
        let stack = onA ? block.aTransposed : block.b
        stack.withUnsafeBufferPointer { values in
            let hostTarget = values.baseAddress! + targetColumns.lowerBound * rows
            let hostSource = values.baseAddress! + sourceColumns.lowerBound * rows
            for index in 0..<(rows * k) { residual[index] = hostTarget[index] }
            // E −= H_source · coefficients, coefficients = cross (rᵢ × rⱼ) or its transpose.
            cblas_dgemm(CblasColMajor, CblasNoTrans, swap ? CblasTrans : CblasNoTrans,
                        Int32(rows), Int32(k), Int32(sourceRank), -1, hostSource, Int32(rows),
                        cross, Int32(ri), 1, residual, Int32(rows))
        }
        let info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, Int32(rows), Int32(k), residual, Int32(rows), tau, work, Int32(workCount))
        guard info == 0 else { throw .internalError("LAPACKE_dgeqrf returned \(info) for a \(rows)×\(k) residual") }
        for col in 0..<k {
            for row in 0..<k { triangle[row + col * k] = row <= col ? residual[row + col * rows] : 0 }
        }
        if onA { directionV = swap } else { directionU = swap }
        return triangle
    }

    /// Above this rank the eigensolver (unblocked, O(k³) in plain loops) loses to LAPACK's SVD.
    static let eigenLimit = 32

    /// The singular values (descending) of the rᵢ × rⱼ cross product M, the cosines of the principal
    /// angles: the square roots of the eigenvalues of the k × k Gram matrix of M (k = min(rᵢ, rⱼ)),
    /// about three times faster than an SVD at k = 8. Squaring costs accuracy only for small
    /// singular values (an eigenvalue error δ moves σ by δ/2σ), so when the smallest eigenvalue is
    /// below 1e-8 (σ < 1e-4, an angle within 1e-4 of 90°) the SVD is used instead; above it the
    /// error in the distance stays below about 1e-11 relative.
    private func cosines(_ cross: UnsafeMutablePointer<Double>, into values: UnsafeMutablePointer<Double>) throws(ToolError) {
        let k = min(ri, rj)
        guard k <= Self.eigenLimit else {
            try singularValues(cross, rows: ri, cols: rj, into: values)
            return
        }
        // copy = MᵀM (rⱼ ≤ rᵢ) or MMᵀ, k × k.
        for col in 0..<k {
            for row in col..<k {
                var sum = 0.0
                if rj <= ri {
                    for index in 0..<ri { sum += cross[index + row * ri] * cross[index + col * ri] }
                } else {
                    for index in 0..<rj { sum += cross[row + index * ri] * cross[col + index * ri] }
                }
                copy[row + col * k] = sum
                copy[col + row * k] = sum
            }
        }
        if k <= Self.eigenLimit, SmallSymmetricEigen.values(copy, n: k, into: values, scratch: work), k > 0, values[k - 1] >= 1e-8 {
            for m in 0..<k { values[m] = values[m].squareRoot() }
            return
        }
        try singularValues(cross, rows: ri, cols: rj, into: values)
    }

    /// Singular values (descending) of a rows × cols column-major matrix, which is left intact.
    private func singularValues(_ matrix: UnsafeMutablePointer<Double>, rows: Int, cols: Int,
                                into values: UnsafeMutablePointer<Double>) throws(ToolError) {
        let count = rows * cols
        guard count > 0 else { return }
        for index in 0..<count { copy[index] = matrix[index] }
        var unused = 0.0, unusedT = 0.0
        let info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(rows), Int32(cols),
                                       copy, Int32(max(1, rows)), values, &unused, 1, &unusedT, 1, work, Int32(workCount))
        guard info == 0 else { throw .internalError("LAPACKE_dgesvd returned \(info) for a \(rows)×\(cols) matrix") }
    }
}
