import Foundation
import TVGeoTestSupport
import XCTest

/// End-to-end: `--highlight` on analyze and report, and the study file's `highlight`.
final class HighlightCommandTests: XCTestCase {
    static let example = repositoryRoot + "/examples/minilm-glue8"
    static let adapters = ["cola", "mrpc", "rte"].map { example + "/adapters/" + $0 }
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("highlight-cli") }
    override func tearDown() { directory.remove() }

    func testUnknownHighlightsAreRefusedWithADidYouMean() throws {
        let report = try runTVGeo(["report", "-q"] + Self.adapters + ["--out", directory.path + "/never", "--highlight", "cola,mrcp"],
                                  in: directory.path)
        XCTAssertEqual(report.status, 64, report.stderr)
        XCTAssertTrue(report.stderr.contains(#"--highlight: no task "mrcp" in this study (did you mean mrpc?) (tasks: cola, mrpc, rte)"#),
                      report.stderr)
        let study = directory.write("study.json", text: #"{"adapters": ["\#(Self.adapters[0])", "\#(Self.adapters[1])"], "highlight": ["rtee"]}"#)
        let config = try runTVGeo(["report", "-q", "--config", study, "--out", directory.path + "/never"], in: directory.path)
        XCTAssertEqual(config.status, 65, config.stderr)
        XCTAssertTrue(config.stderr.contains(study + #": "highlight": no task "rtee" in this study"#), config.stderr)
        let wrongType = directory.write("type.json", text: #"{"adapters": ["\#(Self.adapters[0])"], "highlight": "cola"}"#)
        let typed = try runTVGeo(["report", "-q", "--config", wrongType, "--out", directory.path + "/never"], in: directory.path)
        XCTAssertEqual(typed.status, 65, typed.stderr)
        XCTAssertTrue(typed.stderr.contains(#""highlight": must be an array of strings"#), typed.stderr)
        let analyze = try runTVGeo(["analyze", "-q"] + Self.adapters + ["--out", directory.path + "/never", "--figures", "svg",
                                                                      "--highlight", "coal"], in: directory.path)
        XCTAssertEqual(analyze.status, 64, analyze.stderr)
        XCTAssertTrue(analyze.stderr.contains("(did you mean cola?)"), analyze.stderr)
        let noFigures = try runTVGeo(["analyze", "-q"] + Self.adapters + ["--out", directory.path + "/never", "--highlight", "cola"],
                                     in: directory.path)
        XCTAssertEqual(noFigures.status, 64, noFigures.stderr)
        XCTAssertTrue(noFigures.stderr.contains("--highlight applies to figures: add --figures svg,pdf,png"), noFigures.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"))
    }

    func testHighlightedTaskIsDrawnBoldInTheMaps() throws {
        let out = directory.path + "/analyzed"
        let result = try runTVGeo(["analyze", "-q"] + Self.adapters + ["--out", out, "--figures", "svg", "--highlight", "mrpc"],
                                  in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let svg = try String(contentsOfFile: out + "/figures/pca-cosine-value.svg", encoding: .utf8)
        let bold = svg.components(separatedBy: "<text").filter { $0.contains("font-weight=\"bold\"") }
        XCTAssertTrue(bold.contains { $0.contains(">mrpc</") }, "mrpc's label is bold")
        XCTAssertFalse(bold.contains { $0.contains(">cola</") || $0.contains(">rte</") }, "only mrpc is emphasised")

        let list = Self.adapters.map { "\"" + $0 + "\"" }.joined(separator: ", ")
        let study = directory.write("study.json", text: #"{"adapters": ["# + list + #"], "highlight": ["rte"]}"#)
        let report = directory.path + "/report"
        let run = try runTVGeo(["report", "-q", "--config", study, "--out", report, "--formats", "svg"], in: directory.path)
        XCTAssertEqual(run.status, 0, run.stderr)
        let mds = try String(contentsOfFile: report + "/figures/mds-cosine-value.svg", encoding: .utf8)
        XCTAssertTrue(mds.components(separatedBy: "<text").contains { $0.contains("font-weight=\"bold\"") && $0.contains(">rte</") })
    }
}
