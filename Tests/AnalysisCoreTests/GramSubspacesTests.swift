@testable import AnalysisCore
import TVGeoTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gram path of `FullTaskVectors.leadingSubspaces` (σ and the top-k singular vectors from
/// the eigenproblem of τᵀτ) and `Factorizations.symmetricEigenvaluesAndTopVectors` under it:
/// against analytic answers, against the exact SVD path, under rotations, and the accuracy guard
/// that sends rank-deficient, ill-conditioned and gapless cases to the SVD.
final class GramSubspacesTests: XCTestCase {
    /// The Householder reflection H = I − 2wwᵀ/‖w‖² (symmetric and orthogonal) for a fixed w.
    func reflection(_ size: Int, frequency: Double) -> Matrix {
        let w = (0..<size).map { sin(frequency * Double($0 + 1)) + 0.1 }
        let norm2 = w.reduce(0) { $0 + $1 * $1 }
        var h = Matrix.identity(size)
        for j in 0..<size {
            for i in 0..<size { h[i, j] -= 2 * w[i] * w[j] / norm2 }
        }
        return h
    }

    /// τ = H₁·D·H₂ with D (m × n) diagonal σ: its singular values are σ and its singular vectors
    /// the columns of H₁ and H₂, exactly (up to the rounding of forming τ).
    func analytic(_ sigma: [Double], rows m: Int, cols n: Int) -> (tau: Matrix, left: Matrix, right: Matrix) {
        let h1 = reflection(m, frequency: 0.7), h2 = reflection(n, frequency: 1.3)
        var d = Matrix(zeros: m, n)
        for (j, value) in sigma.enumerated() { d[j, j] = value }
        return (Matrix.multiply(h1 * d, h2, transposeB: true), h1, h2)
    }

    func effectiveRank(_ sigma: [Double]) -> Double {
        let positive = sigma.filter { $0 > 0 }, sum = positive.reduce(0, +)
        return exp(-positive.reduce(0) { $0 + $1 / sum * log($1 / sum) })
    }

    /// The sine of the largest principal angle between the spans of two orthonormal bases of the
    /// same dimension: the largest singular value of the residual B − A·(AᵀB) (from the cosines,
    /// √(1 − c²) could not resolve angles below ~1e-8).
    func largestSine(_ a: Matrix, _ b: Matrix) throws -> Double {
        XCTAssertEqual(a.cols, b.cols)
        let residual = b - a * Matrix.multiply(a, transposeA: true, b)
        return try Factorizations.singularValues(residual).first ?? 0
    }

    func testEigenvaluesAndTopVectorsOfAKnownSymmetricMatrix() throws {
        // A = H·diag(λ)·H: eigenvalues λ, eigenvectors the columns of H.
        let lambda = [1.0, 5, -2, 3.5, 4, 0.5]
        let h = reflection(6, frequency: 0.9)
        var d = Matrix(zeros: 6, 6)
        for (j, value) in lambda.enumerated() { d[j, j] = value }
        let a = h * d * h
        let (values, vectors) = try Factorizations.symmetricEigenvaluesAndTopVectors(a.values, n: 6, top: 2)
        for (got, want) in zip(values, lambda.sorted(by: >)) { XCTAssertEqual(got, want, accuracy: 1e-14) }
        XCTAssertEqual(vectors.cols, 2)
        for (column, source) in [(0, 1), (1, 4)] {  // λ = 5 is H's column 1, λ = 4 its column 4
            let dot = (0..<6).reduce(0) { $0 + vectors[$1, column] * h[$1, source] }
            XCTAssertEqual(abs(dot), 1, accuracy: 1e-14, "eigenvector \(column), up to its sign")
        }
        // Only the upper triangle is read.
        var upper = a
        for j in 0..<6 { for i in (j + 1)..<6 { upper[i, j] = .nan } }
        XCTAssertEqual(try Factorizations.symmetricEigenvaluesAndTopVectors(upper.values, n: 6, top: 0).values, values)
    }

    func testGramPathMatchesAnAnalyticSVD() throws {
        // σ_j = 1/j: no gap problem, condition 90; tall and wide.
        for (m, n) in [(120, 90), (90, 120)] {
            let sigma = (1...min(m, n)).map { 1 / Double($0) }
            let (tau, h1, h2) = analytic(sigma, rows: m, cols: n)
            let total = tau.values.reduce(0) { $0 + $1 * $1 }
            let fast = try XCTUnwrap(try FullTaskVectors.gramSubspaces(tau, k: 8, total: total), "\(m)×\(n): the guard accepts")
            XCTAssertEqual(fast.spectrum.k, 8)
            XCTAssertFalse(fast.spectrum.randomized)
            let captured = sigma.prefix(8).reduce(0) { $0 + $1 * $1 } / sigma.reduce(0) { $0 + $1 * $1 }
            XCTAssertTrue(isClose(fast.spectrum.capturedEnergy, captured, relative: 1e-13, absolute: 0))
            XCTAssertTrue(isClose(fast.spectrum.effectiveRank, effectiveRank(sigma), relative: 1e-12, absolute: 0),
                          "\(fast.spectrum.effectiveRank) vs \(effectiveRank(sigma))")
            XCTAssertEqual(fast.left.rows, m)
            XCTAssertEqual(fast.right.rows, n)
            XCTAssertLessThan(try largestSine(fast.left, h1.columns(0..<8)), 1e-12)
            XCTAssertLessThan(try largestSine(fast.right, h2.columns(0..<8)), 1e-12)
            // Orthonormal columns, each a singular vector up to its sign.
            let identity = Matrix.multiply(fast.left, transposeA: true, fast.left)
            for j in 0..<8 {
                for i in 0..<8 { XCTAssertEqual(identity[i, j], i == j ? 1 : 0, accuracy: 1e-13) }
                let dot = (0..<m).reduce(0) { $0 + fast.left[$1, j] * h1[$1, j] }
                XCTAssertEqual(abs(dot), 1, accuracy: 1e-12, "left singular vector \(j)")
            }
        }
    }

    func testGramPathAgreesWithTheSVDPath() throws {
        var rng = SeededRandom(seed: 11)
        for (m, n) in [(200, 150), (150, 200), (64, 64)] {
            let tau = Matrix(rows: m, cols: n, values: rng.gaussians(m * n))
            let gram = try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 0)
            let svd = try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 0, useGram: false)
            XCTAssertNotNil(try FullTaskVectors.gramSubspaces(tau, k: 8, total: tau.values.reduce(0) { $0 + $1 * $1 }))
            XCTAssertEqual(gram.spectrum.k, svd.spectrum.k)
            XCTAssertTrue(isClose(gram.spectrum.capturedEnergy, svd.spectrum.capturedEnergy, relative: 1e-12, absolute: 0))
            XCTAssertTrue(isClose(gram.spectrum.effectiveRank, svd.spectrum.effectiveRank, relative: 1e-12, absolute: 0))
            XCTAssertLessThan(try largestSine(gram.left, svd.left), 1e-12, "\(m)×\(n) left")
            XCTAssertLessThan(try largestSine(gram.right, svd.right), 1e-12, "\(m)×\(n) right")
        }
    }

    func testRotatingTauRotatesTheSubspacesAndKeepsTheSpectrum() throws {
        var rng = SeededRandom(seed: 5)
        let (m, n) = (100, 70)
        let sigma = (1...n).map { 2 / Double($0) + 0.01 }
        let tau = analytic(sigma, rows: m, cols: n).tau
        let q1 = try Factorizations.thinQR(Matrix(rows: m, cols: m, values: rng.gaussians(m * m))).q
        let q2 = try Factorizations.thinQR(Matrix(rows: n, cols: n, values: rng.gaussians(n * n))).q
        let rotated = Matrix.multiply(q1 * tau, q2, transposeB: true)
        let original = try FullTaskVectors.leadingSubspaces(tau, k: 6, seed: 0)
        let turned = try FullTaskVectors.leadingSubspaces(rotated, k: 6, seed: 0)
        XCTAssertNotNil(try FullTaskVectors.gramSubspaces(rotated, k: 6, total: rotated.values.reduce(0) { $0 + $1 * $1 }))
        XCTAssertTrue(isClose(turned.spectrum.effectiveRank, original.spectrum.effectiveRank, relative: 1e-12, absolute: 0))
        XCTAssertTrue(isClose(turned.spectrum.capturedEnergy, original.spectrum.capturedEnergy, relative: 1e-12, absolute: 0))
        XCTAssertLessThan(try largestSine(turned.left, q1 * original.left), 1e-12)
        XCTAssertLessThan(try largestSine(turned.right, q2 * original.right), 1e-12)
    }

    func testRankDeficientAndZeroTaskVectorsTakeTheSVDPath() throws {
        // Rank 3: the Gram's zero eigenvalues come out as ±ε·λ₁, whose square roots are far from 0.
        let sigma = [3.0, 2, 1] + [Double](repeating: 0, count: 77)
        let (tau, h1, _) = analytic(sigma, rows: 100, cols: 80)
        XCTAssertNil(try FullTaskVectors.gramSubspaces(tau, k: 8, total: tau.values.reduce(0) { $0 + $1 * $1 }))
        let result = try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 0)
        XCTAssertEqual(result.spectrum.k, 3, "capped at the numerical rank")
        XCTAssertEqual(result.spectrum.capturedEnergy, 1, accuracy: 1e-14)
        XCTAssertEqual(result.spectrum.effectiveRank, effectiveRank([3, 2, 1]), accuracy: 1e-12)
        XCTAssertLessThan(try largestSine(result.left, h1.columns(0..<3)), 1e-12)
        let zero = Matrix(zeros: 10, 6)
        XCTAssertNil(try FullTaskVectors.gramSubspaces(zero, k: 2, total: 0))
        let none = try FullTaskVectors.leadingSubspaces(zero, k: 2, seed: 0)
        XCTAssertEqual(none.spectrum.k, 0)
        XCTAssertTrue(none.spectrum.effectiveRank.isNaN)
    }

    func testTheGuardRefusesSmallSingularValuesAndAMissingGap() throws {
        // Full rank but σ_min = 1e-9·σ_max: √λ of the smallest would be off by ~ε/1e-9.
        let steep = (0..<60).map { pow(10, -9 * Double($0) / 59) }
        let (tau, _, _) = analytic(steep, rows: 60, cols: 60)
        XCTAssertNil(try FullTaskVectors.gramSubspaces(tau, k: 4, total: tau.values.reduce(0) { $0 + $1 * $1 }))
        let exact = try FullTaskVectors.leadingSubspaces(tau, k: 4, seed: 0)
        XCTAssertTrue(isClose(exact.spectrum.effectiveRank, effectiveRank(steep), relative: 1e-9, absolute: 0))
        // σ_4 and σ_5 equal to 1e-12: the top-4 subspace is not determined to 1e-9 from the Gram.
        var flat = (1...40).map { 1 / Double($0) }
        flat[4] = flat[3] * (1 - 1e-12)
        let (gapless, _, _) = analytic(flat, rows: 50, cols: 40)
        let total = gapless.values.reduce(0) { $0 + $1 * $1 }
        XCTAssertNil(try FullTaskVectors.gramSubspaces(gapless, k: 4, total: total))
        XCTAssertNotNil(try FullTaskVectors.gramSubspaces(gapless, k: 3, total: total), "k = 3 has its gap")
    }

    func testTransposedTaskVectorsGiveTheSameBlockResult() throws {
        // A row-major weight read as stored is τᵀ: left and right subspaces trade places.
        var rng = SeededRandom(seed: 21)
        let deltas = (0..<3).map { _ in Matrix(rows: 40, cols: 25, values: rng.gaussians(40 * 25)) }
        let direct = try FullTaskVectors.analyze(deltas, subspaceRank: 4)
        let flipped = try FullTaskVectors.analyze(deltas.map(\.transposed), subspaceRank: 4, transposed: true)
        XCTAssertEqual(Set(direct.distances.keys), Set(flipped.distances.keys))
        for (metric, matrix) in direct.distances {
            for i in 0..<3 {
                for j in 0..<3 {
                    XCTAssertTrue(isClose(flipped.distances[metric]![i, j], matrix[i, j], relative: 1e-12, absolute: 1e-14),
                                  "\(metric) [\(i),\(j)]: \(flipped.distances[metric]![i, j]) vs \(matrix[i, j])")
                }
            }
        }
        XCTAssertNotEqual(direct.distances[.grassmann]![0, 1], direct.distances[.grassmannA]![0, 1], accuracy: 1e-6,
                          "the two sides differ here, so a missing swap would show")
        for (a, b) in zip(direct.spectra, flipped.spectra) {
            XCTAssertEqual(a.k, b.k)
            XCTAssertEqual(a.effectiveRank, b.effectiveRank, accuracy: 1e-12)
            XCTAssertEqual(a.capturedEnergy, b.capturedEnergy, accuracy: 1e-14)
        }
        XCTAssertEqual(direct.norms, flipped.norms)
    }
}
