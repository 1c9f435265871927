import AnalysisCore
import JSONText
import TensorIO
import TVGeoTestSupport
import XCTest

/// Tree cuts, silhouettes, medoids and the choice of k against SciPy's `fcluster(…, 'maxclust')`
/// and a NumPy silhouette (`scripts/reference_clusters.py` → Tests/Fixtures/golden/clusters.json).
final class TaskClustersTests: XCTestCase {
    struct Case {
        var name: String
        var distances: [[Double]]
        var order: [Int]
        var heights: [Double]
        var cuts: [(k: Int, labels: [Int], silhouette: [Double], mean: Double, medoids: [Int])]
        var bestK: Int
    }

    func goldenCases() throws -> [Case] {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/clusters.json"))
        let cases = try XCTUnwrap(golden["cases"]?.arrayValue)
        XCTAssertEqual(cases.count, 3)
        return try cases.map { value in
            func ints(_ v: JSONValue?) throws -> [Int] { try XCTUnwrap(v?.arrayValue).map { try XCTUnwrap($0.intValue) } }
            func doubles(_ v: JSONValue?) throws -> [Double] { try XCTUnwrap(v?.arrayValue).map { try XCTUnwrap($0.numberValue) } }
            let cuts = try XCTUnwrap(value["cuts"]?.arrayValue).map { cut in
                (k: try XCTUnwrap(cut["k"]?.intValue), labels: try ints(cut["labels"]), silhouette: try doubles(cut["silhouette"]),
                 mean: try XCTUnwrap(cut["mean"]?.numberValue), medoids: try ints(cut["medoids"]))
            }
            return Case(name: try XCTUnwrap(value["name"]?.stringValue),
                        distances: try XCTUnwrap(value["distances"]?.arrayValue).map { try doubles($0) },
                        order: try ints(value["order"]), heights: try doubles(value["heights"]), cuts: cuts,
                        bestK: try XCTUnwrap(value["best_k"]?.intValue))
        }
    }

    func testCutsSilhouettesAndMedoidsMatchSciPy() throws {
        for golden in try goldenCases() {
            let clustering = try XCTUnwrap(TaskMaps.averageLinkage(golden.distances))
            XCTAssertEqual(clustering.order, golden.order, golden.name)
            for (merge, height) in zip(clustering.merges, golden.heights) {
                XCTAssertTrue(isClose(merge.2, height, relative: 1e-12, absolute: 1e-12), "\(golden.name): height \(merge.2) vs \(height)")
            }
            XCTAssertGreaterThanOrEqual(golden.cuts.count, 8)
            for cut in golden.cuts {
                let labels = clustering.cut(into: cut.k)
                XCTAssertEqual(labels, cut.labels, "\(golden.name) k \(cut.k)")
                let values = Silhouette.values(golden.distances, labels: labels)
                for (i, (ours, reference)) in zip(values, cut.silhouette).enumerated() {
                    XCTAssertTrue(isClose(ours, reference, relative: 1e-10, absolute: 1e-12),
                                  "\(golden.name) k \(cut.k) task \(i): \(ours) vs \(reference)")
                }
                let mean = Silhouette.mean(golden.distances, labels: labels)
                XCTAssertTrue(isClose(mean, cut.mean, relative: 1e-10, absolute: 1e-12), "\(golden.name) k \(cut.k): mean \(mean) vs \(cut.mean)")
                XCTAssertEqual(TaskClusters.medoids(golden.distances, labels: labels, count: cut.k), cut.medoids, "\(golden.name) k \(cut.k)")
            }
            let candidates = try XCTUnwrap(TaskClusters.defaultCandidates(taskCount: golden.distances.count))
            let chosen = try XCTUnwrap(TaskClusters.bySilhouette(golden.distances, clustering: clustering, candidates: candidates))
            let reference = try XCTUnwrap(golden.cuts.first { $0.k == golden.bestK })
            XCTAssertEqual(chosen.count, golden.bestK, golden.name)
            XCTAssertEqual(chosen.labels, reference.labels, golden.name)
            XCTAssertEqual(chosen.medoids, reference.medoids, golden.name)
            XCTAssertTrue(isClose(chosen.silhouette, reference.mean, relative: 1e-10, absolute: 1e-12), golden.name)
        }
    }

    func testSilhouetteConventions() {
        // Two clusters {0, 1} and {2} (a singleton): s(2) = 0 by convention.
        let d: [[Double]] = [[0, 1, 4], [1, 0, 6], [4, 6, 0]]
        let values = Silhouette.values(d, labels: [0, 0, 1])
        XCTAssertEqual(values[0], (4 - 1) / 4.0, accuracy: 1e-15)
        XCTAssertEqual(values[1], (6 - 1) / 6.0, accuracy: 1e-15)
        XCTAssertEqual(values[2], 0)
        XCTAssertTrue(Silhouette.mean(d, labels: [0, 0, 0]).isNaN, "k = 1")
        XCTAssertTrue(Silhouette.mean(d, labels: [0, 1, 2]).isNaN, "k = N")
        // A task outside every cluster (label −1) neither counts nor gets a value.
        let withOutsider = Silhouette.values([[0, 1, 4, 9], [1, 0, 6, 9], [4, 6, 0, 9], [9, 9, 9, 0]], labels: [0, 0, 1, -1])
        XCTAssertEqual(Array(withOutsider.prefix(3)), values)
        XCTAssertTrue(withOutsider[3].isNaN)
        // Identical points in two clusters: a = b = 0 gives 0, not NaN.
        XCTAssertEqual(Silhouette.values([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], labels: [0, 0, 1, 1]), [0, 0, 0, 0])
    }

    func testCutAtATieGivesExactlyKAndLeftOutLeavesStaySingletons() throws {
        // Four points on a line at 0, 1, 2, 3: merges at 1, 1, then 2.
        let d: [[Double]] = (0..<4).map { i in (0..<4).map { j in Double(abs(i - j)) } }
        let clustering = try XCTUnwrap(TaskMaps.averageLinkage(d))
        XCTAssertEqual(Set(clustering.cut(into: 3)).count, 3)
        XCTAssertEqual(clustering.cut(into: 1), [0, 0, 0, 0])
        XCTAssertEqual(clustering.cut(into: 4), clustering.order.indices.map { i in clustering.order.firstIndex(of: i)! })
        XCTAssertNil(TaskClusters.defaultCandidates(taskCount: 2))
        XCTAssertEqual(TaskClusters.defaultCandidates(taskCount: 500), 2...20)
        XCTAssertNil(TaskClusters.bySilhouette([[0, 1], [1, 0]], clustering: try XCTUnwrap(TaskMaps.averageLinkage([[0, 1], [1, 0]])),
                                               candidates: 2...5))
    }
}
