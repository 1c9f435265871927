import AnalysisCore
import JSONText
@testable import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// Compares the study statistics with the independent NumPy/SciPy reference
/// (`scripts/reference_study.py`), fed with the same layer-mean matrices (those of the distance
/// goldens) and the same scores, so only the statistics are under test.
final class StudyGoldenTests: XCTestCase {
    struct Mismatch: Error, CustomStringConvertible { var description: String }

    var failures: [String] = []

    func check(_ value: Double?, _ reference: JSONValue?, _ label: String) {
        switch (value, reference?.numberValue) {
        case (nil, nil): return
        case let (.some(v), .some(r)) where v.isNaN == false:
            if !isClose(v, r, relative: 1e-9, absolute: 1e-12) { failures.append("\(label): \(v) vs reference \(r)") }
        case let (v, r):
            if !(v?.isNaN == true && r == nil) { failures.append("\(label): \(String(describing: v)) vs reference \(String(describing: r))") }
        }
    }

    func compare(_ name: String) throws {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/\(name)-study.json"))
        let distancesGolden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/" + golden["distances_golden"]!.stringValue!))
        let tasks = golden["tasks"]!.arrayValue!.map { $0.stringValue! }
        let modules = distancesGolden["modules"]!.arrayValue!.map { $0.stringValue! }
        var distances: [DistanceMetric: [String: LayeredDistances]] = [:]
        for metric in DistanceMetric.allCases {
            for module in modules {
                let rows = distancesGolden["distances"]![metric.rawValue]![module]!["mean"]!.arrayValue!
                var mean = PairMatrix(count: tasks.count)
                for (i, row) in rows.enumerated() {
                    for (j, cell) in row.arrayValue!.enumerated() { mean[i, j] = cell.numberValue ?? .nan }
                }
                distances[metric, default: [:]][module] = LayeredDistances(layerIDs: [], layers: [], mean: mean)
            }
        }
        let analysis = StudyAnalysis(tasks: tasks, modules: modules, adapters: [], warnings: [], distances: distances,
                                     subspaceRanks: [:], norms: [:])
        let scores = try ScoreTable.read(repositoryRoot + "/" + golden["scores"]!.stringValue!, tasks: tasks)
        let findings = try StudyFindings.compute(analysis, scores: scores)

        let delta = try XCTUnwrap(findings.delta)
        for (i, row) in golden["delta"]!.arrayValue!.enumerated() {
            for (j, cell) in row.arrayValue!.enumerated() { check(delta[i, j], cell, "delta[\(i),\(j)]") }
        }
        for metric in DistanceMetric.allCases {
            for module in modules {
                let where_ = "\(metric.rawValue)/\(module)"
                for kind in CorrelationKind.allCases {
                    let reference = golden["correlations"]![metric.rawValue]![module]![kind.rawValue]!
                    let summary = try XCTUnwrap(findings.correlations[metric]?[module]?[kind])
                    for (index, task) in tasks.enumerated() {
                        let entry = reference["per_task"]![task]!
                        let result = summary.perTask[index]
                        check(result?.value, entry["rho"], "\(where_) \(kind) \(task) rho")
                        check(result?.p, entry["p"], "\(where_) \(kind) \(task) p")
                        check(Double(summary.perTaskCounts[index]), entry["n"], "\(where_) \(kind) \(task) n")
                    }
                    check(summary.mean, reference["mean"], "\(where_) \(kind) mean")
                    check(summary.std, reference["std"], "\(where_) \(kind) std")
                    check(summary.pooled?.value, reference["pooled"], "\(where_) \(kind) pooled")
                    check(summary.pooled?.p, reference["pooled_p"], "\(where_) \(kind) pooled_p")
                    check(summary.pooled.map { Double($0.n) }, reference["pooled_n"], "\(where_) \(kind) pooled_n")
                    let ci = reference["ci95"]?.arrayValue
                    check(summary.ci95?.0, ci?[0], "\(where_) \(kind) ci95 low")
                    check(summary.ci95?.1, ci?[1], "\(where_) \(kind) ci95 high")
                }
                let pca = golden["pca"]![metric.rawValue]![module]!
                let ours = findings.pca[metric]?[module]
                if pca.isNull { XCTAssertNil(ours, "\(where_) pca") } else {
                    for (i, point) in pca["coordinates"]!.arrayValue!.enumerated() {
                        for k in 0..<2 { check(ours?.coordinates[i][k], point.arrayValue![k], "\(where_) pca[\(i)][\(k)]") }
                    }
                    for k in 0..<2 { check(ours?.explainedVarianceRatio[k], pca["explained_variance_ratio"]!.arrayValue![k], "\(where_) evr\(k)") }
                }
                let mds = golden["mds"]![metric.rawValue]![module]!
                let ourMDS = findings.mds[metric]?[module]
                if mds.isNull { XCTAssertNil(ourMDS, "\(where_) mds") } else {
                    // A second eigenvalue at rounding level (three tasks on a line, as the Comb metrics give
                    // on the synthetic set): its axis is √(rounding) noise in both, and so is stress-1.
                    let values = mds["eigenvalues"]!.arrayValue!.compactMap(\.numberValue)
                    let flat = values.count > 1 && abs(values[1]) <= 1e-12 * abs(values[0])
                    for (i, point) in mds["coordinates"]!.arrayValue!.enumerated() {
                        for k in 0..<2 {
                            if flat && k == 1, let ours = ourMDS?.coordinates[i][k], let reference = point.arrayValue![k].numberValue {
                                if abs(ours - reference) > 1e-6 * abs(values[0]).squareRoot() {
                                    failures.append("\(where_) mds[\(i)][1] (flat axis): \(ours) vs reference \(reference)")
                                }
                                continue
                            }
                            check(ourMDS?.coordinates[i][k], point.arrayValue![k], "\(where_) mds[\(i)][\(k)]")
                        }
                    }
                    check(ourMDS?.positiveMass, mds["positive_mass"], "\(where_) positive mass")
                    if flat, let ours = ourMDS?.stress1, let reference = mds["stress1"]?.numberValue {
                        if abs(ours - reference) > 1e-6 { failures.append("\(where_) stress1 (flat axis): \(ours) vs reference \(reference)") }
                    } else {
                        check(ourMDS?.stress1, mds["stress1"], "\(where_) stress1")
                    }
                    for (k, value) in mds["eigenvalues"]!.arrayValue!.enumerated() {
                        // Eigenvalues near zero carry rounding of the scale of the largest one.
                        let scale = abs(mds["eigenvalues"]!.arrayValue![0].numberValue!)
                        if let ours = ourMDS?.eigenvalues[k], let reference = value.numberValue,
                           !isClose(ours, reference, relative: 1e-9, absolute: 1e-12 * max(1, scale)) {
                            failures.append("\(where_) eigenvalue \(k): \(ours) vs \(reference)")
                        }
                    }
                }
                let clustering = golden["clustering"]![metric.rawValue]![module]!
                let ourClustering = findings.clustering[metric]?[module]
                if clustering.isNull { XCTAssertNil(ourClustering, "\(where_) clustering") } else {
                    XCTAssertEqual(ourClustering?.order, clustering["order"]!.arrayValue!.map { $0.intValue! }, "\(where_) order")
                    for (k, merge) in clustering["merges"]!.arrayValue!.enumerated() {
                        let fields = merge.arrayValue!
                        XCTAssertEqual(ourClustering?.merges[k].0, fields[0].intValue, "\(where_) merge \(k)")
                        XCTAssertEqual(ourClustering?.merges[k].1, fields[1].intValue, "\(where_) merge \(k)")
                        check(ourClustering?.merges[k].2, fields[2], "\(where_) merge \(k) height")
                    }
                }
            }
        }
        for module in modules {
            check(findings.grassmannIdentity[module], golden["grassmann_vs_grassmann_b"]?[module], "identity \(module)")
        }
        XCTAssertEqual(failures, [], "\(failures.count) differences from the SciPy reference")
        failures = []
    }

    func testMiniLMStudyMatchesSciPy() throws { try compare("minilm-glue8") }
    func testSyntheticStudyWithTiesAndMissingScoresMatchesSciPy() throws { try compare("synthetic-mixed") }
}
