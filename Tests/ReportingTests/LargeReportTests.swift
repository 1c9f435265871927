import AnalysisCore
import Charts
import Foundation
@testable import Reporting
import Study
import TVGeoTestSupport
import XCTest

/// A study of 48 small adapters (over `FigureDensity.largeTaskCount`): the report's maps label what
/// fits and list every task in tables/maps-…, profiles are bands, pair scatters are binned.
final class LargeReportTests: XCTestCase {
    static let taskCount = 48

    static let result: (StudyAnalysis, StudyFindings) = {
        let directory = TemporaryDirectory("large-report")
        defer { directory.remove() }
        var random = SeededRandom(seed: 48)
        let (d, r) = (12, 2)
        var paths: [String] = []
        for t in 0..<taskCount {
            var adapter = AdapterFixture(rank: r, alpha: 4)
            for layer in 0..<3 {
                for module in ["query", "value"] {
                    adapter.addModule(layer: layer, module: module, b: random.gaussians(d * r), a: random.gaussians(r * d),
                                      outFeatures: d, inFeatures: d)
                }
            }
            paths.append(adapter.write(into: directory, name: "task_\(t)"))
        }
        var request = ReportRequest()
        request.adapters = paths
        return try! request.studyInput().run { _, _ in }
    }()

    func testMapsLabelWhatFitsAndTheTableListsEveryTask() throws {
        let (analysis, findings) = Self.result
        XCTAssertTrue(FigureDensity.isLarge(taskCount: analysis.tasks.count))
        var settings = ReportSettings(metrics: [.cosine, .grassmann, .l2])
        settings.highlighted = [5, 40]
        let document = ReportBuilder.build(name: "large", analysis: analysis, findings: findings, settings: settings,
                                           provenance: ExampleStudy.provenance)
        for module in analysis.modules {
            let table = try XCTUnwrap(document.tables.first { $0.name == "maps-cosine-\(analysis.fileComponent(ofModule: module))" })
            XCTAssertEqual(table.data.rows.map(\.header), analysis.tasks, "every task is listed")
            XCTAssertEqual(table.data.columnHeaders, ["cluster", "pc1", "pc2", "pca_labelled", "mds1", "mds2", "mds_labelled"])
            for (kind, column) in [("pca", 3), ("mds", 6)] {
                let figure = try XCTUnwrap(document.figures.first { $0.name == "\(kind)-cosine-\(analysis.fileComponent(ofModule: module))" })
                let drawn = Set(figure.scene.textMarks.map(\.text).filter { $0.hasPrefix("task_") })
                let flagged = Set(table.data.rows.filter { $0.cells[column].text == "yes" }.map(\.header))
                XCTAssertEqual(drawn, flagged, "\(kind) \(module): the table says which names the map draws")
                XCTAssertTrue(flagged.isSuperset(of: ["task_5", "task_40"]), "highlighted tasks are always labelled")
                XCTAssertTrue(figure.caption.contains("tables/maps-cosine-"), figure.caption)
            }
            // Clusters: the findings' cut, numbered from 1 in the table and the maps' legend.
            let clusters = try XCTUnwrap(findings.clusters[.cosine]?[module], "the study clusters every metric and module")
            XCTAssertEqual(table.data.rows.map { $0.cells[0].text }, clusters.labels.map { "\($0 + 1)" })
            let pcaFigure = try XCTUnwrap(document.figures.first { $0.name == "pca-cosine-\(analysis.fileComponent(ofModule: module))" })
            for c in 0..<clusters.count {
                let size = clusters.labels.filter { $0 == c }.count
                XCTAssertTrue(pcaFigure.scene.textMarks.contains { $0.text == "cluster \(c + 1) (\(size))" }, "legend entry of cluster \(c + 1)")
            }
            // The PCA coordinates in the table are the findings' (full precision in the CSV).
            let pca = try XCTUnwrap(findings.pca[.cosine]?[module])
            for (i, row) in table.data.rows.enumerated() {
                XCTAssertTrue(isClose(try XCTUnwrap(row.cells[1].value), pca.coordinates[i][0]))
                XCTAssertTrue(isClose(try XCTUnwrap(row.cells[2].value), pca.coordinates[i][1]))
            }
            // The profile is bands (the median's legend), not one line per task.
            let profile = try XCTUnwrap(document.figures.first { $0.name == "profile-cosine-\(analysis.fileComponent(ofModule: module))" })
            XCTAssertTrue(profile.scene.textMarks.contains { $0.text == "median of \(Self.taskCount)" })
            XCTAssertEqual(Set(profile.scene.textMarks.map(\.text).filter { $0.hasPrefix("task_") }), ["task_5", "task_40"])
            // The hierarchy figures bin the pairs: no tooltip (one per point) left.
            let hierarchy = try XCTUnwrap(document.figures.first { $0.name.hasPrefix("hierarchy-grassmann-cosine-") })
            XCTAssertFalse(hierarchy.scene.marks.contains { if case .titled = $0 { return true } else { return false } })
            XCTAssertTrue(hierarchy.scene.textMarks.contains { $0.text == "pairs per cell" })
        }
    }

    func testSmallStudiesWriteNoMapTable() {
        XCTAssertFalse(ExampleStudy.document().tables.contains { $0.name.hasPrefix("maps-") })
    }
}
