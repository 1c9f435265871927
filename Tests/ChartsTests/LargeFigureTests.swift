@testable import Charts
import Foundation
import XCTest

/// The large-N forms (`FigureDensity.isLarge`): maps that label only what fits, layer profiles as
/// quantile bands, relations as binned densities.
final class LargeFigureTests: XCTestCase {
    let renderer = CairoRenderer()

    /// 500 tasks in 6 Gaussian clusters (seeded), three of them highlighted.
    static func largeMap(count: Int = 500, highlighted: Set<Int> = [7, 123, 499]) -> ScatterMap {
        var random = SplitMix64(seed: 16)
        let centres = [(-3.0, -1.0), (-1.0, 2.0), (0.5, -2.0), (2.0, 1.0), (3.5, -0.5), (0.0, 0.3)]
        let points = (0..<count).map { i -> ScatterPoint in
            let cluster = i % centres.count
            // Box–Muller from two uniforms.
            let u1 = max(random.uniform(), 1e-12), u2 = random.uniform()
            let radius = (-2 * log(u1)).squareRoot() * 0.7
            return ScatterPoint(label: "task_\(i)", x: centres[cluster].0 + radius * cos(2 * .pi * u2),
                                y: centres[cluster].1 + radius * sin(2 * .pi * u2), cluster: cluster,
                                highlighted: highlighted.contains(i))
        }
        return ScatterMap(points: points, xTitle: "PC1 (41.0 %)", yTitle: "PC2 (22.0 %)", title: "PCA · cosine · query",
                          subtitle: "500 tasks")
    }

    /// 500 series over 12 layers: value = layer · slope + offset, so every layer's quantiles are known.
    static func largeProfile(count: Int = 500) -> LayerProfile {
        var random = SplitMix64(seed: 7)
        let series = (0..<count).map { i in
            let slope = 0.02 + 0.03 * random.uniform(), offset = 0.3 + 0.2 * random.uniform()
            return LayerSeries(name: "task_\(i)", values: (0..<12).map { offset + slope * Double($0) }, highlighted: i == 3 || i == 42)
        }
        var profile = LayerProfile(series: series, yTitle: "mean distance to the others", title: "Layer profile · cosine · query",
                                   subtitle: "median and quantile bands over 500 tasks")
        profile.markers = true
        return profile
    }

    func testThresholdIsOneConstant() {
        XCTAssertFalse(FigureDensity.isLarge(taskCount: FigureDensity.largeTaskCount))
        XCTAssertTrue(FigureDensity.isLarge(taskCount: FigureDensity.largeTaskCount + 1))
        XCTAssertFalse(SnapshotTests.smallScatter().isLarge)
        XCTAssertTrue(Self.largeMap().isLarge)
        XCTAssertFalse(ScatterMap.relation(Self.largeMap().points, xTitle: nil, yTitle: nil).isLarge, "relations draw no labels")
    }

    func testLargeMapLabelsOnlyWhatFitsAndAlwaysTheHighlighted() throws {
        let map = Self.largeMap()
        let started = Date()
        let (scene, labelled) = map.layout(width: FigureWidth.singleColumn)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(labelled.count, 500)
        // No two texts overlap (labels, ticks, titles, legend, note) and nothing leaves the page.
        assertTextIsClear(scene, name: "large map")
        // Every highlighted task is labelled, in bold; the labels drawn are exactly the flagged ones.
        for i in [7, 123, 499] { XCTAssertTrue(labelled[i], "highlighted task_\(i) unlabelled") }
        let labelTexts = scene.textMarks.filter { $0.text.hasPrefix("task_") }
        XCTAssertEqual(Set(labelTexts.map(\.text)), Set(labelled.indices.filter { labelled[$0] }.map { "task_\($0)" }))
        XCTAssertEqual(labelTexts.filter { $0.style.weight == .bold }.map(\.text).sorted(), ["task_123", "task_499", "task_7"])
        // Some but not all fit; the note under the plot counts them.
        let count = labelled.filter { $0 }.count
        XCTAssertGreaterThan(count, 5)
        XCTAssertLessThan(count, 100)
        XCTAssertTrue(scene.textMarks.contains { $0.text.hasPrefix("\(count) of 500 points labelled") })
        // One legend entry per cluster, with its size.
        XCTAssertTrue(scene.textMarks.contains { $0.text == "cluster 1 (84)" }, scene.textMarks.map(\.text).prefix(20).description)
        XCTAssertTrue(scene.textMarks.contains { $0.text == "cluster 6 (83)" })
        XCTAssertLessThan(seconds, 20, "laying out 500 labelled points took \(seconds) s")
    }

    func testLargeMapDrawsHighlightedPointsLastAndLarger() {
        let scene = Self.largeMap().scene()
        // Highlighted markers are the ones outlined in dark grey; they come after every other marker.
        var outlines: [Color?] = []
        func walk(_ marks: [Mark]) {
            for mark in marks {
                switch mark {
                case .path(_, let style) where style.fill != nil && style.stroke != nil: outlines.append(style.stroke)
                case .titled(_, let inner), .clipped(_, let inner), .group(_, let inner): walk(inner)
                default: break
                }
            }
        }
        walk(scene.marks)
        let dark = Color(hex: 0x1A1A1A)
        XCTAssertEqual(outlines.filter { $0 == dark }.count, 3)
        XCTAssertEqual(Array(outlines.suffix(3)), [dark, dark, dark])
    }

    func testLabelPlacerScalesAndLeavesOutWhatDoesNotFit() {
        var random = SplitMix64(seed: 3)
        let style = TextStyle(size: 7)
        let size = TextMeasurer.shared.measure("task_000", style: style)
        let requests = (0..<2000).map { i in
            LabelPlacer.Request(anchor: Point(x: 10 + random.uniform() * 480, y: 10 + random.uniform() * 380),
                                size: Size(width: size.width, height: size.height), markerRadius: 1.8, required: i % 500 == 0)
        }
        let bounds = Rect(x: 0, y: 0, width: 500, height: 400)
        let started = Date()
        let placements = LabelPlacer(bounds: bounds, omitsUnplaceable: true).placeOptional(requests)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        let placed = placements.indices.filter { placements[$0] != nil }
        XCTAssertGreaterThan(placed.count, 10)
        for i in stride(from: 0, to: 2000, by: 500) { XCTAssertNotNil(placements[i], "required label \(i) left out") }
        let markers = requests.map { Rect(x: $0.anchor.x - 1.8, y: $0.anchor.y - 1.8, width: 3.6, height: 3.6) }
        for i in placed where !requests[i].required {
            let rect = placements[i]!.rect
            XCTAssertEqual(placements[i]!.conflict, 0)
            XCTAssertFalse(placements[i]!.needsLeader)
            XCTAssertTrue(bounds.contains(rect))
            for j in placed where j != i { XCTAssertFalse(rect.intersects(placements[j]!.rect), "labels \(i) and \(j) overlap") }
            for (j, marker) in markers.enumerated() { XCTAssertFalse(rect.intersects(marker), "label \(i) covers point \(j)") }
        }
    }

    func testQuantilesEqualIndependentlyComputedOnes() {
        // NumPy: np.quantile(np.arange(1, 11), [.1, .25, .5, .75, .9]) = 1.9, 3.25, 5.5, 7.75, 9.1.
        let values = (1...10).map(Double.init)
        for (level, expected) in [(0.1, 1.9), (0.25, 3.25), (0.5, 5.5), (0.75, 7.75), (0.9, 9.1), (0, 1), (1, 10)] {
            XCTAssertEqual(LayerProfile.quantile(sorted: values, level), expected, accuracy: 1e-12, "level \(level)")
        }
        XCTAssertTrue(LayerProfile.quantile(sorted: [], 0.5).isNaN)
        XCTAssertEqual(LayerProfile.quantile(sorted: [4], 0.9), 4)
        // Per layer, against a direct count: a value v is the q-quantile when (n − 1) · q lies between
        // the ranks around v; checked here by interpolating the ranks by hand, shuffled input, NaN left out.
        let series = [[0.5, 3, .nan], [0.1, 1, 2], [0.9, .nan, 4], [0.3, 2, 8], [0.7, 5, 6]].enumerated().map { i, v in
            LayerSeries(name: "s\(i)", values: v)
        }
        var profile = LayerProfile(series: series)
        profile.largeForm = true
        let rows = profile.quantileRows
        XCTAssertEqual(rows.map(\.x), [0, 1, 2])
        XCTAssertEqual(rows.map(\.count), [5, 4, 4])
        // Layer 0: sorted 0.1 0.3 0.5 0.7 0.9; positions 0.4, 1, 2, 3, 3.6.
        XCTAssertEqual(rows[0].outerLower, 0.1 + 0.4 * 0.2, accuracy: 1e-12)
        XCTAssertEqual(rows[0].innerLower, 0.3, accuracy: 1e-12)
        XCTAssertEqual(rows[0].median, 0.5, accuracy: 1e-12)
        XCTAssertEqual(rows[0].innerUpper, 0.7, accuracy: 1e-12)
        XCTAssertEqual(rows[0].outerUpper, 0.7 + 0.6 * 0.2, accuracy: 1e-12)
        // Layer 1: sorted 1 2 3 5; positions 0.3, 0.75, 1.5, 2.25, 2.7.
        XCTAssertEqual(rows[1].outerLower, 1.3, accuracy: 1e-12)
        XCTAssertEqual(rows[1].innerLower, 1.75, accuracy: 1e-12)
        XCTAssertEqual(rows[1].median, 2.5, accuracy: 1e-12)
        XCTAssertEqual(rows[1].innerUpper, 3.5, accuracy: 1e-12)
        XCTAssertEqual(rows[1].outerUpper, 3 + 0.7 * 2, accuracy: 1e-12)
        // Layer 2: sorted 2 4 6 8.
        XCTAssertEqual(rows[2].median, 5, accuracy: 1e-12)
        XCTAssertEqual(rows[2].outerUpper, 6 + 0.7 * 2, accuracy: 1e-12)
    }

    func testLargeProfileDrawsBandsAndOnlyTheHighlightedLines() throws {
        let profile = Self.largeProfile()
        XCTAssertTrue(profile.isLarge)
        let scene = profile.scene(width: FigureWidth.doubleColumn)
        assertTextIsClear(scene, name: "large profile")
        assertMarksInsidePage(scene, name: "large profile")
        let texts = Set(scene.textMarks.map(\.text))
        XCTAssertTrue(texts.isSuperset(of: ["median of 500", "25–75 %", "10–90 %", "task_3", "task_42"]), "\(texts)")
        XCTAssertFalse(texts.contains("task_0"))
        // Two band polygons, the median and two highlighted lines: far fewer paths than 500 series.
        let polylines = scene.untitledMarks.filter { if case .path(_, let s) = $0 { return s.stroke != nil && s.fill == nil } else { return false } }
        XCTAssertLessThan(polylines.count, 40)
    }

    func testDensityRelationBinsEveryPointOnce() {
        var random = SplitMix64(seed: 5)
        let points = (0..<20_000).map { i -> ScatterPoint in
            let x = random.uniform()
            return ScatterPoint(label: "p\(i)", x: x, y: x * 0.8 + 0.2 * random.uniform())
        }
        var map = ScatterMap.relation(points, xTitle: "cosine", yTitle: "Grassmann", title: "Grassmann against cosine",
                                      note: ["Spearman ρ = 0.97 (n = 20000)"], trendLine: true)
        map.densityBins = 60
        let scene = map.scene()
        assertTextIsClear(scene, name: "density")
        let cells = scene.untitledMarks.filter { if case .rect(_, let s) = $0 { return s.stroke == nil && s.fill != nil } else { return false } }
        XCTAssertGreaterThan(cells.count, 100)
        XCTAssertLessThanOrEqual(cells.count, 60 * 60 + 2)
        XCTAssertFalse(scene.marks.contains { if case .titled = $0 { return true } else { return false } }, "no per-point marks")
        // The note box may wrap its line.
        let texts = scene.textMarks.map { $0.text.replacingOccurrences(of: "\n", with: " ") }
        XCTAssertTrue(texts.contains("points per cell"), "\(texts)")
        XCTAssertTrue(texts.contains("Spearman ρ = 0.97 (n = 20000)"), "\(texts)")
        XCTAssertTrue(texts.contains("least-squares fit"))
    }

    func testLargeMapSVGSnapshot() throws {
        let svg = try renderer.render(Self.largeMap().scene(), format: .svg, figureID: "snap-large-map")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "large-map.svg")
    }

    func testLargeProfileSVGSnapshot() throws {
        let svg = try renderer.render(Self.largeProfile().scene(width: FigureWidth.doubleColumn), format: .svg, figureID: "snap-large-profile")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "large-profile.svg")
    }

    func testLargeMapPNGSnapshot() throws {
        let png = try renderer.render(Self.largeMap().scene(), format: .png, figureID: "snap")
        try assertPNGSnapshot(png, named: "large-map.png")
    }

    func testLargeProfilePNGSnapshot() throws {
        let png = try renderer.render(Self.largeProfile().scene(width: FigureWidth.doubleColumn), format: .png, figureID: "snap")
        try assertPNGSnapshot(png, named: "large-profile.png")
    }
}
