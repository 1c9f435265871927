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

    func read(_ text: String, tasks: [String]? = nil) throws -> ScoreTable {
        try ScoreTable.read(directory.write("scores.csv", text: text), tasks: tasks ?? self.tasks)
    }

    func assertRefused(_ text: String, _ fragment: String, tasks: [String]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(text, tasks: tasks), file: file, line: line) { error in
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
        assertRefused("model,task,score\na+d,b,1\n", "line 2: model \"a+d\" does not fit task b")
        assertRefused("model,task,score\n,a,1\n", "line 2: empty model")
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
        let document = try JSONParser.parse(JSONWriter.string(MetricsDocument.json(analysis, findings: findings, tool: ToolInfo(),
                                                                                   layers: LayersSidecar.make(for: analysis).record)))
        XCTAssertEqual(document["correlations"]?["cosine"]?["value"]?["per_task"]?["cola"]?["rho"], .null)
        XCTAssertNotNil(document["correlations"]?["cosine"]?["value"]?["kendall"]?["mean"]?.numberValue)
        XCTAssertEqual(document["pca"]?["l2"]?["query"]?["coordinates"]?.arrayValue?.count, 8)
        XCTAssertEqual(document["order"]?.arrayValue?.count, 8)
        XCTAssertEqual(document["delta"]?.arrayValue?[0].arrayValue?[0], .null)
    }

    // MARK: - A scores file covering more tasks than the study

    /// A study of three of the example's eight tasks, with the example's full scores file.
    func testRowsAboutTasksOutsideTheStudyAreLeftOutWithOneWarning() throws {
        let study = ["cola", "mrpc", "rte"]
        let path = repositoryRoot + "/examples/minilm-glue8/scores.csv"
        let table = try ScoreTable.read(path, tasks: study)
        XCTAssertEqual(table.rows.count, 3 + 3 * 2, "three singles, each of three merges on both hosts")
        for row in table.rows {
            XCTAssertTrue(study.contains(row.task) && row.model.split(separator: "+").allSatisfy { study.contains(String($0)) }, "\(row)")
        }
        XCTAssertEqual(table.warnings.map(\.text),
                       [path + ": 55 rows name tasks outside this study (sst2, emotion, hate, irony, offensive) and are left out"],
                       "no \"did you mean\": hate is not a typo of rte")
        let (delta, missing) = table.delta(tasks: study)
        XCTAssertEqual(missing, [])
        XCTAssertEqual(delta[1, 2], 85.5738 - 82.1797, accuracy: 1e-12, "mrpc hosting Comb(mrpc, rte)")
    }

    func testTheWarningCountsRowsAndListsFiveNames() throws {
        let text = "model,task,score\na,a,1\nd,d,1\na+d,a,1\nd+a,d,1\ne,e,1\nf,f,1\ng,g,1\nh+i,h,1\n"
        let table = try read(text)
        XCTAssertEqual(table.rows.map(\.line), [2])
        XCTAssertEqual(table.warnings.count, 1)
        XCTAssertTrue(table.warnings[0].text.hasSuffix("scores.csv: 7 rows name tasks outside this study (d, e, f, g, h, …) and are left out"),
                      table.warnings[0].text)
        let one = try read("model,task,score\na,a,1\nb+qnli,b,2\n")
        XCTAssertTrue(one.warnings.first?.text.hasSuffix(": 1 row names tasks outside this study (qnli) and is left out") == true, "\(one.warnings)")
        XCTAssertEqual(try read("model,task,score\na,a,1\n").warnings, [], "no warning when every row is about the study")
    }

    func testANameCloseToAStudyTaskAsksDidYouMean() throws {
        let study = ["cola", "mrpc", "rte", "emotion"]
        let text = "model,task,score\ncola,cola,1\ncloa,cloa,2\nmrpc,mrpc,3\nMRPC+rte,rte,4\nemotoin,emotoin,5\nsst2,sst2,6\nhate,hate,7\n"
        let warning = try XCTUnwrap(read(text, tasks: study).warnings.first?.text)
        XCTAssertTrue(warning.contains("5 rows name tasks outside this study (cloa, MRPC, emotoin, sst2, hate)"), warning)
        XCTAssertTrue(warning.hasSuffix("left out; did you mean cola instead of cloa, mrpc instead of MRPC, emotion instead of emotoin?"), warning)
        XCTAssertFalse(warning.contains("instead of hate") || warning.contains("instead of sst2"), warning)
        // Still a warning, not an error: the rows about the study are kept.
        XCTAssertEqual(try read(text, tasks: study).rows.count, 2)
    }

    func testAFileWithNoRowAboutTheStudyIsRefused() {
        let others = "model,task,score\nsst2,sst2,84\nhate,hate,42\nsst2+hate,sst2,60\nsst2+cola,sst2,61\n"
        assertRefused(others, "none of its 4 rows is about this study's tasks (cola, mrpc) alone: they name sst2, hate; "
                      + "is this the scores file of another study?", tasks: ["cola", "mrpc"])
        assertRefused("model,task,score\ncloa,cloa,1\n", "its one row is not about this study's tasks (cola, mrpc) alone: it names cloa; "
                      + "did you mean cola instead of cloa?", tasks: ["cola", "mrpc"])
    }

    /// Rows about other tasks are skipped only once they are known to be well formed.
    func testRowsOutsideTheStudyAreCheckedAsStrictly() {
        let study = ["cola", "mrpc"]
        let head = "model,task,score\ncola,cola,1\n"
        assertRefused(head + "sst2,cola,1\n", "line 3: model \"sst2\" does not fit task cola", tasks: study)
        assertRefused(head + "cola,sst2,1\n", "line 3: model cola is evaluated on sst2; a single adapter's score must be on its own task",
                      tasks: study)
        assertRefused(head + "sst2+hate,cola,1\n", "line 3: model \"sst2+hate\" does not fit task cola", tasks: study)
        assertRefused(head + "sst2+hate,irony,1\n", "line 3: model \"sst2+hate\" does not fit task irony", tasks: study)
        assertRefused(head + "cola+mrpc,sst2,1\n", "line 3: merge cola+mrpc is evaluated on sst2, which is neither of its tasks", tasks: study)
        assertRefused(head + "sst2+sst2,sst2,1\n", "line 3: model \"sst2+sst2\" does not fit task sst2", tasks: study)
        assertRefused(head + "sst2,sst2,high\n", "line 3: score \"high\" is not a finite number", tasks: study)
        assertRefused(head + "sst2,sst2\n", "line 3: 2 fields, the header has 3", tasks: study)
        assertRefused(head + "sst2,,1\n", "line 3: empty task", tasks: study)
        assertRefused(head + "hate+sst2,sst2,1\nsst2+hate,sst2,2\n", "line 4: duplicate score for sst2+hate on sst2 (first on line 3)",
                      tasks: study)
    }
}
