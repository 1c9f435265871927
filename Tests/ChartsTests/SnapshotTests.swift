@testable import Charts
import XCTest

/// SVG snapshots (exact text) and PNG snapshots (per-pixel tolerance) of small charts.
/// Re-record with `TVGEO_RECORD_SNAPSHOTS=1 swift test --scratch-path .build-charts --filter ChartsTests.SnapshotTests`.
final class SnapshotTests: XCTestCase {
    let renderer = CairoRenderer()

    static func smallHeatmap() -> Heatmap {
        Heatmap(values: [[0, 0.42, .nan], [0.42, 0, 0.9], [.nan, 0.9, 0]], labels: ["cola", "émotion", "θ-task"],
                title: "Distances", subtitle: "3 tasks", annotate: true, colorBarTitle: "distance")
    }

    static func smallScatter() -> ScatterMap {
        ScatterMap(points: [
            ScatterPoint(label: "cola", x: -1.2, y: 0.3, group: "GLUE"), ScatterPoint(label: "mrpc", x: -0.9, y: 0.1, group: "GLUE"),
            ScatterPoint(label: "hate", x: 1.1, y: -0.2, group: "TweetEval"), ScatterPoint(label: "irony", x: 1.3, y: 0.4, group: "TweetEval"),
            ScatterPoint(label: "θ-task", x: 0.1, y: -0.6),
        ], xTitle: ScatterMap.componentTitle(index: 1, explainedVariance: 0.623),
           yTitle: ScatterMap.componentTitle(index: 2, explainedVariance: 0.211), title: "PCA")
    }

    static func smallProfile() -> LayerProfile {
        LayerProfile(series: [
            LayerSeries(name: "cola–mrpc", values: [0.1, 0.15, 0.2, 0.3, 0.35, 0.5]),
            LayerSeries(name: "hate–irony", values: [0.2, 0.2, .nan, 0.4, 0.5, 0.6]),
            LayerSeries(name: "sst2–rte", values: [0.3, 0.28, 0.33, 0.45, 0.52, 0.7]),
        ], yTitle: "Distance", title: "By layer", band: .meanAndStandardDeviation)
    }

    static func smallTable() -> TableData {
        TableData.meanAndStd(rowHeaders: ["query", "value"], columnHeaders: ["cosine", "CKA"],
                             means: [[0.61, 0.72], [0.55, 0.41]], stds: [[0.05, 0.04], [0.07, 0.09]],
                             cornerHeader: "Module", title: "Correlations")
    }

    func testHeatmapSVG() throws {
        let svg = try renderer.render(Self.smallHeatmap().scene(), format: .svg, figureID: "snap-heatmap")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "heatmap.svg")
    }

    func testScatterSVG() throws {
        let svg = try renderer.render(Self.smallScatter().scene(), format: .svg, figureID: "snap-scatter")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "scatter.svg")
    }

    func testLayerProfileSVG() throws {
        let svg = try renderer.render(Self.smallProfile().scene(), format: .svg, figureID: "snap-profile")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "layer-profile.svg")
    }

    func testTableSVG() throws {
        let svg = try renderer.render(TableFigure(Self.smallTable()).scene(), format: .svg, figureID: "snap-table")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "table.svg")
    }

    static func smallRelation() -> ScatterMap {
        let points = [(0.1, 0.2), (0.25, 0.3), (0.3, 0.28), (0.5, 0.55), (0.62, 0.5), (0.8, 0.9), (.nan, 0.4)].enumerated().map { i, p in
            ScatterPoint(label: "p\(i)", x: p.0, y: p.1)
        }
        return .relation(points, xTitle: "Cosine distance", yTitle: "Merge loss", title: "Merge loss",
                         note: ["Spearman ρ = 0.94 (n = 6)"], trendLine: true)
    }

    func testRelationSVG() throws {
        let svg = try renderer.render(Self.smallRelation().scene(), format: .svg, figureID: "snap-relation")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "relation.svg")
    }

    func testHeatmapPNG() throws {
        let png = try renderer.render(Self.smallHeatmap().scene(), format: .png(scale: 1), figureID: "snap")
        try assertPNGSnapshot(png, named: "heatmap.png")
    }

    func testScatterPNG() throws {
        let png = try renderer.render(Self.smallScatter().scene(), format: .png, figureID: "snap")
        try assertPNGSnapshot(png, named: "scatter.png")
    }

    func testDifferenceReportPointsAtTheFirstDifferingLine() {
        let report = firstDifference(expected: "a\nb\nc\nd", actual: "a\nb\nX\nd")
        XCTAssertTrue(report.contains("first difference at line 3"))
        XCTAssertTrue(report.contains("-  3  c"))
        XCTAssertTrue(report.contains("+  3  X"))
        XCTAssertTrue(report.contains("   2  b"))
        XCTAssertFalse(report.contains("4  d"), "equal lines after the difference are not shown as changed")
        XCTAssertTrue(firstDifference(expected: "a", actual: "a\nmore").contains("+  2  more"))
    }

    func testPixelComparisonTolerance() throws {
        let scene = Self.smallHeatmap().scene()
        let a = try RasterImage(png: renderer.render(scene, format: .png(scale: 1), figureID: "p"))
        XCTAssertEqual(a.difference(from: a, tolerance: 0)?.differingPixels, 0)
        var moved = scene
        moved.marks.append(.rect(Rect(x: 0, y: 0, width: 10, height: 10), .fill(.black)))
        let b = try RasterImage(png: renderer.render(moved, format: .png(scale: 1), figureID: "p"))
        let difference = try XCTUnwrap(a.difference(from: b, tolerance: 24))
        XCTAssertGreaterThanOrEqual(difference.differingPixels, 90)
        XCTAssertEqual(difference.maximumChannelDelta, 255)
        let other = try RasterImage(png: renderer.render(scene, format: .png(scale: 2), figureID: "p"))
        XCTAssertNil(a.difference(from: other, tolerance: 0))
        XCTAssertThrowsError(try RasterImage(png: Data("not a png".utf8)))
    }
}
