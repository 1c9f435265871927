import AnalysisCore
import Diagnostics
import JSONText
import Study
import TVGeoTestSupport
import XCTest

final class ScoresTests: XCTestCase {
    var directory: TemporaryDirectory!
    let tasks = ["a", "b", "c"]

    override func setUp() { directory = TemporaryDirectory("scores") }
    override func tearDown() { directory.remove() }

    func read(_ text: String) throws -> ScoreTable {
        try ScoreTable.read(directory.write("scores.csv", text: text), tasks: tasks)
    }

    func assertRefused(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(text), file: file, line: line) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65, file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment) && "\(error)".contains("scores.csv"), "\(error) lacks \(fragment)", file: file, line: line)
        }
    }

    func testDeltaFromSinglesAndMergesInEitherOrder() throws {
        let table = try read("\u{FEFF}model,task,metric,score\r\na,a,acc,80\r\nb,b,acc,70\r\na+b,a,acc,75\r\na+b,b,acc,71\r\n\"c+a\",a,acc,60.5\r\n")
        let (delta, missing) = table.delta(tasks: tasks)
        XCTAssertEqual(delta[0, 1], 5)
        XCTAssertEqual(delta[1, 0], -1, "merging helped b")
        XCTAssertEqual(delta[0, 2], 19.5, "c+a evaluated on a is Comb(a, c) hosted by a")
        XCTAssertTrue(delta[0, 0].isNaN)
        XCTAssertTrue(delta[2, 0].isNaN, "no score for c on c")
        XCTAssertEqual(missing.count, 3)
        XCTAssertEqual(table.rows.first?.metric, "acc")
    }

    func testMalformedFilesNameTheLine() {
        assertRefused("model,task\na,a\n", "missing column score")
        assertRefused("model,task,score\na,a,80\na,a,81\n", "line 3: duplicate score for a on a (first on line 2)")
        assertRefused("model,task,score\na+b,a,75\nb+a,a,76\n", "line 3: duplicate")
        assertRefused("model,task,score\na,a,eighty\n", "line 2: score \"eighty\" is not a finite number")
        assertRefused("model,task,score\nd,d,1\n", "unknown task \"d\"")
        assertRefused("model,task,score\na+d,a,1\n", "unknown model \"a+d\"")
        assertRefused("model,task,score\na+b,c,1\n", "neither of its tasks")
        assertRefused("model,task,score\na,b,1\n", "own task")
        assertRefused("model,task,score\na,a\n", "2 fields, the header has 3")
        assertRefused("", "empty file")
        assertRefused("model,task,score\n\"a,a,1\n", "unterminated quoted field")
    }

    func testRealScoresOfTheExample() throws {
        let tasks = ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"]
        let table = try ScoreTable.read(repositoryRoot + "/examples/minilm-glue8/scores.csv", tasks: tasks)
        let (delta, missing) = table.delta(tasks: tasks)
        XCTAssertEqual(missing, [])
        XCTAssertEqual(delta[0, 1], 0, "CoLA predicts the majority class: every δ of CoLA is 0")
        XCTAssertEqual(delta[5, 0], 42.5345 - 47.5556, accuracy: 1e-12, "hate gains from merging with cola")
        XCTAssertEqual(table.rows.count, 8 + 56)
    }

    func testFindingsOnTheExampleHaveThePosterTable() throws {
        let tasks = ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"]
        let analysis = try LoRAStudy.analyze(tasks.map { AdapterArgument(task: $0, path: repositoryRoot + "/examples/minilm-glue8/adapters/" + $0) })
        let scores = try ScoreTable.read(repositoryRoot + "/examples/minilm-glue8/scores.csv", tasks: tasks)
        let findings = try StudyFindings.compute(analysis, scores: scores)
        let summary = try XCTUnwrap(findings.correlations[.grassmann]?["value"]?[.spearman])
        XCTAssertNil(summary.perTask[0], "CoLA's δ row is constant: ρ undefined")
        XCTAssertEqual(summary.perTask.compactMap { $0 }.count, 7)
        XCTAssertNotNil(summary.mean)
        XCTAssertNotNil(summary.ci95)
        XCTAssertEqual(summary.pooled?.n, 49, "7 hosts with a non-zero own score × 7 partners")
        XCTAssertLessThan(try XCTUnwrap(findings.grassmannIdentity["query"]), 1e-12)
        let document = try JSONParser.parse(JSONWriter.string(MetricsDocument.json(analysis, findings: findings, tool: ToolInfo())))
        XCTAssertEqual(document["correlations"]?["cosine"]?["value"]?["per_task"]?["cola"]?["rho"], .null)
        XCTAssertNotNil(document["correlations"]?["cosine"]?["value"]?["kendall"]?["mean"]?.numberValue)
        XCTAssertEqual(document["pca"]?["l2"]?["query"]?["coordinates"]?.arrayValue?.count, 8)
        XCTAssertEqual(document["order"]?.arrayValue?.count, 8)
        XCTAssertEqual(document["delta"]?.arrayValue?[0].arrayValue?[0], .null)
    }
}
