@testable import Charts
import XCTest

final class ScatterMapTests: XCTestCase {
    /// Marker centres, in drawing order (markers are the paths outlined in white).
    private func markerCenters(_ scene: Scene) -> [Point] {
        scene.marks.compactMap { mark in
            if case .path(let path, let style) = mark, style.stroke == .white, let b = path.bounds { return b.center }
            return nil
        }
    }

    func testAxisTitlesCarryExplainedVariance() {
        XCTAssertEqual(ScatterMap.componentTitle(index: 1, explainedVariance: 0.623), "PC1 (62.3 %)")
        XCTAssertEqual(ScatterMap.componentTitle("MDS", index: 2, explainedVariance: nil), "MDS2")
        XCTAssertEqual(ScatterMap.componentTitle(index: 3, explainedVariance: .nan), "PC3")
    }

    func testEqualAspectKeepsOneUnitEqualOnBothAxes() {
        let points = [ScatterPoint(label: "a", x: 0, y: 0), ScatterPoint(label: "b", x: 4, y: 1), ScatterPoint(label: "c", x: 1, y: 3)]
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            let centers = markerCenters(ScatterMap(points: points).scene(width: width))
            XCTAssertEqual(centers.count, 3)
            let xUnit = (centers[1].x - centers[0].x) / 4
            let yUnit = (centers[0].y - centers[2].y) / 3
            XCTAssertEqual(xUnit, yUnit, accuracy: 1e-6 * xUnit)
        }
        // Very flat data: the y range is widened rather than squashing the plot.
        let flat = (0..<5).map { ScatterPoint(label: "p\($0)", x: Double($0), y: 0.01 * Double($0 % 2)) }
        let centers = markerCenters(ScatterMap(points: flat).scene())
        XCTAssertEqual(centers.count, 5)
    }

    func testUnequalAspectUsesTheFullWidth() {
        let points = [ScatterPoint(label: "a", x: 0, y: 0), ScatterPoint(label: "b", x: 100, y: 1)]
        var map = ScatterMap(points: points)
        map.equalAspect = false
        let centers = markerCenters(map.scene())
        XCTAssertGreaterThan(centers[0].y - centers[1].y, 50, "y spread uses the plot height")
    }

    func testGroupsGetColoursShapesAndALegend() {
        let points = [
            ScatterPoint(label: "cola", x: 0, y: 0, group: "GLUE"), ScatterPoint(label: "hate", x: 1, y: 1, group: "TweetEval"),
            ScatterPoint(label: "mrpc", x: 0.5, y: 0.2, group: "GLUE"),
        ]
        let map = ScatterMap(points: points)
        XCTAssertEqual(map.groups, ["GLUE", "TweetEval"])
        let scene = map.scene()
        XCTAssertTrue(scene.textMarks.contains { $0.text == "GLUE" })
        XCTAssertTrue(scene.textMarks.contains { $0.text == "TweetEval" })
        let fills = Set(scene.marks.compactMap { mark -> Paint? in
            if case .path(_, let style) = mark, style.stroke == .white { return style.fill }
            return nil
        })
        XCTAssertEqual(fills.count, 2)
        assertTextIsClear(scene)
    }

    func testNonFinitePointsAreLeftOutAndCounted() throws {
        let points = [
            ScatterPoint(label: "ok", x: 0, y: 0), ScatterPoint(label: "nan", x: .nan, y: 1),
            ScatterPoint(label: "inf", x: 1, y: .infinity), ScatterPoint(label: "ok2", x: 1, y: 1),
        ]
        let scene = ScatterMap(points: points, xTitle: "PC1", yTitle: "PC2").scene()
        XCTAssertEqual(markerCenters(scene).count, 2)
        XCTAssertTrue(scene.textMarks.contains { $0.text.contains("2 points with non-finite coordinates not shown") })
        XCTAssertFalse(scene.textMarks.contains { $0.text == "nan" })
        _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "s"))
    }

    func testEmptyAndSinglePointMapsRender() throws {
        for points in [[], [ScatterPoint(label: "θ-task", x: 3, y: 3)]] {
            let scene = ScatterMap(points: points, xTitle: "x", yTitle: "y").scene()
            XCTAssertGreaterThan(scene.size.height, 50)
            assertTextIsClear(scene)
            _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "s"))
        }
    }
}
