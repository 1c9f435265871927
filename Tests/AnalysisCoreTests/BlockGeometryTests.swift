import AnalysisCore
import TVGeoTestSupport
import XCTest

final class BlockGeometryTests: XCTestCase {
    // MARK: helpers

    func factors(b: Matrix, a: Matrix, scaling: Double = 1) -> LoRAFactors {
        LoRAFactors(b: b, aTransposed: a.transposed, scaling: scaling)
    }

    func randomFactors(_ rng: inout SeededRandom, out: Int = 40, in inFeatures: Int = 30, rank: Int = 4, scaling: Double = 2) -> LoRAFactors {
        LoRAFactors(b: Matrix(rows: out, cols: rank, values: rng.gaussians(out * rank)),
                    aTransposed: Matrix(rows: inFeatures, cols: rank, values: rng.gaussians(inFeatures * rank)),
                    scaling: scaling)
    }

    /// Adapters sharing directions so that distances vary (not all near-orthogonal).
    func relatedAdapters(seed: UInt64, count: Int, ranks: [Int]? = nil) -> [LoRAFactors] {
        var rng = SeededRandom(seed: seed)
        let out = 40, inFeatures = 30
        let sharedB = Matrix(rows: out, cols: 3, values: rng.gaussians(out * 3))
        let sharedA = Matrix(rows: inFeatures, cols: 3, values: rng.gaussians(inFeatures * 3))
        return (0..<count).map { index in
            let rank = ranks?[index] ?? 4
            var b = Matrix(rows: out, cols: rank, values: rng.gaussians(out * rank).map { $0 * 0.5 })
            var a = Matrix(rows: inFeatures, cols: rank, values: rng.gaussians(inFeatures * rank).map { $0 * 0.5 })
            for j in 0..<min(rank, 3) {
                for i in 0..<out { b[i, j] += sharedB[i, j] }
                for i in 0..<inFeatures { a[i, j] += sharedA[i, j] }
            }
            return LoRAFactors(b: b, aTransposed: a, scaling: Double(index + 1) * 0.5)
        }
    }

    func assertMatricesClose(_ x: PairMatrix, _ y: PairMatrix, relative: Double = 1e-9, absolute: Double = 1e-12,
                             _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(x.count, y.count, message, file: file, line: line)
        for i in 0..<x.count {
            for j in 0..<x.count where !isClose(x[i, j], y[i, j], relative: relative, absolute: absolute) {
                XCTFail("\(message) [\(i),\(j)]: \(x[i, j]) vs \(y[i, j])", file: file, line: line)
                return
            }
        }
    }

    // MARK: analytic cases

    func testRankOneSubspacesAtKnownAngles() throws {
        for theta in [1e-12, 1e-9, 1e-5, 0.3, Double.pi / 4, 1.2, Double.pi / 2] {
            let b1 = Matrix(rows: 3, cols: 1, values: [1, 0, 0])
            let b2 = Matrix(rows: 3, cols: 1, values: [cos(theta), sin(theta), 0])
            let a = Matrix(rows: 1, cols: 2, values: [0.5, -2])
            let result = try BlockGeometry.analyze([factors(b: b1, a: a), factors(b: b2, a: a)])
            for metric in [DistanceMetric.grassmann, .grassmannB] {
                XCTAssertEqual(result.distances[metric]![0, 1], theta, accuracy: theta * 1e-9 + 1e-15, "\(metric) at θ = \(theta)")
            }
            XCTAssertEqual(result.distances[.grassmannA]![0, 1], 0, accuracy: 1e-15)
            // Only small distances take the sine branch: always the shared A (distance 0), and
            // Im(ΔW) = Im(B) (one computation for both) when θ² is below the threshold.
            XCTAssertEqual(result.sineBranches, 1 + (theta * theta < BlockGeometry.sineThreshold ? 1 : 0), "θ = \(theta)")
            // cosine distance of rank-one matrices sharing A: 1 − cos θ; l2 = ‖a‖·‖b1 − b2‖ = ‖a‖·2 sin(θ/2).
            XCTAssertEqual(result.distances[.cosine]![0, 1], 2 * pow(sin(theta / 2), 2), accuracy: 1e-15 + 1e-9 * (1 - cos(theta)))
            let normA = (0.25 + 4.0).squareRoot()
            XCTAssertEqual(result.distances[.l2]![0, 1], normA * 2 * sin(theta / 2), accuracy: 1e-9 * normA * theta + 1e-15)
        }
    }

    func testTwoDimensionalSubspacesWithOneSharedDirection() throws {
        let alpha = 0.7
        let b1 = Matrix(rows: 4, cols: 2, values: [1, 0, 0, 0, 0, 1, 0, 0])
        let b2 = Matrix(rows: 4, cols: 2, values: [1, 0, 0, 0, 0, cos(alpha), sin(alpha), 0])
        let a = Matrix(rows: 2, cols: 3, rowMajor: [1, 2, 0, 0, 1, 3])
        let result = try BlockGeometry.analyze([factors(b: b1, a: a), factors(b: b2, a: a)])
        XCTAssertEqual(result.distances[.grassmann]![0, 1], alpha, accuracy: 1e-13)
        XCTAssertEqual(result.distances[.grassmannB]![0, 1], alpha, accuracy: 1e-13)
    }

    /// Principal angles near 90° make the Gram-matrix cosines inaccurate (σ = √λ): the pair kernel
    /// must switch to the SVD there, and agree with the analytic angles on both sides of its
    /// switch (σ = 1e-4) and across the sine-branch threshold.
    func testPrincipalAnglesNearNinetyDegreesAndAcrossTheSwitches() throws {
        var rng = SeededRandom(seed: 17)
        for pair in [(Double.pi / 2 - 1e-7, 0.4), (Double.pi / 2 - 1e-5, 0.4), (Double.pi / 2 - 1e-3, 1e-3),
                     (Double.pi / 2 - 1e-4, Double.pi / 2), (0.05, 0.02), (1e-6, 1e-8)] {
            // span(e₀…e₃) against span(cos θₖ·eₖ + sin θₖ·e₄₊ₖ), each basis turned within its own
            // span by a random rotation so that the cross product is not diagonal.
            let angles = [pair.0, pair.1, 0.7, 1.0]
            var b1 = Matrix(zeros: 8, 4), b2 = Matrix(zeros: 8, 4)
            for k in 0..<4 {
                b1[k, k] = 1
                b2[k, k] = cos(angles[k])
                b2[4 + k, k] = sin(angles[k])
            }
            let turn1 = try Factorizations.thinQR(Matrix(rows: 4, cols: 4, values: rng.gaussians(16))).q
            let turn2 = try Factorizations.thinQR(Matrix(rows: 4, cols: 4, values: rng.gaussians(16))).q
            let a = Matrix(rows: 4, cols: 5, values: rng.gaussians(20))
            let result = try BlockGeometry.analyze([factors(b: b1 * turn1, a: turn1.transposed * a),
                                                    factors(b: b2 * turn2, a: turn2.transposed * a)])
            let expected = angles.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for metric in [DistanceMetric.grassmann, .grassmannB] {
                XCTAssertEqual(result.distances[metric]![0, 1], expected, accuracy: expected * 1e-10, "\(metric) at \(angles)")
            }
        }
    }

    func testOrthogonalSubspacesAndOppositeUpdates() throws {
        let b1 = Matrix(rows: 4, cols: 2, values: [1, 0, 0, 0, 0, 1, 0, 0])
        let b2 = Matrix(rows: 4, cols: 2, values: [0, 0, 1, 0, 0, 0, 0, 1])
        let a = Matrix(rows: 2, cols: 2, rowMajor: [1, 0, 0, 1])
        let orthogonal = try BlockGeometry.analyze([factors(b: b1, a: a), factors(b: b2, a: a)])
        XCTAssertEqual(orthogonal.distances[.grassmann]![0, 1], 2.0.squareRoot() * Double.pi / 2, accuracy: 1e-13)
        XCTAssertEqual(orthogonal.distances[.cosine]![0, 1], 1, accuracy: 1e-15)
        XCTAssertEqual(orthogonal.distances[.l2]![0, 1], 2, accuracy: 1e-14)  // ‖I₂‖² + ‖I₂‖² = 4

        let opposite = try BlockGeometry.analyze([factors(b: b1, a: a), factors(b: b1, a: a, scaling: -3)])
        XCTAssertEqual(opposite.distances[.cosine]![0, 1], 2, accuracy: 1e-15)
        XCTAssertEqual(opposite.distances[.l2]![0, 1], 4 * 2.0.squareRoot(), accuracy: 1e-13)
        XCTAssertEqual(opposite.distances[.grassmann]![0, 1], 0, accuracy: 1e-15)
    }

    func testNearlyEqualAdaptersKeepRelativeAccuracy() throws {
        var rng = SeededRandom(seed: 7)
        let base = randomFactors(&rng)
        let direction = randomFactors(&rng, scaling: 1)
        for eta in [1e-4, 1e-7, 1e-9] {
            // ΔW' = s·B·A + η·E·F: stack the perturbation as extra rank (exact in the factors).
            let b = Matrix.hstack([base.b.scaled(by: base.scaling), direction.b.scaled(by: eta)])
            let aT = Matrix.hstack([base.aTransposed, direction.aTransposed])
            let perturbed = LoRAFactors(b: b, aTransposed: aT, scaling: 1)
            let result = try BlockGeometry.analyze([base, perturbed])
            let expected = direction.denseDelta.frobeniusNorm * eta
            // The best any method can do from rounded factors is an absolute error of a few ε·‖ΔW‖
            // (the dense path is no better); ‖a‖² + ‖b‖² − 2⟨a,b⟩ would be off by ε·‖ΔW‖², which
            // at η = 1e-9 is as large as the distance itself.
            let floor = 32 * Double.ulpOfOne * base.denseDelta.frobeniusNorm
            XCTAssertEqual(result.distances[.l2]![0, 1], expected, accuracy: expected * 1e-9 + floor, "η = \(eta)")
            XCTAssertLessThan(floor, expected * 1e-3, "the test must be able to tell the two methods apart")
            XCTAssertEqual(result.nearPairs, 1)
        }
    }

    func testZeroBMakesCosineAndGrassmannUndefined() throws {
        var rng = SeededRandom(seed: 11)
        let trained = randomFactors(&rng)
        var untrained = randomFactors(&rng)
        untrained.b = Matrix(zeros: untrained.b.rows, untrained.b.cols)
        let result = try BlockGeometry.analyze([trained, untrained])
        XCTAssertTrue(result.distances[.cosine]![0, 1].isNaN)
        XCTAssertTrue(result.distances[.grassmann]![0, 1].isNaN)
        XCTAssertTrue(result.distances[.grassmannB]![1, 0].isNaN)
        XCTAssertTrue(result.distances[.cosine]![1, 1].isNaN, "undefined on its own diagonal too")
        XCTAssertFalse(result.distances[.grassmannA]![0, 1].isNaN, "A is not zero")
        XCTAssertEqual(result.distances[.l2]![0, 1], trained.denseDelta.frobeniusNorm, accuracy: 1e-12)
        XCTAssertEqual(result.subspaceRanks[.delta], [4, 0])
        XCTAssertEqual(result.distances[.cosine]![0, 0], 0)
    }

    // MARK: properties on random factors

    func testMatchesDenseComputation() throws {
        for (seed, ranks) in [(1 as UInt64, [4, 4, 4, 4]), (2, [2, 4, 6, 3]), (3, [1, 8, 4, 4])] {
            let adapters = relatedAdapters(seed: seed, count: ranks.count, ranks: ranks)
            let result = try BlockGeometry.analyze(adapters)
            for metric in DistanceMetric.allCases {
                var dense = PairMatrix(count: adapters.count)
                for i in adapters.indices {
                    for j in adapters.indices { dense[i, j] = i == j ? 0 : DenseReference.distance(metric, adapters[i], adapters[j]) }
                }
                assertMatricesClose(result.distances[metric]!, dense, relative: 1e-9, absolute: 1e-12, "\(metric) seed \(seed)")
            }
        }
    }

    /// Ranks above the pair kernel's eigensolver limit take LAPACK's SVD for the cosines, and a
    /// nearly equal pair at such ranks the residual-triangle path: both against the dense result.
    func testLargeRanksMatchDenseComputation() throws {
        var rng = SeededRandom(seed: 41)
        let first = randomFactors(&rng, out: 90, in: 80, rank: 40)
        var close = first
        close.b.values = close.b.values.map { $0 * (1 + 1e-4 * rng.gaussian()) }
        let adapters = [first, randomFactors(&rng, out: 90, in: 80, rank: 36), close, randomFactors(&rng, out: 90, in: 80, rank: 8)]
        let result = try BlockGeometry.analyze(adapters)
        XCTAssertGreaterThan(result.nearPairs, 0)
        for metric in DistanceMetric.allCases {
            var dense = PairMatrix(count: adapters.count)
            for i in adapters.indices {
                for j in adapters.indices { dense[i, j] = i == j ? 0 : DenseReference.distance(metric, adapters[i], adapters[j]) }
            }
            assertMatricesClose(result.distances[metric]!, dense, relative: 1e-9, absolute: 1e-12, "\(metric) at large ranks")
        }
    }

    func testSymmetricWithZeroDiagonal() throws {
        let result = try BlockGeometry.analyze(relatedAdapters(seed: 5, count: 6, ranks: [4, 2, 4, 8, 4, 1]))
        for metric in DistanceMetric.allCases {
            let matrix = result.distances[metric]!
            let ranks = [4, 2, 4, 8, 4, 1]
            for i in 0..<6 {
                XCTAssertEqual(matrix[i, i], 0, "\(metric) diagonal")
                for j in 0..<6 {
                    // Comb's metrics are declared asymmetric (row = host) and undefined across ranks.
                    if metric.isCombMetric && ranks[i] != ranks[j] {
                        XCTAssertTrue(matrix[i, j].isNaN, "\(metric) across ranks")
                        continue
                    }
                    if metric.descriptor.isSymmetric { XCTAssertEqual(matrix[i, j], matrix[j, i], "\(metric) symmetry") }
                    XCTAssertGreaterThanOrEqual(matrix[i, j], 0)
                }
            }
        }
    }

    func testTriangleInequalityForL2AndGrassmannAtEqualRanks() throws {
        let result = try BlockGeometry.analyze(relatedAdapters(seed: 9, count: 6))
        for metric in [DistanceMetric.l2, .grassmann, .grassmannB, .grassmannA] {
            let d = result.distances[metric]!
            for i in 0..<6 {
                for j in 0..<6 {
                    for k in 0..<6 {
                        XCTAssertLessThanOrEqual(d[i, k], d[i, j] + d[j, k] + 1e-12, "\(metric) \(i),\(j),\(k)")
                    }
                }
            }
        }
    }

    func testInvariantUnderRescalingBAndA() throws {
        let adapters = relatedAdapters(seed: 13, count: 4)
        let rescaled = adapters.enumerated().map { index, factors in
            let c = [3.0, 0.01, -2.5, 1e3][index]
            return LoRAFactors(b: factors.b.scaled(by: c), aTransposed: factors.aTransposed.scaled(by: 1 / c), scaling: factors.scaling)
        }
        let original = try BlockGeometry.analyze(adapters)
        let after = try BlockGeometry.analyze(rescaled)
        // Comb averages the factors, so a per-adapter reparametrisation changes it (tested below).
        for metric in DistanceMetric.allCases where !metric.isCombMetric {
            assertMatricesClose(original.distances[metric]!, after.distances[metric]!, relative: 1e-10, absolute: 1e-12, "\(metric)")
        }
    }

    func testInvariantUnderChangeOfLoRABasis() throws {
        let adapters = relatedAdapters(seed: 17, count: 4)
        var rng = SeededRandom(seed: 99)
        let rotated = adapters.map { factors -> LoRAFactors in
            // B → B·Q, A → Qᵀ·A, so Aᵀ → Aᵀ·Q, with Q a random orthogonal r × r matrix.
            let q = try! Factorizations.thinQR(Matrix(rows: factors.rank, cols: factors.rank, values: rng.gaussians(factors.rank * factors.rank))).q
            return LoRAFactors(b: factors.b * q, aTransposed: factors.aTransposed * q, scaling: factors.scaling)
        }
        let original = try BlockGeometry.analyze(adapters)
        let after = try BlockGeometry.analyze(rotated)
        for metric in DistanceMetric.allCases where !metric.isCombMetric {
            assertMatricesClose(original.distances[metric]!, after.distances[metric]!, relative: 1e-10, absolute: 1e-12, "\(metric)")
        }
    }

    func testGrassmannOfDeltaEqualsGrassmannOfBWhenAHasFullRowRank() throws {
        // Im(BA) = Im(B) when A has full row rank.
        let result = try BlockGeometry.analyze(relatedAdapters(seed: 23, count: 5, ranks: [4, 4, 2, 6, 4]))
        assertMatricesClose(result.distances[.grassmann]!, result.distances[.grassmannB]!, relative: 1e-10, absolute: 1e-12, "Im(BA) = Im(B)")
    }

    func testRankDeficientBUsesNumericalRank() throws {
        var rng = SeededRandom(seed: 31)
        let left = Matrix(rows: 40, cols: 2, values: rng.gaussians(80))
        let right = Matrix(rows: 2, cols: 6, values: rng.gaussians(12))
        let deficient = LoRAFactors(b: left * right, aTransposed: Matrix(rows: 30, cols: 6, values: rng.gaussians(180)), scaling: 1)
        let other = randomFactors(&rng, rank: 6)
        let result = try BlockGeometry.analyze([deficient, other])
        XCTAssertEqual(result.subspaceRanks[.b], [2, 6])
        XCTAssertEqual(result.subspaceRanks[.delta], [2, 6])
        XCTAssertEqual(result.distances[.grassmannB]![0, 1], DenseReference.distance(.grassmannB, deficient, other), accuracy: 1e-12)
    }

    func testIdenticalCopiesAreExactlyZero() throws {
        var rng = SeededRandom(seed: 41)
        let original = randomFactors(&rng)
        let result = try BlockGeometry.analyze([original, randomFactors(&rng), original])
        for metric in DistanceMetric.allCases {
            XCTAssertEqual(result.distances[metric]![0, 2], 0, "\(metric)")
            XCTAssertGreaterThan(result.distances[metric]![0, 1], 0, "\(metric)")
        }
    }

    func testReusedStacksGiveTheSameResultsAsFreshOnes() throws {
        let first = relatedAdapters(seed: 51, count: 5, ranks: [4, 2, 6, 4, 3])
        let second = relatedAdapters(seed: 52, count: 3, ranks: [8, 8, 2])
        var reused = StackedBlock()
        for adapters in [first, second, first] {
            reused.reset(outFeatures: 40, inFeatures: 30, ranks: adapters.map(\.rank), scalings: adapters.map(\.scaling))
            for (i, factors) in adapters.enumerated() {
                let columns = reused.columns(i)
                reused.b.replaceSubrange((columns.lowerBound * 40)..<(columns.upperBound * 40), with: factors.b.values)
                reused.aTransposed.replaceSubrange((columns.lowerBound * 30)..<(columns.upperBound * 30), with: factors.aTransposed.values)
            }
            let viaReuse = try BlockGeometry.analyze(&reused)
            let fresh = try BlockGeometry.analyze(adapters)
            for metric in DistanceMetric.allCases {
                XCTAssertEqual(viaReuse.distances[metric], fresh.distances[metric], "\(metric)")
            }
        }
    }

    func testEmptyAndSingleAdapterBlocks() throws {
        XCTAssertTrue(try BlockGeometry.analyze([]).distances.isEmpty)
        var rng = SeededRandom(seed: 3)
        let single = try BlockGeometry.analyze([randomFactors(&rng)])
        XCTAssertEqual(single.distances[.l2]!.values, [0])
    }
}
