import CLapack
import Diagnostics

/// A partial factorisation for the task maps at large N (only the leading components are shown).
extension Factorizations {
    /// Every eigenvalue of a symmetric matrix (descending) and the eigenvectors of the `count`
    /// largest (n × count, columns in the same order): one tridiagonal reduction (dsytrd), the
    /// values by dsterf, the `count` vectors by MRRR (dstemr) carried back by dormtr. For an n × n
    /// matrix about a third of the work of all vectors (`symmetricEigen`); the same values and, for
    /// separated eigenvalues, the same vectors up to sign. Falls back to `symmetricEigen` if dstemr
    /// does not converge.
    public static func symmetricEigen(_ matrix: Matrix, leadingVectors count: Int) throws(ToolError) -> (values: [Double], vectors: Matrix) {
        let n = matrix.rows
        precondition(matrix.cols == n)
        let k = min(max(count, 0), n)
        guard n > 0 else { return ([], Matrix(zeros: 0, 0)) }
        var reduced = matrix.values
        var diagonal = [Double](repeating: 0, count: n)
        var offDiagonal = [Double](repeating: 0, count: n)   // n - 1 used; dstemr needs n
        var tau = [Double](repeating: 0, count: max(1, n - 1))
        var info = LAPACKE_dsytrd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), &reduced, Int32(n), &diagonal, &offDiagonal, &tau)
        guard info == 0 else { throw .internalError("LAPACKE_dsytrd returned \(info) for a \(n)×\(n) matrix") }
        var values = diagonal, scratch = offDiagonal
        info = LAPACKE_dsterf(Int32(n), &values, &scratch)
        guard info == 0 else { throw .internalError("LAPACKE_dsterf returned \(info) for a \(n)×\(n) matrix") }
        values.reverse()
        guard k > 0 else { return (values, Matrix(zeros: n, 0)) }
        var found: Int32 = 0
        var selected = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n * k)
        var support = [Int32](repeating: 0, count: 2 * k)
        var tryHighAccuracy: Int32 = 1
        info = LAPACKE_dstemr(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "I")), Int32(n), &diagonal, &offDiagonal,
                              0, 0, Int32(n - k + 1), Int32(n), &found, &selected, &z, Int32(n), Int32(k), &support, &tryHighAccuracy)
        guard info == 0, Int(found) == k else {
            let all = try symmetricEigen(matrix)
            var vectors = Matrix(zeros: n, k)
            for j in 0..<k { for i in 0..<n { vectors[i, j] = all.vectors[i, j] } }
            return (all.values, vectors)
        }
        info = LAPACKE_dormtr(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), Int8(UInt8(ascii: "U")), Int8(UInt8(ascii: "N")),
                              Int32(n), Int32(k), &reduced, Int32(n), &tau, &z, Int32(n))
        guard info == 0 else { throw .internalError("LAPACKE_dormtr returned \(info) for a \(n)×\(n) matrix") }
        // dstemr lists the selected values ascending: the largest is the last column.
        var vectors = Matrix(zeros: n, k)
        for j in 0..<k {
            let source = k - 1 - j
            for i in 0..<n { vectors[i, j] = z[i + source * n] }
        }
        return (values, vectors)
    }
}
