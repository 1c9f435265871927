@testable import Charts
import XCTest

final class ScatterMapTests: XCTestCase {
    /// Marker centres, in drawing order (markers are the paths outlined in white).
    private func markerCenters(_ scene: Scene) -> [Point] {
        scene.untitledMarks.compactMap { mark in
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
        let fills = Set(scene.untitledMarks.compactMap { mark -> Paint? in
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

    // MARK: Unlabelled relations (one point per task pair) with a note box and a trend line

    /// The dashed trend line's end points, if drawn (inside a clip to the plot).
    private func trendLine(_ scene: Scene) -> (Point, Point)? {
        for mark in scene.untitledMarks {
            if case .clipped(_, let inner) = mark, case .path(let path, let style)? = inner.first, style.dash == ScatterLayout.trendStyle.dash,
               case .move(let a) = path.elements[0], case .line(let b) = path.elements[1] {
                return (a, b)
            }
        }
        return nil
    }

    /// The note box frame: the translucent white rectangle.
    private func noteFrame(_ scene: Scene) -> Rect? {
        scene.untitledMarks.compactMap { mark -> Rect? in
            if case .rect(let rect, let style) = mark, case .color(let c)? = style.fill, c.alpha < 1, c.red == 1 { return rect }
            return nil
        }.first
    }

    private static func relationPoints(_ n: Int) -> [ScatterPoint] {
        (0..<n).map { i in
            let x = Double(i) / Double(n)
            return ScatterPoint(label: "pair \(i)", x: x, y: 0.3 + 0.5 * x + 0.05 * sin(Double(i) * 1.7))
        }
    }

    func testRelationDrawsNoLabelsANoteInAnEmptyCornerAndATrend() throws {
        let map = ScatterMap.relation(Self.relationPoints(36), xTitle: "Cosine distance", yTitle: "Merge loss δ(i, j)",
                                      title: "Merge loss", note: ["Spearman ρ = 0.48 (n = 28)"], trendLine: true)
        XCTAssertFalse(map.equalAspect)
        XCTAssertFalse(map.showOrigin)
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            let scene = map.scene(width: width)
            XCTAssertEqual(markerCenters(scene).count, 36)
            XCTAssertFalse(scene.textMarks.contains { $0.text.hasPrefix("pair") }, "points are not labelled")
            XCTAssertTrue(scene.textMarks.contains { $0.text == "Spearman ρ = 0.48 (n = 28)" })
            XCTAssertTrue(scene.textMarks.contains { $0.text == "least-squares fit" })
            let frame = try XCTUnwrap(noteFrame(scene))
            XCTAssertTrue(markerCenters(scene).allSatisfy { !frame.contains($0) }, "a rising cloud leaves the top-left corner free")
            let (a, b) = try XCTUnwrap(trendLine(scene))
            XCTAssertLessThan(b.y, a.y, "a rising trend")
            assertTextIsClear(scene, name: "relation \(width)")
        }
    }

    func testTrendLineIsTheLeastSquaresFit() throws {
        let points = [ScatterPoint(label: "", x: 0, y: 1), ScatterPoint(label: "", x: 1, y: 3), ScatterPoint(label: "", x: 2, y: 5)]
        let scene = ScatterMap.relation(points, xTitle: "x", yTitle: "y", trendLine: true).scene()
        let centers = markerCenters(scene)
        let (a, b) = try XCTUnwrap(trendLine(scene))
        // Every point lies on the drawn line.
        for c in centers {
            let t = (c.x - a.x) / (b.x - a.x)
            XCTAssertEqual(a.y + t * (b.y - a.y), c.y, accuracy: 1e-6)
        }
        let fit = try XCTUnwrap(LeastSquaresLine([(0, 1), (1, 3), (2, 5)]))
        XCTAssertEqual(fit.slope, 2, accuracy: 1e-12)
        XCTAssertEqual(fit.intercept, 1, accuracy: 1e-12)
        XCTAssertNil(LeastSquaresLine([(1, 1), (1, 2)]))
        XCTAssertNil(LeastSquaresLine([(1, 1), (.nan, 2)]))
    }

    func testRelationEdgeCases() throws {
        let cases: [(String, [ScatterPoint])] = [
            ("empty", []),
            ("all NaN", [ScatterPoint(label: "", x: .nan, y: 1), ScatterPoint(label: "", x: 0, y: .nan),
                         ScatterPoint(label: "", x: .infinity, y: 0)]),
            ("constant x", (0..<10).map { ScatterPoint(label: "", x: 0.5, y: Double($0)) }),
            ("one point", [ScatterPoint(label: "", x: 0.5, y: 0.5)]),
        ]
        for (name, points) in cases {
            let scene = ScatterMap.relation(points, xTitle: "x", yTitle: "y", note: ["Spearman ρ = – (n = 0)"], trendLine: true).scene()
            XCTAssertNil(trendLine(scene), "\(name): no trend line without two distinct x")
            XCTAssertNotNil(noteFrame(scene), name)
            XCTAssertTrue(scene.textMarks.contains { $0.text == "Spearman ρ = – (n = 0)" }, name)
            XCTAssertFalse(scene.textMarks.contains { $0.text == "least-squares fit" }, name)
            assertTextIsClear(scene, name: name)
            _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "r"))
        }
        let nan = ScatterMap.relation(cases[1].1, xTitle: "x", yTitle: "y").scene()
        XCTAssertTrue(nan.textMarks.contains { $0.text == "3 points with non-finite coordinates not shown" })
        XCTAssertEqual(markerCenters(nan).count, 0)
    }

    func testANoteTooLargeForThePlotGoesUnderIt() {
        var map = ScatterMap.relation(Self.relationPoints(5), xTitle: "x", yTitle: "y", note: (0..<30).map { "line \($0)" })
        map.points.append(ScatterPoint(label: "", x: .nan, y: 0))
        let scene = map.scene()
        XCTAssertNil(noteFrame(scene))
        let notes = scene.textMarks.filter { $0.text.hasPrefix("line ") || $0.text.contains("non-finite") }
        XCTAssertEqual(notes.count, 31)
        assertTextIsClear(scene)
    }
}
