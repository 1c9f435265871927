import AnalysisCore
import TVGeoTestSupport
import XCTest

/// comb_shift and comb_error: an analytic case, the identities that hold exactly, what Comb is
/// and is not invariant under, and when they are undefined. (Agreement with dense ΔW on random
/// factors, near pairs included, is in BlockGeometryTests through `DenseReference`.)
final class CombMetricsTests: XCTestCase {
    func random(_ rng: inout SeededRandom, out: Int = 24, in inFeatures: Int = 18, rank: Int = 4, scaling: Double = 2) -> LoRAFactors {
        LoRAFactors(b: Matrix(rows: out, cols: rank, values: rng.gaussians(out * rank)),
                    aTransposed: Matrix(rows: inFeatures, cols: rank, values: rng.gaussians(inFeatures * rank)), scaling: scaling)
    }

    func testAnalyticRankOneCase() throws {
        // ΔW_i = e1·e1ᵀ, ΔW_j = e2·e2ᵀ: ΔW_C = ¼·[[1,1],[1,1]], so ΔW_C − ΔW_i = [[−¾,¼],[¼,¼]] (norm √3/2)
        // and ΔW_C − ½(ΔW_i + ΔW_j) = ¼·[[−1,1],[1,−1]] (norm ½) against ‖½·I‖ = √2/2.
        let first = LoRAFactors(b: Matrix(rows: 2, cols: 1, values: [1, 0]), aTransposed: Matrix(rows: 2, cols: 1, values: [1, 0]), scaling: 1)
        let second = LoRAFactors(b: Matrix(rows: 2, cols: 1, values: [0, 1]), aTransposed: Matrix(rows: 2, cols: 1, values: [0, 1]), scaling: 1)
        let result = try BlockGeometry.analyze([first, second])
        for (i, j) in [(0, 1), (1, 0)] {
            XCTAssertEqual(result.distances[.combShift]![i, j], 3.0.squareRoot() / 2, accuracy: 1e-15)
            XCTAssertEqual(result.distances[.combError]![i, j], 1 / 2.0.squareRoot(), accuracy: 1e-15)
        }
    }

    func testCombErrorIsZeroWhenTheBsOrTheAsAreEqual() throws {
        var rng = SeededRandom(seed: 3)
        let base = random(&rng), other = random(&rng)
        let sameB = LoRAFactors(b: base.b, aTransposed: other.aTransposed, scaling: base.scaling)
        let sameA = LoRAFactors(b: other.b, aTransposed: base.aTransposed, scaling: base.scaling)
        let result = try BlockGeometry.analyze([base, sameB, sameA])
        let error = result.distances[.combError]!
        for (i, j) in [(0, 1), (1, 0), (0, 2), (2, 0)] {
            XCTAssertEqual(error[i, j], 0, accuracy: 1e-13, "(B_i − B_j)(A_i − A_j) = 0 at [\(i),\(j)]")
        }
        // The pair (1, 2) shares neither factor: Comb differs from the average there.
        XCTAssertGreaterThan(error[1, 2], 0.1)
        // Comb of equal B's is the exact average, so the shift is ½‖ΔW_j − ΔW_i‖ / ‖ΔW_i‖.
        let l2 = result.distances[.l2]!
        XCTAssertEqual(result.distances[.combShift]![0, 1], l2[0, 1] / 2 / result.norms[0], accuracy: 1e-12)
    }

    func testZeroOnTheDiagonalAndForIdenticalCopies() throws {
        var rng = SeededRandom(seed: 5)
        let first = random(&rng), second = random(&rng)
        let result = try BlockGeometry.analyze([first, second, first])
        for metric in [DistanceMetric.combShift, .combError] {
            for i in 0..<3 { XCTAssertEqual(result.distances[metric]![i, i], 0, "\(metric) diagonal") }
            XCTAssertEqual(result.distances[metric]![0, 2], 0, "\(metric) of a bit-identical copy")
            XCTAssertGreaterThan(result.distances[metric]![0, 1], 0)
        }
    }

    func testSymmetricErrorAtEqualScalingsAsymmetricShift() throws {
        var rng = SeededRandom(seed: 7)
        let adapters = [random(&rng), random(&rng, scaling: 2), random(&rng, scaling: 0.5)]
        let result = try BlockGeometry.analyze(adapters)
        let error = result.distances[.combError]!, shift = result.distances[.combShift]!
        XCTAssertEqual(error[0, 1], error[1, 0], accuracy: 1e-14 * error[0, 1])
        // Different scalings: host i's s_i in ΔW_C makes comb_error asymmetric.
        XCTAssertGreaterThan(abs(error[0, 2] - error[2, 0]), 1e-3)
        XCTAssertGreaterThan(abs(shift[0, 1] - shift[1, 0]), 1e-6)
        XCTAssertFalse(DistanceMetric.combShift.descriptor.isSymmetric)
        XCTAssertFalse(DistanceMetric.combError.descriptor.isSymmetric)
        XCTAssertEqual(DistanceMetric.combShift.descriptor.appliesTo, [.lora])
    }

    /// B → B·G, A → G⁻¹·A with one invertible G shared by both adapters leaves (B_i + B_j)(A_i + A_j)
    /// unchanged; a different G per adapter leaves each ΔW unchanged but not Comb.
    func testInvariantUnderASharedReparametrisationOnly() throws {
        var rng = SeededRandom(seed: 11)
        let adapters = [random(&rng), random(&rng), random(&rng)]
        func reparametrised(_ factors: LoRAFactors, _ g: Matrix) throws -> LoRAFactors {
            // Aᵀ → Aᵀ·G⁻ᵀ: solve with the small dense inverse from the SVD-free Gauss–Jordan below.
            LoRAFactors(b: factors.b * g, aTransposed: factors.aTransposed * inverse(g).transposed, scaling: factors.scaling)
        }
        let shared = Matrix(rows: 4, cols: 4, values: rng.gaussians(16).enumerated().map { $0.offset % 5 == 0 ? $0.element + 3 : $0.element })
        let original = try BlockGeometry.analyze(adapters)
        let same = try BlockGeometry.analyze(try adapters.map { try reparametrised($0, shared) })
        let each = try BlockGeometry.analyze(try adapters.enumerated().map { index, factors in
            try reparametrised(factors, Matrix(rows: 4, cols: 4, values: rng.gaussians(16).map { $0 + (index == 0 ? 0 : 0.5) }))
        })
        for metric in [DistanceMetric.combShift, .combError] {
            for i in 0..<3 {
                for j in 0..<3 {
                    XCTAssertEqual(same.distances[metric]![i, j], original.distances[metric]![i, j],
                                   accuracy: 1e-10 * max(1, original.distances[metric]![i, j]), "\(metric) shared G [\(i),\(j)]")
                }
            }
            XCTAssertGreaterThan(abs(each.distances[metric]![0, 1] - original.distances[metric]![0, 1]), 1e-3, "\(metric) per-adapter G")
        }
        // The updates themselves did not change.
        for i in 0..<3 { XCTAssertEqual(each.norms[i], original.norms[i], accuracy: 1e-10 * original.norms[i]) }
    }

    func testUndefinedAcrossRanksAndForAZeroHost() throws {
        var rng = SeededRandom(seed: 13)
        let zero = LoRAFactors(b: Matrix(zeros: 24, 4), aTransposed: Matrix(rows: 18, cols: 4, values: rng.gaussians(72)), scaling: 2)
        let result = try BlockGeometry.analyze([random(&rng), random(&rng, rank: 2), zero])
        for metric in [DistanceMetric.combShift, .combError] {
            XCTAssertTrue(result.distances[metric]![0, 1].isNaN, "\(metric) across ranks")
            XCTAssertTrue(result.distances[metric]![1, 0].isNaN, "\(metric) across ranks")
        }
        XCTAssertTrue(result.distances[.combShift]![2, 0].isNaN, "shift of a zero host")
        XCTAssertTrue(result.distances[.combShift]![2, 2].isNaN, "shift of a zero host with itself")
        XCTAssertFalse(result.distances[.combShift]![0, 2].isNaN)
        XCTAssertFalse(result.distances[.combError]![2, 0].isNaN, "the average of a zero and a non-zero update is not zero")
    }

    /// Gauss–Jordan with partial pivoting, for the small test matrices.
    func inverse(_ matrix: Matrix) -> Matrix {
        let n = matrix.rows
        var a = matrix, out = Matrix.identity(n)
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0, col]) < abs(a[$1, col]) }!
            for k in 0..<n {
                a.values.swapAt(col + k * n, pivot + k * n)
                out.values.swapAt(col + k * n, pivot + k * n)
            }
            let p = a[col, col]
            for k in 0..<n { a[col, k] /= p; out[col, k] /= p }
            for row in 0..<n where row != col {
                let f = a[row, col]
                for k in 0..<n { a[row, k] -= f * a[col, k]; out[row, k] -= f * out[col, k] }
            }
        }
        return out
    }
}
