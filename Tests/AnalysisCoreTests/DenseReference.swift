import AnalysisCore
import Foundation

/// The distances computed the slow, obvious way on dense matrices: form ΔW, take orthonormal
/// bases by SVD with SciPy's rank rule, and principal angles by the cosine/sine recipe.
/// Independent of the low-rank algebra in `BlockGeometry`.
enum DenseReference {
    static func orth(_ matrix: Matrix) -> Matrix {
        let (u, sigma) = try! Factorizations.leftSingularVectors(matrix)
        return u.columns(0..<Factorizations.numericalRank(sigma, rows: matrix.rows, cols: matrix.cols))
    }

    static func angles(_ x: Matrix, _ y: Matrix) -> [Double]? {
        let qx = orth(x), qy = orth(y)
        guard qx.cols > 0, qy.cols > 0 else { return nil }
        let cross = Matrix.multiply(qx, transposeA: true, qy)
        let cosines = try! Factorizations.singularValues(cross)
        let residual = qx.cols >= qy.cols ? qy - qx * cross : qx - qy * cross.transposed
        let sines = try! Factorizations.singularValues(residual)
        let k = cosines.count
        return (0..<k).map { m in cosines[m] * cosines[m] >= 0.5 ? asin(min(1, sines[k - 1 - m])) : acos(min(1, cosines[m])) }
    }

    static func grassmann(_ x: Matrix, _ y: Matrix) -> Double {
        guard let theta = angles(x, y) else { return .nan }
        return theta.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    static func distance(_ metric: DistanceMetric, _ p: LoRAFactors, _ q: LoRAFactors) -> Double {
        switch metric {
        case .l2:
            return (p.denseDelta - q.denseDelta).frobeniusNorm
        case .cosine:
            let a = p.denseDelta, b = q.denseDelta
            let na = a.frobeniusNorm, nb = b.frobeniusNorm
            guard na > 0, nb > 0 else { return .nan }
            return min(2, max(0, 1 - Matrix.frobeniusInner(a, b) / (na * nb)))
        case .grassmann:
            return grassmann(p.denseDelta, q.denseDelta)
        case .grassmannB:
            return grassmann(p.b, q.b)
        case .grassmannA:
            return grassmann(p.aTransposed, q.aTransposed)
        case .combShift, .combError:
            guard p.rank == q.rank else { return .nan }
            // Comb with p as the host: (s_p/4)(B_p + B_q)(A_p + A_q), formed densely.
            let sum = LoRAFactors(b: Matrix(rows: p.b.rows, cols: p.rank, values: zip(p.b.values, q.b.values).map(+)),
                                  aTransposed: Matrix(rows: p.aTransposed.rows, cols: p.rank,
                                                      values: zip(p.aTransposed.values, q.aTransposed.values).map(+)),
                                  scaling: p.scaling / 4)
            let comb = sum.denseDelta
            if metric == .combShift {
                let own = p.denseDelta.frobeniusNorm
                return own > 0 ? (comb - p.denseDelta).frobeniusNorm / own : .nan
            }
            let average = Matrix(rows: comb.rows, cols: comb.cols,
                                 values: zip(p.denseDelta.values, q.denseDelta.values).map { ($0 + $1) / 2 })
            let norm = average.frobeniusNorm
            return norm > 0 ? (comb - average).frobeniusNorm / norm : .nan
        }
    }
}
