import AnalysisCore
import Charts
import Diagnostics
import JSONText
@testable import Reporting
@testable import Study
import TVGeoTestSupport
import XCTest

/// A 60-task study built in memory (three planted groups of tasks, one near-duplicate pair, two
/// adapters of another rank): the summaries stay short and the full lists go to tables/.
final class LargeStudyReportTests: XCTestCase {
    static let count = 60

    static func study() throws -> (StudyAnalysis, StudyFindings) {
        var random = SeededRandom(seed: 60)
        let tasks = (0..<count).map { "task\($0)" }
        // l2 from three blobs in 4-D (task i in blob i mod 3); cosine from directions spread in 8-D, where
        // no two tasks come within 2.6° by chance; task1 is task0 moved by 1e-4 (a near-duplicate) in both.
        var points = (0..<count).map { i in (0..<4).map { d in (d == i % 3 ? 5.0 : 0) + 0.3 * random.gaussian() } }
        points[1] = points[0].map { $0 + 1e-4 }
        var directions = (0..<count).map { _ in random.gaussians(8) }
        directions[1] = directions[0].map { $0 + 1e-4 }
        var l2 = PairMatrix(count: count, fill: 0), cosine = PairMatrix(count: count, fill: 0)
        for i in 0..<count {
            for j in 0..<count {
                l2[i, j] = zip(points[i], points[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                let p = directions[i], q = directions[j]
                let dot = zip(p, q).reduce(0) { $0 + $1.0 * $1.1 }
                let norms = (p.reduce(0) { $0 + $1 * $1 } * q.reduce(0) { $0 + $1 * $1 }).squareRoot()
                cosine[i, j] = i == j ? 0 : min(2, max(0, 1 - dot / norms))
            }
        }
        func layered(_ m: PairMatrix) -> LayeredDistances { LayeredDistances(layerIDs: [0], layers: [m], mean: m) }
        let adapters = tasks.enumerated().map { index, task in
            let rank = index >= 58 ? 4 : 8
            return AdapterSummary(task: task, path: "lib/\(task)", weightsPath: "lib/\(task)/adapter_model.safetensors", kind: "lora",
                                  baseModel: nil, modules: [.init(name: "query", layers: [0], ranks: [rank], alphas: [16], scalings: [2])],
                                  ignoredTensors: [])
        }
        let analysis = StudyAnalysis(tasks: tasks, modules: ["query"], adapters: adapters, warnings: [],
                                     distances: [.l2: ["query": layered(l2)], .cosine: ["query": layered(cosine)]],
                                     subspaceRanks: [:], norms: [:])
        return (analysis, try StudyFindings.compute(analysis, scores: nil))
    }

    func testSummariesStayShortAndFullListsGoToTables() throws {
        let (analysis, findings) = try Self.study()
        let clusters = try XCTUnwrap(findings.clusters[.l2]?["query"])
        XCTAssertEqual(clusters.count, 3, "the three planted groups")
        XCTAssertGreaterThan(clusters.silhouette, 0.8)
        for group in 0..<3 {
            // task1 sits on task0, in blob 0.
            let members = stride(from: group, to: Self.count, by: 3).filter { $0 != 1 } + (group == 0 ? [1] : [])
            let labels = Set(members.map { clusters.labels[$0] })
            XCTAssertEqual(labels.count, 1, "group \(group) is one cluster")
        }
        let json = MetricsDocument.json(analysis, findings: findings, tool: ToolInfo(version: "test"))
        let entry = try XCTUnwrap(json["clusters"]?["l2"]?["query"])
        XCTAssertEqual(entry["k"]?.intValue, 3)
        XCTAssertEqual(entry["labels"]?.arrayValue?.compactMap(\.intValue), clusters.labels)
        XCTAssertEqual(entry["medoids"]?.arrayValue?.compactMap(\.intValue), clusters.medoids)
        XCTAssertEqual(try XCTUnwrap(entry["silhouette"]?.numberValue), clusters.silhouette, accuracy: 1e-15)
        XCTAssertTrue(json["clusters"]?["grassmann"]?["query"]?.isNull == true, "no clusters where there is no distance")
        let inputs = (0..<100).map { Provenance.Input(role: "task\($0)", path: "lib/task\($0)", bytes: $0, sha256: "00") }
        let command = "tvgeo report " + (0..<Self.count).map { "lib/task\($0)" }.joined(separator: " ") + " --name lib --force"
        let provenance = Provenance(toolVersion: "test", commandLine: command, date: "2026-01-01T00:00:00Z", inputs: inputs)
        let document = ReportBuilder.build(name: "lib", analysis: analysis, findings: findings,
                                           settings: ReportSettings(metrics: [.l2, .cosine]), provenance: provenance)

        let adapters = try XCTUnwrap(document.table(named: "adapters"))
        XCTAssertEqual(adapters.data.rows.map(\.header), ["58 adapters", "2 adapters"])
        XCTAssertEqual(adapters.data.rows[1].cells.last?.text, "task58, task59")
        XCTAssertEqual(try XCTUnwrap(adapters.csv).split(separator: "\n").count, Self.count + 1)

        guard case .keyValues(let facts) = try XCTUnwrap(document.sections.first { $0.id == "inputs" }?.blocks.first) else {
            return XCTFail("Inputs starts with its facts")
        }
        let taskFact = try XCTUnwrap(facts.first { $0.key == "tasks" }?.value)
        XCTAssertEqual(taskFact, "task0, task1, task2, task3, task4, task5, …, task59 (60); every task in tables/adapters.csv")

        let nearDuplicates = try XCTUnwrap(document.table(named: "near-duplicates"))
        XCTAssertEqual(nearDuplicates.data.rows.map(\.header), ["task0 · task1"])
        XCTAssertEqual(try XCTUnwrap(nearDuplicates.csv).split(separator: "\n").count, 2)

        let members = try XCTUnwrap(document.table(named: "clusters-l2-query")?.csv).split(separator: "\n")
        XCTAssertEqual(members.count, Self.count + 1)
        XCTAssertEqual(try XCTUnwrap(document.table(named: "neighbours-cosine-query")?.csv).split(separator: "\n").count, Self.count + 1)
        // task0's nearest neighbour is its near-duplicate.
        let neighbours = try XCTUnwrap(document.table(named: "neighbours-l2-query")?.csv).split(separator: "\n")
        XCTAssertTrue(neighbours[1].hasPrefix("task0,task1,"), String(neighbours[1]))

        let shownInputs = try XCTUnwrap(document.table(named: "inputs"))
        XCTAssertEqual(shownInputs.data.rows.count, ReportBuilder.shownInputs)
        XCTAssertEqual(try XCTUnwrap(shownInputs.csv).split(separator: "\n").count, 101)
        guard case .keyValues(let record) = try XCTUnwrap(document.sections.last?.blocks.first) else { return XCTFail("provenance facts") }
        let shownCommand = try XCTUnwrap(record.first { $0.key == "command" }?.value)
        XCTAssertLessThan(shownCommand.count, ReportBuilder.longestCommandShown + 80)
        XCTAssertTrue(shownCommand.hasPrefix("tvgeo report lib/task0 ") && shownCommand.contains("--name lib --force ("), shownCommand)
    }
}
