import CLapack
import Diagnostics

/// A dense real matrix stored column-major (LAPACK's layout): element (i, j) is
/// `values[i + j * rows]`.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var values: [Double]

    public init(rows: Int, cols: Int, values: [Double]) {
        precondition(values.count == rows * cols, "Matrix: \(values.count) values for \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, values: [Double](repeating: 0, count: rows * cols))
    }

    /// Builds a matrix from row-major data (the order of safetensors and NumPy).
    public init(rows: Int, cols: Int, rowMajor: [Double]) {
        precondition(rowMajor.count == rows * cols)
        var values = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows {
            for j in 0..<cols { values[i + j * rows] = rowMajor[i * cols + j] }
        }
        self.init(rows: rows, cols: cols, values: values)
    }

    public static func identity(_ n: Int) -> Matrix {
        var matrix = Matrix(zeros: n, n)
        for i in 0..<n { matrix.values[i + i * n] = 1 }
        return matrix
    }

    public subscript(row: Int, col: Int) -> Double {
        get { values[row + col * rows] }
        set { values[row + col * rows] = newValue }
    }

    public var transposed: Matrix {
        var out = Matrix(zeros: cols, rows)
        for j in 0..<cols {
            for i in 0..<rows { out.values[j + i * cols] = values[i + j * rows] }
        }
        return out
    }

    /// Row-major copy of the elements.
    public var rowMajor: [Double] { transposed.values }

    /// Frobenius norm, computed with scaling so that it neither overflows nor underflows.
    public var frobeniusNorm: Double {
        guard !values.isEmpty else { return 0 }
        return values.withUnsafeBufferPointer { cblas_dnrm2(Int32($0.count), $0.baseAddress, 1) }
    }

    /// Columns `range` as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        Matrix(rows: rows, cols: range.count, values: Array(values[(range.lowerBound * rows)..<(range.upperBound * rows)]))
    }

    /// Places matrices side by side: [M₁ M₂ …]. All must have the same number of rows.
    public static func hstack(_ parts: [Matrix]) -> Matrix {
        let rows = parts.first?.rows ?? 0
        precondition(parts.allSatisfy { $0.rows == rows })
        return Matrix(rows: rows, cols: parts.reduce(0) { $0 + $1.cols }, values: parts.flatMap(\.values))
    }

    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix {
        multiply(lhs, rhs)
    }

    /// op(A)·op(B) with BLAS dgemm, where op transposes when asked.
    public static func multiply(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "multiply: inner dimensions \(k) and \(kb)")
        var out = Matrix(zeros: m, n)
        guard m > 0, n > 0, k > 0 else { return out }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                out.values.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasColMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), 1, pa.baseAddress, Int32(max(1, a.rows)),
                                pb.baseAddress, Int32(max(1, b.rows)), 0, pc.baseAddress, Int32(max(1, m)))
                }
            }
        }
        return out
    }

    /// MᵀM (symmetric) with BLAS dsyrk, which does half the work of a general product:
    /// of a column-major rows × cols matrix, into `out` (resized to cols², storage reused). With
    /// `mirrored` false only the upper triangle (row ≤ column) is written; the rest keeps what `out`
    /// held (the pair loop reads pairs i < j only: at N·r = 8000 the mirror is 64 M strided copies).
    public static func gram(of values: [Double], rows: Int, cols: Int, into out: inout [Double], mirrored: Bool = true) {
        if out.count != cols * cols { out = [Double](repeating: 0, count: cols * cols) }
        guard cols > 0, rows > 0 else { return }
        values.withUnsafeBufferPointer { pa in
            out.withUnsafeMutableBufferPointer { pc in
                cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(cols), Int32(rows), 1, pa.baseAddress, Int32(rows), 0,
                            pc.baseAddress, Int32(cols))
                guard mirrored else { return }
                for j in 0..<cols {
                    for i in (j + 1)..<max(cols, j + 1) { pc[i + j * cols] = pc[j + i * cols] }
                }
            }
        }
    }

    /// Σᵢⱼ Aᵢⱼ·Bᵢⱼ = tr(AᵀB).
    public static func frobeniusInner(_ a: Matrix, _ b: Matrix) -> Double {
        precondition(a.rows == b.rows && a.cols == b.cols)
        guard !a.values.isEmpty else { return 0 }
        return a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in cblas_ddot(Int32(pa.count), pa.baseAddress, 1, pb.baseAddress, 1) }
        }
    }

    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols)
        return Matrix(rows: lhs.rows, cols: lhs.cols, values: zip(lhs.values, rhs.values).map { $0 - $1 })
    }

    public func scaled(by factor: Double) -> Matrix {
        Matrix(rows: rows, cols: cols, values: values.map { $0 * factor })
    }
}
