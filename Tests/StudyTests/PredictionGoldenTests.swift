import AnalysisCore
import JSONText
@testable import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// Compares the per-layer correlations, the best layer with its Holm-adjusted p, the
/// leave-one-task-out ridge, the select-best baseline and every pair's prediction with the
/// independent NumPy/SciPy reference (`scripts/reference_prediction.py`), fed with the same
/// per-layer matrices (those of the distance golden) and the same scores.
final class PredictionGoldenTests: XCTestCase {
    var failures: [String] = []

    func check(_ value: Double?, _ reference: JSONValue?, _ label: String, relative: Double = 1e-9) {
        switch (value, reference?.numberValue) {
        case (nil, nil): return
        case let (.some(v), .some(r)):
            if !isClose(v, r, relative: relative, absolute: 1e-12) { failures.append("\(label): \(v) vs reference \(r)") }
        case let (v, r):
            failures.append("\(label): \(String(describing: v)) vs reference \(String(describing: r))")
        }
    }

    /// The study as the reference saw it: its per-layer distances and their layer means.
    func analysis(from distancesPath: String) throws -> StudyAnalysis {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/" + distancesPath))
        let tasks = golden["tasks"]!.arrayValue!.map { $0.stringValue! }
        let modules = golden["modules"]!.arrayValue!.map { $0.stringValue! }
        func matrix(_ rows: JSONValue) -> PairMatrix {
            var out = PairMatrix(count: tasks.count)
            for (i, row) in rows.arrayValue!.enumerated() {
                for (j, cell) in row.arrayValue!.enumerated() { out[i, j] = cell.numberValue ?? .nan }
            }
            return out
        }
        var distances: [DistanceMetric: [String: LayeredDistances]] = [:]
        for metric in DistanceMetric.allCases {
            for module in modules {
                let entry = golden["distances"]![metric.rawValue]![module]!
                distances[metric, default: [:]][module] = LayeredDistances(
                    layerIDs: entry["layer_ids"]!.arrayValue!.map { $0.intValue! },
                    layers: entry["layers"]!.arrayValue!.map(matrix), mean: matrix(entry["mean"]!))
            }
        }
        return StudyAnalysis(tasks: tasks, modules: modules, adapters: [], warnings: [], distances: distances, subspaceRanks: [:], norms: [:])
    }

    func compare(_ name: String) throws -> (StudyAnalysis, StudyFindings) {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/\(name).json"))
        let analysis = try analysis(from: golden["distances"]!.stringValue!)
        let scores = try ScoreTable.read(repositoryRoot + "/" + golden["scores"]!.stringValue!, tasks: analysis.tasks)
        let findings = try StudyFindings.compute(analysis, scores: scores, ridgeLambda: golden["prediction"]!["ridge_lambda"]!.numberValue!)

        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                let reference = golden["per_layer"]![metric.rawValue]![module]!.arrayValue!
                let rows = try XCTUnwrap(findings.perLayer[metric]?[module])
                XCTAssertEqual(rows.count, reference.count)
                for (row, entry) in zip(rows, reference) {
                    let label = "per_layer \(metric.rawValue)/\(module) layer \(row.layer)"
                    XCTAssertEqual(row.layer, entry["layer"]!.intValue, label)
                    XCTAssertEqual(row.n, entry["n"]!.intValue, label)
                    // Means of Spearman coefficients: exact up to the summation's rounding.
                    check(row.mean, entry["mean"], label + " mean", relative: 1e-12)
                    check(row.std, entry["std"], label + " std")
                }
            }
        }
        for module in analysis.modules {
            let reference = golden["best_layer"]![module]
            let best = findings.bestLayer[module]
            XCTAssertEqual(best?.metric.id, reference?["metric"]?.stringValue, "best layer metric \(module)")
            XCTAssertEqual(best?.layer, reference?["layer"]?.intValue, "best layer \(module)")
            XCTAssertEqual(best?.tests, reference?["tests"]?.intValue, "best layer tests \(module)")
            check(best?.mean, reference?["mean"], "best layer mean \(module)")
            check(best?.p, reference?["p"], "best layer p \(module)")
            check(best?.holmP, reference?["p_holm"], "best layer Holm p \(module)")
        }
        let prediction = try XCTUnwrap(findings.prediction)
        let reference = golden["prediction"]!
        XCTAssertEqual(prediction.features, reference["features"]!.arrayValue!.map { $0.stringValue! })
        for (index, task) in analysis.tasks.enumerated() {
            // Spearman of identical rankings is the same rational number: exact up to rounding.
            check(prediction.perTask[index], reference["per_task"]![task], "ridge ρ \(task)", relative: 1e-12)
            let choice = reference["select_best"]!["per_task"]![task]!
            XCTAssertEqual(prediction.selectBest[index]?.feature, choice["feature"]?.stringValue, "select-best feature \(task)")
            check(prediction.selectBest[index]?.rho, choice.isNull ? nil : choice["rho"], "select-best ρ \(task)", relative: 1e-12)
        }
        check(prediction.mean, reference["mean"], "ridge mean")
        check(prediction.std, reference["std"], "ridge std")
        check(prediction.selectBestMean, reference["select_best"]!["mean"], "select-best mean")
        check(prediction.selectBestStd, reference["select_best"]!["std"], "select-best std")
        let pairs = reference["merge_predictions"]!.arrayValue!
        XCTAssertEqual(prediction.mergePredictions.count, pairs.count)
        for (row, entry) in zip(prediction.mergePredictions, pairs) {
            let label = "\(analysis.tasks[row.host])+\(analysis.tasks[row.partner])"
            XCTAssertEqual(analysis.tasks[row.host], entry["host"]!.stringValue, label)
            XCTAssertEqual(analysis.tasks[row.partner], entry["partner"]!.stringValue, label)
            check(row.predicted, entry["predicted"], label + " predicted")
            check(row.observed, entry["observed"], label + " observed")
        }
        XCTAssertTrue(failures.isEmpty, failures.prefix(20).joined(separator: "\n"))
        return (analysis, findings)
    }

    func testMiniLMExampleMatchesSciPy() throws {
        _ = try compare("minilm-glue8-prediction")
    }

    /// Half of the merges without a score: every unevaluated ordered pair gets a prediction and no
    /// observed value, every evaluated one its observed relative loss, in merge-predictions.csv.
    func testHalfTheMergesMissingArePredicted() throws {
        let (analysis, findings) = try compare("minilm-glue8-prediction-half")
        let delta = try XCTUnwrap(findings.delta)
        let own = try XCTUnwrap(findings.scores).selfScores(tasks: analysis.tasks)
        let n = analysis.tasks.count
        let missing = (0..<n).flatMap { i in (0..<n).filter { $0 != i && delta[i, $0].isNaN } }.count
        XCTAssertGreaterThanOrEqual(missing, n * (n - 1) / 2 - 1, "about half of the merges are missing")
        XCTAssertLessThan(missing, n * (n - 1))
        let lines = MergePredictionsCSV.text(findings, tasks: analysis.tasks).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "host,partner,predicted_relative_loss,observed_relative_loss")
        XCTAssertEqual(lines.count, 1 + n * (n - 1), "every ordered pair")
        var seen = Set<String>()
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(fields.count, 4, line)
            let i = try XCTUnwrap(analysis.tasks.firstIndex(of: fields[0])), j = try XCTUnwrap(analysis.tasks.firstIndex(of: fields[1]))
            seen.insert("\(i),\(j)")
            XCTAssertNotEqual(i, j)
            XCTAssertNotNil(Double(fields[2]), "a prediction for \(line)")
            if delta[i, j].isNaN || own[i] == 0 {
                XCTAssertEqual(fields[3], "", "no observed value for an unevaluated merge: \(line)")
            } else {
                let observed = try XCTUnwrap(Double(fields[3]), line)
                XCTAssertEqual(observed, delta[i, j] / abs(own[i]!), accuracy: 1e-15 * max(1, abs(observed)), line)
            }
        }
        XCTAssertEqual(seen.count, n * (n - 1))
        XCTAssertTrue(findings.warnings.contains { $0.text.contains("no score for \(missing) merges") && $0.text.contains("merge-predictions.csv") })
    }
}
