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

/// The fast average linkage against the plain O(N³) algorithm it replaced, kept here as the oracle.
final class AverageLinkageOracleTests: XCTestCase {
    /// The previous implementation: every step scans all pairs of live clusters in id order and
    /// merges the first pair with the smallest mean distance.
    static func naiveAverageLinkage(_ distances: [[Double]]) -> TaskMaps.Clustering {
        let n = distances.count
        var members: [Int: [Int]] = [:]
        for i in 0..<n { members[i] = [i] }
        var merges: [(Int, Int, Double, Int)] = []
        var nextID = n
        while members.count > 1 {
            let ids = members.keys.sorted()
            var best: (Int, Int, Double)?
            for (index, a) in ids.enumerated() {
                for b in ids[(index + 1)...] {
                    var sum = 0.0
                    for i in members[a]! { for j in members[b]! { sum += distances[i][j] } }
                    let d = sum / Double(members[a]!.count * members[b]!.count)
                    if best == nil || d < best!.2 { best = (a, b, d) }
                }
            }
            let (a, b, height) = best!
            let merged = members[a]! + members[b]!
            members[a] = nil
            members[b] = nil
            members[nextID] = merged
            merges.append((a, b, height, merged.count))
            nextID += 1
        }
        func leaves(_ id: Int) -> [Int] { id < n ? [id] : leaves(merges[id - n].0) + leaves(merges[id - n].1) }
        return TaskMaps.Clustering(merges: merges, order: n == 1 ? [0] : leaves(nextID - 1))
    }

    /// Small integer distances: many exact ties, so the tie rule decides most merges.
    func testSameMergesAsTheNaiveAlgorithmWithManyTiesAtN300() throws {
        var random = SeededRandom(seed: 16)
        let n = 300
        var d = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in (i + 1)..<n { d[i][j] = Double(Int.random(in: 1...4, using: &random)); d[j][i] = d[i][j] } }
        let fast = try XCTUnwrap(TaskMaps.averageLinkage(d))
        let naive = Self.naiveAverageLinkage(d)
        XCTAssertEqual(fast.merges.count, n - 1)
        XCTAssertEqual(fast, naive)
    }

    func testSameMergesAsTheNaiveAlgorithmOnBlobs() throws {
        var random = SeededRandom(seed: 7)
        for n in [1, 2, 3, 17, 80] {
            let points = (0..<n).map { i in [Double(i % 4) * 5 + random.gaussian(), random.gaussian(), random.gaussian()] }
            let d = points.map { p in points.map { q in zip(p, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() } }
            let fast = try XCTUnwrap(TaskMaps.averageLinkage(d))
            let naive = Self.naiveAverageLinkage(d)
            XCTAssertEqual(fast.order, naive.order, "n \(n)")
            XCTAssertEqual(fast.merges.map(\.0), naive.merges.map(\.0), "n \(n)")
            XCTAssertEqual(fast.merges.map(\.1), naive.merges.map(\.1), "n \(n)")
            XCTAssertEqual(fast.merges.map(\.3), naive.merges.map(\.3), "n \(n)")
            for (a, b) in zip(fast.merges, naive.merges) { XCTAssertTrue(isClose(a.2, b.2, relative: 1e-13, absolute: 1e-15)) }
        }
    }
}
