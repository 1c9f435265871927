import Foundation
import TVGeoTestSupport
import XCTest

/// The study file of docs/report.md runs as written.
final class DocumentedStudyFileTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory("documented-study") }
    override func tearDown() { directory.remove() }

    /// The JSON block of the section "The study file", as the page shows it.
    func documentedStudyFile() throws -> String {
        let page = try String(contentsOfFile: repositoryRoot + "/docs/report.md", encoding: .utf8)
        let section = try XCTUnwrap(page.range(of: "## The study file"), "docs/report.md has a section \"The study file\"")
        let rest = page[section.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```json\n"))
        let close = try XCTUnwrap(rest[open.upperBound...].range(of: "```"))
        return String(rest[open.upperBound..<close.lowerBound])
    }

    /// The page says to save the file as examples/minilm-glue8/study.json: here that folder is a
    /// copy whose adapters and scores.csv are links to the repository's, so the JSON is written
    /// byte for byte and its relative paths (and `out`, "../reports/minilm") resolve as they would there.
    func testTheStudyFileOfTheReportPageRuns() throws {
        let example = repositoryRoot + "/examples/minilm-glue8"
        let folder = directory.path + "/examples/minilm-glue8"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/adapters", withDestinationPath: example + "/adapters")
        try FileManager.default.createSymbolicLink(atPath: folder + "/scores.csv", withDestinationPath: example + "/scores.csv")
        let study = directory.write("examples/minilm-glue8/study.json", text: try documentedStudyFile())

        let result = try runTVGeo(["report", "--config", study], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        // The example's scores cover eight tasks: the rows about the four outside the study are left out.
        let warning = folder + "/scores.csv: 48 rows name tasks outside this study (emotion, hate, irony, offensive) and are left out"
        XCTAssertEqual(result.stderr, "tvgeo: warning: " + warning + "\n")
        XCTAssertFalse(result.stdout.contains("no metric has a defined correlation"), "four tasks: three merge partners each\n" + result.stdout)
        let out = directory.path + "/examples/reports/minilm"
        for file in ["report.html", "report.pdf", "tables/correlations.tex", "figures/heatmap-cosine-value.pdf"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("MiniLM on GLUE"))
        XCTAssertTrue(html.contains("48 rows name tasks outside this study"), "the warning is listed under Inputs")
    }
}
