@testable import Charts
import XCTest

final class HeatmapTests: XCTestCase {
    let renderer = CairoRenderer()

    private func renderAll(_ scene: Scene, id: String = "fig", file: StaticString = #filePath, line: UInt = #line) throws {
        try assertValidSVG(renderer.render(scene, format: .svg, figureID: id), file: file, line: line)
        try assertValidPNG(renderer.render(scene, format: .png, figureID: id), size: scene.size, scale: 2, file: file, line: line)
        XCTAssertTrue(try renderer.render(scene, format: .pdf, figureID: id).starts(with: Data("%PDF-1.5".utf8)), file: file, line: line)
    }

    private func cellRects(_ scene: Scene) -> [(Rect, Paint?)] {
        scene.untitledMarks.compactMap { mark in
            if case .rect(let rect, let style) = mark, style.stroke == nil, rect.width == rect.height { return (rect, style.fill) }
            return nil
        }
    }

    func testEmptyMatrixGivesANoDataFigure() throws {
        for values in [[], [[]], [[], []]] as [[[Double]]] {
            let scene = Heatmap(values: values, labels: [], title: "Empty").scene()
            XCTAssertTrue(scene.textMarks.contains { $0.text == "No data" })
            XCTAssertGreaterThan(scene.size.height, 0)
            try renderAll(scene)
        }
    }

    func testOneByOneMatrix() throws {
        let scene = Heatmap(values: [[0.5]], labels: ["only"], annotate: true).scene()
        XCTAssertEqual(cellRects(scene).count, 1)
        XCTAssertTrue(scene.textMarks.contains { $0.text == "0.50" })
        assertTextIsClear(scene)
        try renderAll(scene)
    }

    func testNaNAndInfinitiesDoNotTrapAndAreShownDistinctly() throws {
        let values: [[Double]] = [[0, .nan, .infinity], [.nan, 0, 0.5], [-.infinity, 0.5, 0]]
        var heatmap = Heatmap(values: values, labels: ["a", "b", "c"], annotate: true)
        heatmap.missingLabel = "not computed"
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        XCTAssertEqual(heatmap.colorDomain, 0...0.5)
        let texts = scene.textMarks.map(\.text)
        XCTAssertTrue(texts.contains("∞"))
        XCTAssertTrue(texts.contains("−∞"))
        XCTAssertTrue(texts.contains { $0.replacingOccurrences(of: "\n", with: " ") == "not computed" },
                      "the missing colour is named in the legend")
        let hatched = scene.untitledMarks.filter { mark in
            if case .rect(_, let style) = mark, case .hatch = style.fill { return true }
            return false
        }
        XCTAssertEqual(hatched.count, 2 + 1, "two NaN cells and the legend swatch")
        assertTextIsClear(scene)
        try renderAll(scene)

        heatmap.missingStyle = .grey
        let grey = heatmap.scene()
        XCTAssertTrue(cellRects(grey).contains { $0.1 == .color(Color(hex: 0xBDBDBD)) })
        try renderAll(grey)
    }

    func testAllMissingAndConstantMatrices() throws {
        let missing = Heatmap(values: [[.nan, .nan], [.nan, .nan]], labels: ["x", "y"], annotate: true)
        XCTAssertEqual(missing.colorDomain, 0...1)
        try renderAll(missing.scene())
        let constant = Heatmap(values: [[2, 2], [2, 2]], labels: ["x", "y"], annotate: true)
        XCTAssertEqual(constant.colorDomain.lowerBound, 1.8, accuracy: 1e-12)
        try renderAll(constant.scene())
        let infinite = Heatmap(values: [[.infinity]], labels: ["x"], colorScale: .correlation, annotate: true)
        XCTAssertEqual(infinite.colorDomain, -1...1)
        try renderAll(infinite.scene())
    }

    func testDivergingRangeIsSymmetricAroundTheCentre() {
        let heatmap = Heatmap(values: [[1, -0.3], [-0.3, 1]], labels: ["a", "b"], colorScale: .correlation)
        XCTAssertEqual(heatmap.colorDomain, -1...1)
        let shifted = Heatmap(values: [[0.2, 0.9]], labels: ["a"], colorScale: .diverging(.blueRed, center: 0.5))
        XCTAssertEqual(shifted.colorDomain.lowerBound, 0.1, accuracy: 1e-12)
        XCTAssertEqual(shifted.colorDomain.upperBound, 0.9, accuracy: 1e-12)
        let scene = heatmap.scene()
        let tickTexts = scene.textMarks.map(\.text)
        XCTAssertTrue(tickTexts.contains("0.0"))
        XCTAssertTrue(tickTexts.contains("−1.0"))
    }

    func testAnnotationInkContrastsWithTheCell() {
        let heatmap = Heatmap(values: [[0, 1]], rowLabels: ["r"], columnLabels: ["dark", "light"], annotate: true)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let zero = scene.textMarks.first { $0.text == "0.00" }!
        let one = scene.textMarks.first { $0.text == "1.00" }!
        XCTAssertEqual(zero.style.color, .white, "dark purple cell → white text")
        XCTAssertNotEqual(one.style.color, .white, "yellow cell → dark text")
    }

    func testOrderIsAppliedAndSanitised() {
        let values: [[Double]] = [[0, 1, 2], [1, 0, 3], [2, 3, 0]]
        let scene = Heatmap(values: values, labels: ["a", "b", "c"], order: [2, 0, 2, 9]).scene(width: FigureWidth.doubleColumn)
        // Row labels are the right-aligned ones, top to bottom.
        let rows = scene.textMarks.filter { $0.horizontal == .end && $0.rotation == 0 && ["a", "b", "c"].contains($0.text) }
            .sorted { $0.position.y < $1.position.y }.map(\.text)
        XCTAssertEqual(rows, ["c", "a", "b"])
        XCTAssertEqual(sanitizedOrder(nil, count: 3), [0, 1, 2])
        XCTAssertEqual(sanitizedOrder([-1, 1, 1], count: 3), [1, 0, 2])
    }

    func testRaggedRowsAndMissingLabels() throws {
        let scene = Heatmap(values: [[1, 2, 3], [4]], rowLabels: ["only one"], columnLabels: []).scene()
        XCTAssertEqual(cellRects(scene).count, 6)
        XCTAssertTrue(scene.textMarks.contains { $0.text == "2" }, "a missing row label is replaced by its index")
        try renderAll(scene)
    }

    func testLongAndNonASCIILabels() throws {
        let labels = ["émotion", "情感", "θ-task", "a-very-long-task-name-that-goes-on-and-on-and-on-forever", "Ω₂ subscripts", "مهمة"]
        let n = labels.count
        let values = (0..<n).map { i in (0..<n).map { j in Double(abs(i - j)) / Double(n) } }
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            let scene = Heatmap(values: values, labels: labels, title: "Non-ASCII: émotion, 情感, θ", annotate: true).scene(width: width)
            let texts = scene.textMarks.map(\.text)
            XCTAssertTrue(texts.contains("émotion"))
            XCTAssertTrue(texts.contains("θ-task"))
            XCTAssertTrue(texts.contains("情感"))
            XCTAssertTrue(texts.contains { $0.hasPrefix("a-") && $0.contains("…") && $0.hasSuffix("ever") },
                          "long labels are shortened in the middle, keeping both ends: \(texts)")
            assertTextIsClear(scene, name: "labels at \(width)")
            try renderAll(scene)
        }
    }

    func testManyRowsShrinkLabelsThenThinThemOut() throws {
        let n = 60
        let values = (0..<n).map { i in (0..<n).map { j in sin(Double(i * j)) } }
        let scene = Heatmap(values: values, labels: (0..<n).map { "task \($0)" }, colorScale: .correlation).scene()
        let rowLabels = scene.textMarks.filter { $0.text.hasPrefix("task ") && $0.rotation == 0 }
        XCTAssertLessThan(rowLabels.count, n)
        XCTAssertGreaterThanOrEqual(rowLabels.first!.style.size, Theme.paper.minimumLabelSize)
        assertTextIsClear(scene, name: "60 × 60")
        try renderAll(scene)
    }

    func testTextSizesSuitAPaper() {
        let sample = GallerySample.standard
        let scene = Heatmap(values: sample.distances, labels: sample.tasks, title: "T", subtitle: "S", colorBarTitle: "d").scene()
        for mark in scene.textMarks { XCTAssertTrue((8...10).contains(mark.style.size), "\(mark.text) is \(mark.style.size) pt") }
    }
}
