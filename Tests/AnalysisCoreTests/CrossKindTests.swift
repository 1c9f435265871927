import AnalysisCore
import Foundation
import TVGeoTestSupport
import XCTest

/// Cross-kind geometry, intruder dimensions and the Mantel test on small cases: analytic values
/// where they exist, dense references (ΔW formed, full SVDs) for random factors.
final class CrossKindTests: XCTestCase {
    func randomMatrix(_ rng: inout SeededRandom, _ rows: Int, _ cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, values: rng.gaussians(rows * cols))
    }

    func randomUpdate(_ rng: inout SeededRandom, rows: Int, cols: Int, rank: Int, scaling: Double) -> LoRAFactors {
        LoRAFactors(b: randomMatrix(&rng, rows, rank), aTransposed: randomMatrix(&rng, cols, rank), scaling: scaling)
    }

    func testLowRankInnerProductAndNormMatchTheDenseOnes() throws {
        for seed in 0..<8 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let rows = 7 + Int(seed), cols = 5 + 2 * Int(seed), rank = 1 + Int(seed % 4)
            let update = randomUpdate(&rng, rows: rows, cols: cols, rank: rank, scaling: seed % 2 == 0 ? 2 : -0.5)
            let tau = randomMatrix(&rng, rows, cols)
            let dense = update.denseDelta
            XCTAssertTrue(isClose(CrossKindGeometry.innerProduct(update, tau), Matrix.frobeniusInner(dense, tau), relative: 1e-12))
            XCTAssertTrue(isClose(CrossKindGeometry.frobeniusNorm(update), dense.frobeniusNorm, relative: 1e-12))
            let result = try CrossKindGeometry.analyze(updates: [update], taskVectors: [tau], pairs: [(0, 0)])
            let expected = 1 - Matrix.frobeniusInner(dense, tau) / (dense.frobeniusNorm * tau.frobeniusNorm)
            XCTAssertTrue(isClose(result.cosine[0][0], expected, relative: 1e-12), "seed \(seed)")
        }
    }

    func testCosineDistanceOfKnownPairs() throws {
        var rng = SeededRandom(seed: 11)
        let update = randomUpdate(&rng, rows: 6, cols: 4, rank: 2, scaling: 2)
        let dense = update.denseDelta
        // The same update (distance 0), its negation (2), and a matrix orthogonal to it (1):
        // e₁e₁ᵀ projected off ΔW.
        var orthogonal = Matrix(zeros: 6, 4)
        orthogonal[0, 0] = 1
        let along = Matrix.frobeniusInner(orthogonal, dense) / Matrix.frobeniusInner(dense, dense)
        orthogonal = orthogonal - dense.scaled(by: along)
        let result = try CrossKindGeometry.analyze(updates: [update], taskVectors: [dense.scaled(by: 3), dense.scaled(by: -1), orthogonal,
                                                                                    Matrix(zeros: 6, 4)], pairs: [])
        XCTAssertEqual(result.cosine[0][0], 0, accuracy: 1e-14)
        XCTAssertEqual(result.cosine[0][1], 2, accuracy: 1e-14)
        XCTAssertEqual(result.cosine[0][2], 1, accuracy: 1e-14)
        XCTAssertTrue(result.cosine[0][3].isNaN, "a zero task vector has no cosine")
    }

    func testGrassmannDistanceMatchesTheDenseSubspaces() throws {
        for seed in 20..<26 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let update = randomUpdate(&rng, rows: 12, cols: 9, rank: 3, scaling: 1.5)
            // τ near ΔW, so that the angles are small (the sine branch) for half the seeds.
            let noise = seed % 2 == 0 ? 1e-6 : 1.0
            let tau = update.denseDelta - randomMatrix(&rng, 12, 9).scaled(by: noise)
            let leading = try Factorizations.leftSingularVectors(tau).u.columns(0..<3)
            let expected = DenseReference.grassmann(update.denseDelta, leading)
            let value = try CrossKindGeometry.grassmannDistance(update, tau, seed: 0)
            XCTAssertTrue(isClose(value, expected, relative: 1e-9, absolute: 1e-12), "seed \(seed): \(value) vs \(expected)")
        }
    }

    func testGrassmannDistanceOfKnownSubspaces() throws {
        // Im(ΔW) = span(e₀, e₁); τ's top-2 span is span(e₂, e₃): every angle is π/2.
        var b = Matrix(zeros: 5, 2), a = Matrix(zeros: 4, 2)
        b[0, 0] = 1; b[1, 1] = 2; a[0, 0] = 1; a[1, 1] = 1
        var tau = Matrix(zeros: 5, 4)
        tau[2, 0] = 3; tau[3, 1] = 2; tau[0, 2] = 0.1
        let update = LoRAFactors(b: b, aTransposed: a, scaling: 1)
        XCTAssertEqual(try CrossKindGeometry.grassmannDistance(update, tau, seed: 0), 2.0.squareRoot() * .pi / 2, accuracy: 1e-12)
        // The same span: 0.
        XCTAssertEqual(try CrossKindGeometry.grassmannDistance(update, update.denseDelta.scaled(by: -4), seed: 0), 0, accuracy: 1e-12)
        // A zero update has no image: NaN.
        let zero = LoRAFactors(b: Matrix(zeros: 5, 2), aTransposed: a, scaling: 1)
        XCTAssertTrue(try CrossKindGeometry.grassmannDistance(zero, tau, seed: 0).isNaN)
    }

    func testRankDeficientUpdateUsesItsNumericalRank() throws {
        var rng = SeededRandom(seed: 5)
        // B's two columns are equal: ΔW has rank 1, compared with τ's top-2 (rank) subspace.
        let column = rng.gaussians(8)
        let b = Matrix(rows: 8, cols: 2, values: column + column)
        let update = LoRAFactors(b: b, aTransposed: randomMatrix(&rng, 6, 2), scaling: 1)
        let tau = randomMatrix(&rng, 8, 6)
        let leading = try Factorizations.leftSingularVectors(tau).u.columns(0..<2)
        let expected = DenseReference.grassmann(update.denseDelta, leading)
        XCTAssertEqual(DenseReference.orth(update.denseDelta).cols, 1)
        XCTAssertTrue(isClose(try CrossKindGeometry.grassmannDistance(update, tau, seed: 0), expected, relative: 1e-9))
    }

    func testIntrudersOfKnownUpdates() throws {
        // W₀ = diag(6, 5, …, 1): its left singular vectors are the axes.
        var base = Matrix(zeros: 6, 6)
        for i in 0..<6 { base[i, i] = Double(6 - i) }
        let vectors = try IntruderDimensions.BaseVectors(base: base)
        // A large update along y = (1, …, 1)/√6: y becomes the top singular vector, |cos| with
        // every axis is 1/√6 ≈ 0.41 < 0.5, so it is an intruder; along an axis it is not.
        let y = [Double](repeating: 1 / 6.0.squareRoot(), count: 6)
        let along = LoRAFactors(b: Matrix(rows: 6, cols: 1, values: y), aTransposed: Matrix(rows: 6, cols: 1, values: y), scaling: 100)
        let adapted = IntruderDimensions.adapted(base, by: along)
        XCTAssertEqual(try IntruderDimensions.count(in: adapted, base: vectors, k: 1, epsilon: 0.5), 1)
        XCTAssertEqual(try IntruderDimensions.count(in: adapted, base: vectors, k: 1, epsilon: 0.4), 0, "1/√6 is not below 0.4")
        var axis = [Double](repeating: 0, count: 6)
        axis[3] = 1
        let onAxis = LoRAFactors(b: Matrix(rows: 6, cols: 1, values: axis), aTransposed: Matrix(rows: 6, cols: 1, values: axis),
                                 scaling: 100)
        XCTAssertEqual(try IntruderDimensions.count(in: IntruderDimensions.adapted(base, by: onAxis), base: vectors, k: 6, epsilon: 0.5), 0)
        // No update: no intruder, whatever k.
        XCTAssertEqual(try IntruderDimensions.count(in: base, base: vectors, k: 10, epsilon: 0.5), 0)
    }

    func testIntruderCountIsAtMostKAndMatchesADenseCount() throws {
        for seed in 30..<36 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let base = randomMatrix(&rng, 10, 8)
            let update = randomUpdate(&rng, rows: 10, cols: 8, rank: 2, scaling: 3)
            let weight = IntruderDimensions.adapted(base, by: update)
            XCTAssertEqual(weight, Matrix(rows: 10, cols: 8, values: zip(base.values, update.denseDelta.values).map { $0 + $1 }))
            let count = try IntruderDimensions.count(in: weight, base: try IntruderDimensions.BaseVectors(base: base), k: 4, epsilon: 0.5)
            // Dense count from full SVDs, written out here.
            let x = try Factorizations.svd(base).u, y = try Factorizations.svd(weight).u
            var expected = 0
            for j in 0..<4 {
                let largest = (0..<x.cols).map { i in abs((0..<10).reduce(0) { $0 + y[$1, j] * x[$1, i] }) }.max()!
                if largest < 0.5 { expected += 1 }
            }
            XCTAssertEqual(count, expected, "seed \(seed)")
            XCTAssertLessThanOrEqual(count, 4)
        }
    }

    /// Every permutation of 0..<n, by recursion (independent of the test's Heap enumeration).
    func allOrders(_ n: Int) -> [[Int]] {
        guard n > 0 else { return [[]] }
        return allOrders(n - 1).flatMap { order in (0...order.count).map { position in
            var extended = order
            extended.insert(n - 1, at: position)
            return extended
        } }
    }

    func testMantelCountsEveryPermutationForSmallN() throws {
        var rng = SeededRandom(seed: 41)
        let n = 5
        func symmetric() -> [[Double]] {
            var m = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for i in 0..<n { for j in (i + 1)..<n { m[i][j] = rng.gaussian(); m[j][i] = m[i][j] } }
            return m
        }
        let first = symmetric()
        var second = symmetric()
        for i in 0..<n { for j in 0..<n where i != j { second[i][j] += first[i][j] } }
        let result = try XCTUnwrap(Mantel.test(first, second))
        func triangle(_ m: [[Double]], _ order: [Int]) -> [Double] {
            (0..<n).flatMap { i in ((i + 1)..<n).map { j in m[order[i]][order[j]] } }
        }
        let observed = try XCTUnwrap(Correlation.compute(.spearman, triangle(first, Array(0..<n)), triangle(second, Array(0..<n)))).value
        let orders = allOrders(n)
        XCTAssertEqual(orders.count, 120)
        let atLeast = orders.filter { order in
            Correlation.compute(.spearman, triangle(first, Array(0..<n)), triangle(second, order))!.value >= observed - 1e-12
        }.count
        XCTAssertEqual(result.spearman, observed, accuracy: 1e-15)
        XCTAssertEqual(result.p, Double(atLeast) / 120, accuracy: 1e-15)
        XCTAssertEqual(result.permutations, 120)
        XCTAssertTrue(result.exact)
        XCTAssertGreaterThan(result.spearman, 0.3, "the second matrix is built on the first")
    }

    func testMantelSamplesPermutationsForLargeN() throws {
        var rng = SeededRandom(seed: 42)
        let n = 8  // 8! = 40 320 > 9 999
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in (i + 1)..<n { matrix[i][j] = rng.gaussian(); matrix[j][i] = matrix[i][j] } }
        let result = try XCTUnwrap(Mantel.test(matrix, matrix))
        XCTAssertEqual(result.spearman, 1, accuracy: 1e-15)
        XCTAssertFalse(result.exact)
        XCTAssertEqual(result.permutations, 10_000)
        // Only permutations that keep every rank can reach ρ = 1: the identity, maybe a few more.
        XCTAssertGreaterThanOrEqual(result.p, 1e-4)
        XCTAssertLessThan(result.p, 1e-3)
        XCTAssertEqual(Mantel.test(matrix, matrix), result, "a fixed seed gives the same p-value")
        // Constant triangles have no ρ.
        let constant = [[Double]](repeating: [Double](repeating: 1, count: n), count: n)
        XCTAssertNil(Mantel.test(matrix, constant))
    }
}
