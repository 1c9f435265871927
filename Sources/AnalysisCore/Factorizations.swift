import CLapack
import Diagnostics

/// Thin QR and SVD through LAPACKE. Errors from LAPACK (an illegal argument, a non-converging
/// SVD) are reported as `ToolError.internalError`; they indicate a bug or broken input
/// that validation should have caught (NaN), not a user mistake.
public enum Factorizations {
    /// M = Q·R with Q (m × k) orthonormal columns and R (k × n) upper trapezoidal, k = min(m, n).
    /// Householder QR: Q is orthonormal to working precision even when M is rank-deficient or zero.
    public static func thinQR(_ matrix: Matrix) throws(ToolError) -> (q: Matrix, r: Matrix) {
        let m = matrix.rows, n = matrix.cols, k = min(m, n)
        guard k > 0 else { return (Matrix(zeros: m, 0), Matrix(zeros: 0, n)) }
        var work = matrix.values
        var tau = [Double](repeating: 0, count: k)
        let lda = Int32(max(1, m))
        var info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, Int32(m), Int32(n), &work, lda, &tau)
        guard info == 0 else { throw .internalError("LAPACKE_dgeqrf returned \(info) for a \(m)×\(n) matrix") }
        var r = Matrix(zeros: k, n)
        for j in 0..<n {
            for i in 0...min(j, k - 1) { r.values[i + j * k] = work[i + j * m] }
        }
        var q = Array(work[0..<(m * k)])
        info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, Int32(m), Int32(k), Int32(k), &q, lda, &tau)
        guard info == 0 else { throw .internalError("LAPACKE_dorgqr returned \(info) for a \(m)×\(k) matrix") }
        return (Matrix(rows: m, cols: k, values: q), r)
    }

    /// Thin QRs of column groups of one column-major matrix (`rows` × total), in place: on return
    /// each group's columns hold its orthonormal Q. Returns each group's R (r × r, upper
    /// triangular). Requires every group to have at most `rows` columns.
    public static func qrInPlace(_ values: inout [Double], rows: Int, columnRanges: [Range<Int>]) throws(ToolError) -> [Matrix] {
        var triangles: [Matrix] = []
        triangles.reserveCapacity(columnRanges.count)
        var tau = [Double](repeating: 0, count: columnRanges.map(\.count).max() ?? 0)
        var failure: ToolError?
        values.withUnsafeMutableBufferPointer { buffer in
            for range in columnRanges {
                let n = range.count
                precondition(n <= rows, "qrInPlace: \(n) columns for \(rows) rows")
                let slice = buffer.baseAddress! + range.lowerBound * rows
                var info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, Int32(rows), Int32(n), slice, Int32(rows), &tau)
                guard info == 0 else { failure = .internalError("LAPACKE_dgeqrf returned \(info)"); return }
                var r = Matrix(zeros: n, n)
                for j in 0..<n {
                    for i in 0...j { r.values[i + j * n] = slice[i + j * rows] }
                }
                triangles.append(r)
                info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, Int32(rows), Int32(n), Int32(n), slice, Int32(rows), &tau)
                guard info == 0 else { failure = .internalError("LAPACKE_dorgqr returned \(info)"); return }
            }
        }
        if let failure { throw failure }
        return triangles
    }

    /// Singular values in descending order.
    public static func singularValues(_ matrix: Matrix) throws(ToolError) -> [Double] {
        let m = matrix.rows, n = matrix.cols, k = min(m, n)
        guard k > 0 else { return [] }
        var work = matrix.values
        var sigma = [Double](repeating: 0, count: k)
        var superb = [Double](repeating: 0, count: max(1, k - 1))
        var dummyU = [Double](repeating: 0, count: 1)
        var dummyVT = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(m), Int32(n),
                                  &work, Int32(max(1, m)), &sigma, &dummyU, 1, &dummyVT, 1, &superb)
        guard info == 0 else { throw .internalError("LAPACKE_dgesvd returned \(info) for a \(m)×\(n) matrix") }
        return sigma
    }

    /// Thin SVD M = U·diag(σ)·Vᵀ: U (m × k), σ descending (k), k = min(m, n). Only U is returned,
    /// because the subspace computations need the left singular vectors alone.
    public static func leftSingularVectors(_ matrix: Matrix) throws(ToolError) -> (u: Matrix, sigma: [Double]) {
        let m = matrix.rows, n = matrix.cols, k = min(m, n)
        guard k > 0 else { return (Matrix(zeros: m, 0), []) }
        var work = matrix.values
        var sigma = [Double](repeating: 0, count: k)
        var superb = [Double](repeating: 0, count: max(1, k - 1))
        var u = [Double](repeating: 0, count: m * k)
        var dummyVT = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "S")), Int8(UInt8(ascii: "N")), Int32(m), Int32(n),
                                  &work, Int32(max(1, m)), &sigma, &u, Int32(max(1, m)), &dummyVT, 1, &superb)
        guard info == 0 else { throw .internalError("LAPACKE_dgesvd returned \(info) for a \(m)×\(n) matrix") }
        return (Matrix(rows: m, cols: k, values: u), sigma)
    }

    /// The number of singular values above `max(rows, cols) · 2⁻⁵² · σ_max` (SciPy's `orth` rule),
    /// where `rows × cols` is the shape of the dense matrix the values belong to.
    public static func numericalRank(_ sigma: [Double], rows: Int, cols: Int) -> Int {
        guard let largest = sigma.max(), largest > 0 else { return 0 }
        let tolerance = Double(max(rows, cols)) * Double.ulpOfOne * largest
        return sigma.filter { $0 > tolerance }.count
    }
}

/// OpenBLAS's own thread pool. tvgeo parallelises over blocks itself, so it runs BLAS on one
/// thread to keep the two levels from oversubscribing the cores, and stops the pool's threads,
/// which otherwise spin for ~0.1 s after the library loads (half the machine on a short run).
/// It also turns off LAPACKE's NaN scan of every input: tensors are checked when read.
public enum BLASThreads {
    public static func useSingleThread() {
        openblas_set_num_threads(1)
        _ = blas_thread_shutdown_()
        LAPACKE_set_nancheck(0)
    }
}

extension Factorizations {
    /// Thin SVD M = U·diag(σ)·Vᵀ: U (m × k), σ descending, Vᵀ (k × n), k = min(m, n).
    public static func svd(_ matrix: Matrix) throws(ToolError) -> (u: Matrix, sigma: [Double], vt: Matrix) {
        let m = matrix.rows, n = matrix.cols, k = min(m, n)
        guard k > 0 else { return (Matrix(zeros: m, 0), [], Matrix(zeros: 0, n)) }
        var work = matrix.values
        var sigma = [Double](repeating: 0, count: k)
        var superb = [Double](repeating: 0, count: max(1, k - 1))
        var u = [Double](repeating: 0, count: m * k)
        var vt = [Double](repeating: 0, count: k * n)
        let info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "S")), Int8(UInt8(ascii: "S")), Int32(m), Int32(n),
                                  &work, Int32(max(1, m)), &sigma, &u, Int32(max(1, m)), &vt, Int32(max(1, k)), &superb)
        guard info == 0 else { throw .internalError("LAPACKE_dgesvd returned \(info) for a \(m)×\(n) matrix") }
        return (Matrix(rows: m, cols: k, values: u), sigma, Matrix(rows: k, cols: n, values: vt))
    }

    /// Eigenvalues (descending) and eigenvectors (columns, in the same order) of a symmetric matrix.
    public static func symmetricEigen(_ matrix: Matrix) throws(ToolError) -> (values: [Double], vectors: Matrix) {
        let n = matrix.rows
        precondition(matrix.cols == n)
        guard n > 0 else { return ([], Matrix(zeros: 0, 0)) }
        var work = matrix.values
        var values = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &work, Int32(n), &values)
        guard info == 0 else { throw .internalError("LAPACKE_dsyevd returned \(info) for a \(n)×\(n) matrix") }
        // LAPACK returns ascending order; reverse to descending.
        var vectors = Matrix(zeros: n, n)
        for j in 0..<n {
            let source = n - 1 - j
            for i in 0..<n { vectors[i, j] = work[i + source * n] }
        }
        return (values.reversed(), vectors)
    }
}

extension Factorizations {
    /// Thin SVD M = U·diag(σ)·Vᵀ by divide and conquer (LAPACK dgesdd): the same factorisation as
    /// `svd` to rounding (singular vectors of distinct singular values agree up to sign), several
    /// times faster when the singular vectors of a large matrix are wanted.
    public static func svdDivideAndConquer(_ matrix: Matrix) throws(ToolError) -> (u: Matrix, sigma: [Double], vt: Matrix) {
        let m = matrix.rows, n = matrix.cols, k = min(m, n)
        guard k > 0 else { return (Matrix(zeros: m, 0), [], Matrix(zeros: 0, n)) }
        var work = matrix.values
        var sigma = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: m * k)
        var vt = [Double](repeating: 0, count: k * n)
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "S")), Int32(m), Int32(n), &work, Int32(max(1, m)), &sigma,
                                  &u, Int32(max(1, m)), &vt, Int32(max(1, k)))
        guard info == 0 else { throw .internalError("LAPACKE_dgesdd returned \(info) for a \(m)×\(n) matrix") }
        return (Matrix(rows: m, cols: k, values: u), sigma, Matrix(rows: k, cols: n, values: vt))
    }
}
