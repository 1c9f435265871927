@testable import Charts
import XCTest

final class LabelPlacerTests: XCTestCase {
    /// A deterministic dense cloud: 40 points in 260 × 180 pt with labels of 6–14 characters.
    private func denseRequests() -> [LabelPlacer.Request] {
        var random = SplitMix64(seed: 42)
        let style = TextStyle(size: 8)
        return (0..<40).map { i in
            let anchor = Point(x: 20 + random.uniform() * 260, y: 20 + random.uniform() * 180)
            let text = "task-" + String(repeating: "x", count: i % 9) + String(i)
            let m = TextMeasurer.shared.measure(text, style: style)
            return LabelPlacer.Request(anchor: anchor, size: Size(width: m.width, height: m.height), markerRadius: 2.8)
        }
    }

    func testDenseCloudHasNoOverlaps() {
        let requests = denseRequests()
        let bounds = Rect(x: 0, y: 0, width: 420, height: 300)
        let placements = LabelPlacer(bounds: bounds).place(requests)
        XCTAssertEqual(placements.count, requests.count)
        let markers = requests.map { Rect(x: $0.anchor.x - 2.8, y: $0.anchor.y - 2.8, width: 5.6, height: 5.6) }
        for (i, p) in placements.enumerated() {
            XCTAssertEqual(p.conflict, 0, "label \(i) could not be placed cleanly")
            XCTAssertTrue(bounds.contains(p.rect), "label \(i) leaves the bounds")
            XCTAssertEqual(p.rect.width, requests[i].size.width, accuracy: 1e-9)
            for (j, q) in placements.enumerated() where j > i {
                XCTAssertFalse(p.rect.intersects(q.rect), "labels \(i) and \(j) overlap")
            }
            for (j, marker) in markers.enumerated() {
                XCTAssertFalse(p.rect.intersects(marker), "label \(i) covers point \(j)")
            }
        }
        XCTAssertTrue(placements.contains { !$0.needsLeader }, "most labels should sit next to their points")
    }

    func testPlacementIsDeterministic() {
        let requests = denseRequests()
        let bounds = Rect(x: 0, y: 0, width: 420, height: 300)
        XCTAssertEqual(LabelPlacer(bounds: bounds).place(requests), LabelPlacer(bounds: bounds).place(requests))
    }

    func testPrefersTheRightSideAndAvoidsObstacles() {
        let request = LabelPlacer.Request(anchor: Point(x: 50, y: 50), size: Size(width: 30, height: 10), markerRadius: 3)
        let free = LabelPlacer(bounds: Rect(x: 0, y: 0, width: 200, height: 100)).place([request])[0]
        XCTAssertGreaterThan(free.rect.minX, 50)
        XCTAssertEqual(free.rect.midY, 50, accuracy: 1e-9)
        let blocked = LabelPlacer(bounds: Rect(x: 0, y: 0, width: 200, height: 100),
                                  obstacles: [Rect(x: 52, y: 30, width: 60, height: 40)]).place([request])[0]
        XCTAssertLessThan(blocked.rect.maxX, 50)
        XCTAssertEqual(blocked.conflict, 0)
    }

    func testImpossibleCaseReportsConflictWithoutTrapping() {
        let requests = (0..<12).map { _ in
            LabelPlacer.Request(anchor: Point(x: 10, y: 10), size: Size(width: 15, height: 8), markerRadius: 2)
        }
        let placements = LabelPlacer(bounds: Rect(x: 0, y: 0, width: 20, height: 20)).place(requests)
        XCTAssertEqual(placements.count, 12)
        XCTAssertTrue(placements.contains { $0.conflict > 0 })
        XCTAssertTrue(LabelPlacer(bounds: .init(x: 0, y: 0, width: 1, height: 1)).place([]).isEmpty)
    }

    func testScatterWithManyPointsHasClearLabels() {
        var random = SplitMix64(seed: 7)
        let points = (0..<25).map { i in
            ScatterPoint(label: "task \(i)", x: random.normal(), y: random.normal(), group: i % 3 == 0 ? "A" : "B")
        }
        let scene = ScatterMap(points: points, xTitle: "MDS 1", yTitle: "MDS 2", title: "Dense").scene(width: FigureWidth.doubleColumn)
        assertTextIsClear(scene, name: "dense scatter")
        // Labels must not cover markers: markers are the paths stroked in white.
        let markers: [Rect] = scene.untitledMarks.compactMap { mark in
            if case .path(let path, let style) = mark, style.stroke == .white { return path.bounds }
            return nil
        }
        XCTAssertEqual(markers.count, 25)
        let labels = scene.textMarks.filter { $0.text.hasPrefix("task ") }.map { TextMeasurer.shared.bounds(of: $0) }
        XCTAssertEqual(labels.count, 25)
        for label in labels {
            for marker in markers { XCTAssertFalse(label.intersects(marker, tolerance: 0.01), "\(label) covers \(marker)") }
        }
    }
}
