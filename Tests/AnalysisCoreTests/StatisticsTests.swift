import AnalysisCore
import TVGeoTestSupport
import XCTest

final class StatisticsTests: XCTestCase {
    func testAverageRanksShareTies() {
        XCTAssertEqual(Correlation.averageRanks([10, 20, 20, 5, 20]), [2, 4, 4, 1, 4])
        XCTAssertEqual(Correlation.averageRanks([1, 1]), [1.5, 1.5])
    }

    func testSpearmanHandComputedWithTies() throws {
        // x ranks [1, 2.5, 2.5, 4], y ranks [1, 2, 3, 4]: ρ = Pearson of the ranks = 0.9486832980505138.
        let result = try XCTUnwrap(Correlation.compute(.spearman, [1, 2, 2, 3], [10, 20, 30, 40]))
        XCTAssertEqual(result.value, 3 / 10.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(result.n, 4)
        // Exact p over the 24 permutations of y's ranks: those with |ρ| ≥ 0.9487 are 4 of them.
        XCTAssertEqual(result.p, 4.0 / 24.0, accuracy: 1e-15)
    }

    func testSpearmanIsInvariantUnderMonotoneTransforms() throws {
        var rng = SeededRandom(seed: 5)
        let x = rng.gaussians(12), y = zip(x, rng.gaussians(12)).map { $0 + 0.5 * $1 }
        let base = try XCTUnwrap(Correlation.compute(.spearman, x, y))
        let transformed = try XCTUnwrap(Correlation.compute(.spearman, x.map { exp(3 * $0) }, y.map { $0 * $0 * $0 - 7 }))
        XCTAssertEqual(base, transformed)
        let kendall = try XCTUnwrap(Correlation.compute(.kendall, x, y))
        XCTAssertEqual(kendall, try XCTUnwrap(Correlation.compute(.kendall, x.map { exp($0) }, y.map { 2 * $0 + 1 })))
        XCTAssertNotEqual(try XCTUnwrap(Correlation.compute(.pearson, x, y)).value,
                          try XCTUnwrap(Correlation.compute(.pearson, x.map { exp(3 * $0) }, y)).value, "Pearson is not rank-based")
    }

    func testPerfectAndUndefinedCorrelations() throws {
        let perfect = try XCTUnwrap(Correlation.compute(.spearman, [1, 2, 3, 4, 5], [2, 4, 8, 16, 32]))
        XCTAssertEqual(perfect.value, 1)
        XCTAssertEqual(perfect.p, 2.0 / 120.0, accuracy: 1e-15, "only the identity and its reverse reach |ρ| = 1")
        XCTAssertNil(Correlation.compute(.spearman, [1, 2], [3, 4]), "fewer than three points")
        XCTAssertNil(Correlation.compute(.pearson, [1, 2, 3], [5, 5, 5]), "constant side")
        XCTAssertNil(Correlation.compute(.kendall, [1, .nan, 3], [1, 2, 3]))
    }

    func testStudentTAndBetaAgainstKnownValues() {
        // t = 2.0 with 10 degrees of freedom: P(T > 2) = 0.036694017385370196 (SciPy).
        XCTAssertEqual(StudentT.survival(2, degreesOfFreedom: 10), 0.036694017385370196, accuracy: 1e-15)
        // One degree of freedom is Cauchy: P(T > 1) = 1/4.
        XCTAssertEqual(StudentT.survival(1, degreesOfFreedom: 1), 0.25, accuracy: 1e-15)
        XCTAssertEqual(RegularizedBeta.value(0.5, a: 2, b: 2), 0.5, accuracy: 1e-15)
        XCTAssertEqual(RegularizedBeta.value(0.3, a: 1, b: 1), 0.3, accuracy: 1e-15)
    }

    func testBootstrapIsReproducibleAndBracketsTheMean() throws {
        let values = [0.1, 0.5, 0.2, 0.9, 0.4]
        let first = try XCTUnwrap(Bootstrap.meanInterval95(values))
        let second = try XCTUnwrap(Bootstrap.meanInterval95(values))
        XCTAssertEqual(first.0, second.0)
        XCTAssertEqual(first.1, second.1)
        XCTAssertLessThan(first.0, 0.42)
        XCTAssertGreaterThan(first.1, 0.42)
        XCTAssertNil(Bootstrap.meanInterval95([0.3]))
        var generator = SplitMix64(seed: 0)
        XCTAssertEqual(generator.next(), 0xE220_A839_7B1D_CDAF, "SplitMix64's published first output for seed 0")
    }

    func testPCARecoversAKnownComponentWithAFixedSign() throws {
        // Points on a line along (3, 4)/5 with offsets 0, 1, 2, 3: one component, 100 % of the variance.
        let rows = (0..<4).map { t in [3.0 * Double(t), 4.0 * Double(t), 1, 1] }
        let pca = try XCTUnwrap(try TaskMaps.pca(rows))
        XCTAssertEqual(pca.explainedVarianceRatio[0], 1, accuracy: 1e-12)
        XCTAssertEqual(pca.explainedVarianceRatio[1], 0, accuracy: 1e-12)
        let expected = [-7.5, -2.5, 2.5, 7.5]  // 5·(t − 1.5); the largest loading (4/5) is positive
        for (i, value) in expected.enumerated() { XCTAssertEqual(pca.coordinates[i][0], value, accuracy: 1e-12) }
        XCTAssertNil(try TaskMaps.pca([[0, .nan], [1, 0]]))
    }

    func testMDSRecoversAPlantedConfiguration() throws {
        let points: [(Double, Double)] = [(0, 0), (3, 0), (0, 4), (3, 4), (1.5, 2), (-1, 2.5)]
        let distances = points.map { p in points.map { q in ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1)).squareRoot() } }
        let mds = try XCTUnwrap(try TaskMaps.mds(distances))
        XCTAssertEqual(mds.stress1, 0, accuracy: 1e-12)
        XCTAssertEqual(mds.positiveMass, 1, accuracy: 1e-12)
        XCTAssertEqual(mds.nonPositiveComponents, [])
        for i in points.indices {
            for j in points.indices {
                let dx = mds.coordinates[i][0] - mds.coordinates[j][0], dy = mds.coordinates[i][1] - mds.coordinates[j][1]
                XCTAssertEqual((dx * dx + dy * dy).squareRoot(), distances[i][j], accuracy: 1e-12)
            }
        }
    }

    func testAverageLinkageMergesNearestClustersFirst() throws {
        // Two tight pairs {0, 2} and {1, 3}, far apart.
        let d: [[Double]] = [[0, 9, 1, 8], [9, 0, 10, 2], [1, 10, 0, 9], [8, 2, 9, 0]]
        let clustering = try XCTUnwrap(TaskMaps.averageLinkage(d))
        XCTAssertEqual(clustering.merges.map(\.0), [0, 1, 4])
        XCTAssertEqual(clustering.merges.map(\.1), [2, 3, 5])
        XCTAssertEqual(clustering.merges.map(\.2), [1, 2, 9])  // (9 + 8 + 10 + 9) / 4 = 9
        XCTAssertEqual(clustering.order, [0, 2, 1, 3])
    }
}
