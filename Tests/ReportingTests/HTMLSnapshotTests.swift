import Charts
import Foundation
import Reporting
import Study
import TVGeoTestSupport
import XCTest

/// The HTML page of a small report (one metric, one module, figures left out) as a text snapshot:
/// a change to the templates or the document shows as a diff. Re-record with
/// `TVGEO_RECORD_SNAPSHOTS=1 swift test --filter ReportingTests.HTMLSnapshotTests`.
final class HTMLSnapshotTests: XCTestCase {
    func testSmallReportPage() throws {
        let (analysis, findings) = ExampleStudy.result
        let document = ReportBuilder.build(name: "minilm-glue8", analysis: analysis.restricted(toModules: ["value"]), findings: findings,
                                           settings: ReportSettings(metrics: [.cosine]), provenance: ExampleStudy.provenance)
        // The clone's location is the one thing that differs between machines.
        let html = try HTMLReport.render(document, templates: ReportTemplateSet.load(), svg: [:],
                                         files: ["correlations": ["tables/correlations.tex", "tables/correlations.csv"]])
            .replacingOccurrences(of: repositoryRoot, with: "<repository>")
        let path = repositoryRoot + "/Tests/ReportingTests/__Snapshots__/report-cosine-value.html"
        if ProcessInfo.processInfo.environment["TVGEO_RECORD_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: path) {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
            XCTFail("recorded \(path); check it and run again")
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        guard html != expected else { return }
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false), b = html.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        XCTFail("report-cosine-value.html differs at line \(line + 1):\n- \(line < a.count ? a[line] : "")\n+ \(line < b.count ? b[line] : "")")
    }
}
