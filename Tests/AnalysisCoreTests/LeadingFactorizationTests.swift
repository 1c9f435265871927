import AnalysisCore
import TVGeoTestSupport
import XCTest

/// The partial eigendecomposition the MDS maps use at large N against LAPACK's full one.
final class LeadingFactorizationTests: XCTestCase {
    private func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        var random = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: random.gaussians(rows * cols))
    }

    /// Columns equal up to sign: the larger of |a ± b| is compared.
    private func assertSameUpToSign(_ a: [Double], _ b: [Double], tolerance: Double, _ message: String) {
        let plus = zip(a, b).map { abs($0 - $1) }.max() ?? 0, minus = zip(a, b).map { abs($0 + $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(min(plus, minus), tolerance, message)
    }

    func testLeadingEigenvectorsMatchTheFullDecomposition() throws {
        for (n, seed) in [(1, 11), (2, 12), (3, 13), (50, 14), (300, 15)] as [(Int, UInt64)] {
            // A symmetric matrix with eigenvalues of both signs (as −½JD²J of a non-Euclidean D has).
            let x = randomMatrix(n, n, seed: seed)
            var symmetric = Matrix(zeros: n, n)
            for i in 0..<n { for j in 0..<n { symmetric[i, j] = x[i, j] + x[j, i] } }
            let full = try Factorizations.symmetricEigen(symmetric)
            let leading = try Factorizations.symmetricEigen(symmetric, leadingVectors: 2)
            XCTAssertEqual(leading.values.count, n)
            let scale = full.values.map(abs).max() ?? 1
            for (ours, reference) in zip(leading.values, full.values) {
                XCTAssertEqual(ours, reference, accuracy: 1e-12 * scale, "n \(n)")
            }
            XCTAssertEqual(leading.values, leading.values.sorted(by: >))
            XCTAssertEqual(leading.vectors.cols, min(2, n))
            for index in 0..<min(2, n) {
                assertSameUpToSign((0..<n).map { leading.vectors[$0, index] }, (0..<n).map { full.vectors[$0, index] },
                                   tolerance: 1e-9, "n \(n) vector \(index)")
            }
        }
    }
}
