@testable import Charts
import Foundation
import TVGeoTestSupport
import XCTest

/// The user's figure style (font, titles, colour range), labels that stay distinct, the empty
/// diagonal, clipping arrows and axis titles that are never cut at the end.
final class FigureStyleTests: XCTestCase {
    let measurer = TextMeasurer.shared
    let style = Theme.paper.tickStyle

    // MARK: labels

    func testRunNamesShowTheirDistinctEnds() {
        let names = ["run_alpha_epoch1", "run_alpha_epoch2", "run_alpha_epoch3"]
        let labels = measurer.distinctLabels(names, style: style, maxWidth: 50)
        XCTAssertEqual(labels, ["…epoch1", "…epoch2", "…epoch3"])
        let long = ["appreviews_gurvineet_epoch1", "appreviews_gurvineet_epoch2", "appreviews_gurvineet_epoch3"]
        XCTAssertEqual(measurer.distinctLabels(long, style: style, maxWidth: 60), ["…epoch1", "…epoch2", "…epoch3"])
        // Names that fit are left alone.
        XCTAssertEqual(measurer.distinctLabels(["cola", "rte"], style: style, maxWidth: 60), ["cola", "rte"])
    }

    func testHeatmapOfThreeEpochsShowsThreeLabels() {
        let names = ["run_alpha_epoch1", "run_alpha_epoch2", "run_alpha_epoch3"]
        let values: [[Double]] = [[0, 1, 2], [1, 0, 3], [2, 3, 0]]
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            // Long enough that even a double-column heatmap must shorten them.
            let long = names.map { "a_rather_long_experiment_prefix_of_the_study_" + $0 }
            let scene = Heatmap(values: values, labels: long).scene(width: width)
            let texts = Set(scene.textMarks.map(\.text))
            for epoch in 1...3 {
                XCTAssertEqual(texts.filter { $0.hasSuffix("epoch\(epoch)") }.count, 1, "row and column share one label (width \(width))")
            }
            XCTAssertFalse(texts.contains { $0.hasSuffix("…") && $0.contains("run") }, "no label is cut at its end: \(texts)")
            assertTextIsClear(scene)
        }
    }

    func testAdversarialNamesNeverShareALabel() {
        let middle = (0..<6).map { "experiment_\($0)_with_the_same_long_tail_of_words" }
        let sets: [[String]] = [
            middle,
            ["aaaaaaaaaaaaaaaaaaaa1bbbbbbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaaaaaa2bbbbbbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaaaaaa3bbbbbbbbbbbbbbbbbbbb"],
            ["x", "…x", "x…", "… x", "x (2)"],
            ["prefix", "prefix_long", "prefix_long_longer", "prefix_long_longer_longest_name_of_all"],
            ["情感分析任务一号", "情感分析任务二号", "情感分析任务三号"],
            ["", " ", "a"],
            ["same_start_and_end", "same_start_x_and_end", "same_start_xx_and_end", "same_start_xxx_and_end"],
            ["a_b_c_d_e_f_g_h", "a_b_c_d_e_f_g_i", "a_b_c_d_e_f_h_h", "b_b_c_d_e_f_g_h"],
        ]
        for names in sets {
            for maxWidth in [4.0, 12, 25, 40, 80, 160, 400] {
                let labels = measurer.distinctLabels(names, style: style, maxWidth: maxWidth)
                XCTAssertEqual(labels.count, names.count)
                XCTAssertEqual(Set(labels).count, names.count, "\(names) at \(maxWidth) pt gave \(labels)")
            }
        }
        // Random names over a tiny alphabet collide often after shortening.
        var generator = SeededRandom(seed: 7)
        for _ in 0..<60 {
            var names = Set<String>()
            while names.count < 8 {
                names.insert(String((0..<(4 + Int(generator.next() % 20))).map { _ in Array("ab_")[Int(generator.next() % 3)] }))
            }
            let list = Array(names)
            let labels = measurer.distinctLabels(list, style: style, maxWidth: 30)
            XCTAssertEqual(Set(labels).count, list.count, "\(list) → \(labels)")
        }
    }

    func testShortenMiddleKeepsBothEnds() {
        let title = "mean distance to the others (1 − cos)"
        let short = measurer.shortenMiddle(title, style: style, maxWidth: 90)
        XCTAssertLessThanOrEqual(measurer.measure(short, style: style).width, 90)
        XCTAssertTrue(short.hasPrefix("mean"), short)
        XCTAssertTrue(short.hasSuffix("cos)"), short)
        XCTAssertTrue(short.contains("…"), short)
        XCTAssertEqual(measurer.shortenMiddle("short", style: style, maxWidth: 90), "short")
    }

    func testAxisTitlesWrapOrShortenInTheMiddleNeverAtTheEnd() {
        let yTitle = "mean distance to the others (1 − cos)"
        let series = (0..<4).map { i in LayerSeries(name: "task\(i)", values: [0.9, 1.0, 1.01, 0.98].map { $0 + Double(i) * 0.01 }) }
        for width in [FigureWidth.singleColumn, 180] {
            let scene = LayerProfile(series: series, yTitle: yTitle, title: "Profile").scene(width: width)
            let shown = scene.textMarks.filter { $0.rotation == 90 }.map(\.text)
            XCTAssertEqual(shown.count, 1)
            let text = shown[0]
            XCTAssertTrue(text.replacingOccurrences(of: "\n", with: " ") == yTitle || (text.contains("…") && text.hasSuffix("cos)")),
                          "the title is whole (maybe wrapped) or shortened in the middle: \(text)")
            XCTAssertTrue(text.hasSuffix("cos)"), "the unit at the end is kept: \(text)")
            assertTextIsClear(scene)
        }
        let map = ScatterMap(points: [ScatterPoint(label: "a", x: 0, y: 0), ScatterPoint(label: "b", x: 1, y: 1)],
                             xTitle: "a very long horizontal axis title that cannot fit on one line (unit)",
                             yTitle: "a very long vertical axis title that cannot fit on one line of the plot (unit)")
        let scene = map.scene(width: FigureWidth.singleColumn)
        for mark in scene.textMarks where mark.text.contains("axis") {
            XCTAssertTrue(mark.text.hasSuffix("(unit)"), mark.text)
        }
        assertTextIsClear(scene)
    }

    // MARK: leader lines

    func testLabelsMovedAwayFromTheirPointsGetLeaderLines() {
        // Eight points in a tight cluster: most labels cannot touch their point.
        let points = (0..<8).map { i in ScatterPoint(label: "task_\(i)", x: Double(i % 3) * 0.01, y: Double(i / 3) * 0.01) }
            + [ScatterPoint(label: "far", x: 1, y: 1)]
        let scene = ScatterMap(points: points).scene(width: FigureWidth.singleColumn)
        let leaders = scene.marks.filter { mark in
            if case .path(_, let style) = mark, style.stroke == Color(hex: 0x8C8C8C) { return true }
            return false
        }
        XCTAssertGreaterThan(leaders.count, 0, "crowded labels are tied to their points")
        let placer = LabelPlacer(bounds: Rect(x: 0, y: 0, width: 200, height: 200))
        let requests = (0..<12).map { i in
            LabelPlacer.Request(anchor: Point(x: 100 + Double(i % 4), y: 100 + Double(i / 4)), size: Size(width: 30, height: 9), markerRadius: 2.8)
        }
        for (request, placement) in zip(requests, placer.place(requests)) {
            let gap = placement.rect.insetBy(dx: -0.01, dy: -0.01).nearestPoint(to: request.anchor)
            let distance = hypot(gap.x - request.anchor.x, gap.y - request.anchor.y)
            if distance > request.markerRadius + placer.gap + 0.5 {
                XCTAssertTrue(placement.needsLeader, "a label \(distance) pt from its point has a leader line")
            }
        }
    }

    // MARK: colour range, diagonal

    /// 8 × 8 symmetric distances in 0.4–3.6 with one outlying pair, 34.8.
    static func outlierMatrix() -> [[Double]] {
        var values = [[Double]](repeating: [Double](repeating: 0, count: 8), count: 8)
        var k = 0
        for i in 0..<8 {
            for j in (i + 1)..<8 {
                let v = 0.4 + 3.2 * Double(k) / 26
                values[i][j] = v
                values[j][i] = v
                k += 1
            }
        }
        values[2][5] = 34.8
        values[5][2] = 34.8
        return values
    }

    func testRobustRangeClipsTheOutlierAndTheBarShowsIt() {
        let values = Self.outlierMatrix()
        var offDiagonal: [Double] = []
        for i in 0..<8 { for j in 0..<8 where i != j { offDiagonal.append(values[i][j]) } }
        let robust = FigureStyle.ColourRange.robust.resolve(offDiagonal)!
        let normal = offDiagonal.filter { $0 < 30 }
        XCTAssertLessThan(robust.upperBound, 34.8)
        XCTAssertGreaterThanOrEqual(robust.upperBound, normal.sorted().dropLast(2).last!, "only the extremes are clipped")
        XCTAssertEqual(FigureStyle.ColourRange.auto.resolve(offDiagonal), 0.4...34.8)

        let map = ColorMap.viridis
        /// The normal cells' positions in the map's 256 colours, the scene and the heatmap.
        func colours(_ range: ClosedRange<Double>?) -> (cells: Set<Int>, scene: Scene, heatmap: Heatmap) {
            var heatmap = Heatmap(values: values, labels: (1...8).map { "t\($0)" }, range: range)
            heatmap.diagonal = .context
            let scene = heatmap.scene(width: FigureWidth.doubleColumn)
            var cells = Set<Int>()
            for (i, row) in values.enumerated() {
                for (j, value) in row.enumerated() where i != j && value < 30 {
                    if case .color(let c) = heatmap.paint(for: value, domain: heatmap.colorDomain) { cells.insert(map.colors.firstIndex(of: c)!) }
                }
            }
            return (cells, scene, heatmap)
        }
        let flattened = colours(FigureStyle.ColourRange.auto.resolve(offDiagonal))
        let clipped = colours(robust)
        // With the outlier in range, the 26 normal values take the darkest tenth of the map;
        // clipped, they span it from its first colour to its last.
        XCTAssertLessThan(flattened.cells.max()!, 26)
        XCTAssertEqual(clipped.cells.min(), 0)
        XCTAssertEqual(clipped.cells.max(), 255)
        XCTAssertGreaterThan(clipped.cells.count, 20)
        XCTAssertEqual(clipped.heatmap.clipping.high, true)
        XCTAssertEqual(flattened.heatmap.clipping.high, false)
        XCTAssertEqual(flattened.heatmap.clipping.low, false, "the zero diagonal of a distance is not counted as clipped")

        func arrows(_ scene: Scene) -> [Color] {
            scene.marks.compactMap { mark in
                if case .path(let path, let style) = mark, path.elements.count == 4, case .color(let fill) = style.fill { return fill }
                return nil
            }
        }
        XCTAssertTrue(arrows(clipped.scene).contains(map.color(at: 1)!), "an arrow in the top colour caps the bar")
        XCTAssertTrue(arrows(flattened.scene).isEmpty, "no arrow when nothing is clipped")
        assertTextIsClear(clipped.scene)
    }

    func testFixedRangeClipsBothEnds() {
        var heatmap = Heatmap(values: [[0, 1, 5], [1, 0, 9], [5, 9, 0]], labels: ["a", "b", "c"],
                              range: FigureStyle.ColourRange.fixed(2, 6).resolve([]))
        heatmap.diagonal = .context
        XCTAssertEqual(heatmap.colorDomain, 2...6)
        XCTAssertEqual(heatmap.clipping.low, true)
        XCTAssertEqual(heatmap.clipping.high, true)
        XCTAssertNil(FigureStyle.ColourRange.fixed(3, 3).resolve([1, 2]))
    }

    func testEmptyDiagonalIsNeitherDrawnNorMissing() {
        let nan = Double.nan
        var heatmap = Heatmap(values: [[nan, 1, -2], [3, nan, 0.5], [-1, 2, nan]], labels: ["a", "b", "c"],
                              colorScale: .correlation, annotate: true, decimals: 1)
        heatmap.diagonal = .empty
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let hatched = scene.marks.filter { mark in
            if case .rect(_, let style) = mark, case .hatch = style.fill { return true }
            return false
        }
        XCTAssertTrue(hatched.isEmpty, "the diagonal is not hatched as missing")
        XCTAssertFalse(scene.textMarks.contains { $0.text.contains("missing") }, "nor named in the legend")
        XCTAssertEqual(scene.textMarks.filter { ["1.0", "−2.0", "3.0", "0.5", "−1.0", "2.0"].contains($0.text) }.count, 6)

        // A missing value off the diagonal is still hatched and named.
        heatmap.values[0][1] = nan
        let missing = heatmap.scene(width: FigureWidth.doubleColumn)
        XCTAssertTrue(missing.textMarks.contains { $0.text.contains("missing") })
    }

    // MARK: the style's theme

    func testStyleSetsTheFontOfEveryTextAndScalesTheSizes() throws {
        var figureStyle = FigureStyle()
        figureStyle.fontFamily = "DejaVu Serif"
        figureStyle.fontSize = 9
        let theme = figureStyle.theme
        XCTAssertEqual(theme.tickLabelSize, 9, accuracy: 1e-12)
        XCTAssertEqual(theme.titleSize, 10 * 9 / 8, accuracy: 1e-12)
        XCTAssertEqual(theme.minimumAnnotationSize, 6 * 9 / 8, accuracy: 1e-12)
        let scene = Heatmap(values: Self.outlierMatrix(), labels: (1...8).map { "task\($0)" }, title: "Title", annotate: true)
            .scene(width: FigureWidth.doubleColumn, theme: theme)
        XCTAssertFalse(scene.textMarks.isEmpty)
        for mark in scene.textMarks { XCTAssertEqual(mark.style.fontFamily, "DejaVu Serif", mark.text) }
        XCTAssertEqual(scene.textMarks.filter { $0.text == "task1" }.map(\.style.size).max() ?? 0, 9, accuracy: 1e-9)

        let pdf = try CairoRenderer().render(scene, format: .pdf, figureID: "serif")
        let url = try temporaryDirectory("serif").appendingPathComponent("serif.pdf")
        try pdf.write(to: url)
        let fonts = try ExternalTool.run(try ExternalTool.require("pdffonts"), [url.path]).output
        XCTAssertTrue(fonts.contains("DejaVuSerif"), fonts)
        XCTAssertFalse(fonts.contains("DejaVuSans"), fonts)
        let svg = String(decoding: try CairoRenderer().render(scene, format: .svg, figureID: "serif"), as: UTF8.self)
        // The SVG writer draws text as outlines today; once it writes <text>, its family must be the style's.
        if svg.contains("font-family") {
            XCTAssertTrue(svg.contains("DejaVu Serif"))
            XCTAssertFalse(svg.contains("DejaVu Sans"))
        }
        XCTAssertTrue(FontFamilies.isInstalled("DejaVu Serif"), "fonts-dejavu-core provides it")
        XCTAssertTrue(FontFamilies.isInstalled("dejavu sans"), "names match regardless of case")
        XCTAssertFalse(FontFamilies.isInstalled("No Such Font Family 42"))
    }

    func testCividisIsThePublishedTable() {
        XCTAssertEqual(ColorMapTables.cividis.count, 256)
        XCTAssertEqual(ColorMap.cividis.color(at: 0), Color(hex: 0x00224E))
        XCTAssertEqual(ColorMap.cividis.color(at: 1), Color(hex: 0xFEE838))
        // Monotone in lightness, as a sequential map must be (sum of channels as a proxy).
        let sums = ColorMapTables.cividis.map { ($0 >> 16) + ($0 >> 8 & 0xFF) + ($0 & 0xFF) }
        XCTAssertEqual(zip(sums, sums.dropFirst()).filter { $0 > $1 + 2 }.count, 0)
        XCTAssertTrue(ColorMap.purpleOrange.isDiverging)
        XCTAssertEqual(ColorMap.purpleOrange.color(at: 0.5), Color(hex: 0xF7F7F7))
    }
}
