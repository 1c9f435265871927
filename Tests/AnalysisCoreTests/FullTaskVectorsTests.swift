import AnalysisCore
import TVGeoTestSupport
import XCTest

final class FullTaskVectorsTests: XCTestCase {
    /// A d_out × d_in matrix of rank `rank` with singular values 10, 9, … plus small noise.
    func lowRankPlusNoise(_ rng: inout SeededRandom, rows: Int, cols: Int, rank: Int, noise: Double) -> Matrix {
        let left = try! Factorizations.thinQR(Matrix(rows: rows, cols: rank, values: rng.gaussians(rows * rank))).q
        let right = try! Factorizations.thinQR(Matrix(rows: cols, cols: rank, values: rng.gaussians(cols * rank))).q
        var scaled = left
        for j in 0..<rank { for i in 0..<rows { scaled[i, j] *= Double(10 - j) } }
        var matrix = Matrix.multiply(scaled, right, transposeB: true)
        for index in matrix.values.indices { matrix.values[index] += noise * rng.gaussian() }
        return matrix
    }

    func testRandomizedRangeFinderMatchesTheExactSubspaces() throws {
        var rng = SeededRandom(seed: 3)
        let tau = lowRankPlusNoise(&rng, rows: 300, cols: 200, rank: 8, noise: 1e-3)
        let exact = try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 1)
        let randomized = try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 1, exactLimit: 0)
        XCTAssertFalse(exact.spectrum.randomized)
        XCTAssertTrue(randomized.spectrum.randomized)
        XCTAssertTrue(randomized.spectrum.effectiveRank.isNaN, "the randomized path does not see the whole spectrum")
        XCTAssertEqual(randomized.spectrum.capturedEnergy, exact.spectrum.capturedEnergy, accuracy: 1e-9)
        // The sines of the angles between the two 8-dimensional subspaces: ‖(I − P)Y‖ tiny.
        for (a, b) in [(exact.left, randomized.left), (exact.right, randomized.right)] {
            let cross = Matrix.multiply(a, transposeA: true, b)
            let cosines = try Factorizations.singularValues(cross)
            XCTAssertGreaterThan(cosines.min()!, 1 - 1e-12)
        }
    }

    func testSpectrumOfAKnownMatrix() throws {
        // diag(3, 4) padded: σ = (4, 3); energy of k = 1 is 16/25; effective rank exp(H(4/7, 3/7)).
        var tau = Matrix(zeros: 5, 4)
        tau[0, 0] = 3
        tau[1, 1] = 4
        let result = try FullTaskVectors.leadingSubspaces(tau, k: 1, seed: 0)
        XCTAssertEqual(result.spectrum.k, 1)
        XCTAssertEqual(result.spectrum.capturedEnergy, 16.0 / 25.0, accuracy: 1e-15)
        let p = [4.0 / 7, 3.0 / 7]
        XCTAssertEqual(result.spectrum.effectiveRank, exp(-p.reduce(0) { $0 + $1 * log($1) }), accuracy: 1e-14)
        // k is capped at the numerical rank.
        XCTAssertEqual(try FullTaskVectors.leadingSubspaces(tau, k: 8, seed: 0).spectrum.k, 2)
    }

    /// The randomized range finder against an analytic reference, not tvgeo's exact path:
    /// τ = H₁·D·H₂ with Householder reflections H = I − 2wwᵀ/‖w‖² (fixed w) and D diagonal with
    /// σ_j = 1/j, so the top-k singular vectors are exactly the first k columns of H₁ and H₂.
    /// The documented accuracy holds: sin θ_max within 5·(σ_{k+11}/σ_k)^7 (measured here, on this
    /// slowly decaying spectrum: 0.0103 left and 0.0051 right against (8/19)^7 = 0.0023).
    func testRandomizedRangeFinderMatchesAnAnalyticReference() throws {
        let m = 300, n = 250, k = 8
        func reflector(_ size: Int, _ frequency: Double) -> [Double] { (0..<size).map { sin(frequency * Double($0 + 1)) + 0.1 } }
        let w1 = reflector(m, 0.7), w2 = reflector(n, 1.3)
        func reflect(_ x: inout [Double], _ w: [Double]) {
            let scale = 2 * zip(w, x).reduce(0) { $0 + $1.0 * $1.1 } / w.reduce(0) { $0 + $1 * $1 }
            for i in x.indices { x[i] -= scale * w[i] }
        }
        // Row r of D·H₂ is σ_r times row r of H₂ (H₂ is symmetric: its row r is H₂·e_r).
        var tau = Matrix(zeros: m, n)
        var rows: [[Double]] = []
        for r in 0..<min(m, n) {
            var row = [Double](repeating: 0, count: n)
            row[r] = 1
            reflect(&row, w2)
            rows.append(row.map { $0 / Double(r + 1) })
        }
        for j in 0..<n {
            var column = [Double](repeating: 0, count: m)
            for r in rows.indices { column[r] = rows[r][j] }
            reflect(&column, w1)
            for i in 0..<m { tau[i, j] = column[i] }
        }
        let result = try FullTaskVectors.leadingSubspaces(tau, k: k, seed: 7, exactLimit: 0)
        XCTAssertTrue(result.spectrum.randomized)
        XCTAssertEqual(result.spectrum.k, k)
        let bound = pow(Double(k) / Double(k + 11), 7)
        for (basis, w) in [(result.left, w1), (result.right, w2)] {
            // H·basis: the reference directions are the first k coordinates there; the rest of
            // each column is the residual, whose largest singular value is sin θ_max.
            var residual = Matrix(zeros: basis.rows - k, k)
            for c in 0..<k {
                var column = (0..<basis.rows).map { basis[$0, c] }
                reflect(&column, w)
                for i in k..<basis.rows { residual[i - k, c] = column[i] }
            }
            let sine = try XCTUnwrap(try Factorizations.singularValues(residual).first)
            XCTAssertLessThan(sine, 5 * bound, "sin of the largest angle to the exact subspace")
            XCTAssertGreaterThan(sine, 0, "the randomized path is not exact here: the test can tell")
        }
    }

    func testDistancesOfKnownTaskVectors() throws {
        var first = Matrix(zeros: 4, 3), second = Matrix(zeros: 4, 3), zero = Matrix(zeros: 4, 3)
        first[0, 0] = 1
        second[1, 0] = 2
        zero[0, 0] = 0
        let result = try FullTaskVectors.analyze([first, second, zero], subspaceRank: 1)
        XCTAssertEqual(result.distances[.l2]![0, 1], 5.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(result.distances[.cosine]![0, 1], 1, accuracy: 1e-15)
        XCTAssertEqual(result.distances[.grassmann]![0, 1], Double.pi / 2, accuracy: 1e-12, "e₀ ⟂ e₁")
        XCTAssertEqual(result.distances[.grassmannA]![0, 1], 0, accuracy: 1e-12, "both act on the first input")
        XCTAssertNil(result.distances[.grassmannB], "no B for full task vectors: the kernel computes no grassmann_b")
        XCTAssertTrue(result.distances[.cosine]![0, 2].isNaN, "a zero task vector")
        XCTAssertEqual(result.distances[.l2]![0, 2], 1, accuracy: 1e-15)
    }
}
