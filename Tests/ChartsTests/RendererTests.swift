@testable import Charts
import XCTest

final class RendererTests: XCTestCase {
    let renderer = CairoRenderer()

    /// A small scene using every kind of mark and paint.
    static func sampleScene() -> Scene {
        var scene = Scene(size: Size(width: 120, height: 80), title: "Sample & <test>")
        scene.add(.rect(Rect(x: 10, y: 10, width: 30, height: 20), .fill(Color(hex: 0x21918C))))
        scene.add(.rect(Rect(x: 45, y: 10, width: 30, height: 20),
                        Style(fill: .hatch(background: .grey(0.95), line: .grey(0.5), spacing: 3, lineWidth: 0.5), stroke: .black, lineWidth: 0.5)))
        scene.add(.rect(Rect(x: 80, y: 10, width: 30, height: 20),
                        Style(fill: .linearGradient(start: Point(x: 80, y: 0), end: Point(x: 110, y: 0),
                                                    stops: ColorMap.magma.gradientStops(count: 8)))))
        scene.add(.path(.polyline([Point(x: 10, y: 70), Point(x: 40, y: 40), Point(x: 70, y: 60)]),
                        .stroke(Color(hex: 0xD55E00), width: 1.2, dash: [3, 1.5], cap: .round, join: .round)))
        scene.add(.path(.circle(center: Point(x: 95, y: 55), radius: 6), Style(fill: .color(Color(hex: 0x0072B2, alpha: 0.6)), stroke: .white)))
        scene.add(.text(TextMark("θ-task émotion", at: Point(x: 10, y: 38), style: TextStyle(size: 8), vertical: .top)))
        scene.add(.clipped(Rect(x: 0, y: 0, width: 60, height: 80),
                           [.text(TextMark("rotated", at: Point(x: 60, y: 75), style: TextStyle(size: 8, weight: .bold), rotation: 30))]))
        return scene
    }

    func testEveryFormatIsValid() throws {
        let scene = Self.sampleScene()
        let ids = try assertValidSVG(renderer.render(scene, format: .svg, figureID: "sample"))
        XCTAssertFalse(ids.isEmpty)
        try assertValidPNG(renderer.render(scene, format: .png, figureID: "sample"), size: scene.size, scale: 2)
        try assertValidPNG(renderer.render(scene, format: .png(scale: 1), figureID: "sample"), size: scene.size, scale: 1)
        try assertValidPNG(renderer.render(scene, format: .png(scale: 3.3), figureID: "sample"), size: scene.size, scale: 3.3)
        try assertValidPDF(renderer.render(scene, format: .pdf, figureID: "sample"), size: scene.size)
    }

    func testSVGIdsArePrefixedUniqueAndResolved() throws {
        let scene = Self.sampleScene()
        let first = try renderer.render(scene, format: .svg, figureID: "fig-a")
        let second = try renderer.render(scene, format: .svg, figureID: "fig_b.2")
        let idsA = try assertValidSVG(first), idsB = try assertValidSVG(second)
        XCTAssertEqual(Set(idsA).count, idsA.count, "ids are unique within a figure")
        XCTAssertTrue(idsA.allSatisfy { $0.hasPrefix("fig-a-") })
        XCTAssertTrue(idsB.allSatisfy { $0.hasPrefix("fig_b.2-") })
        XCTAssertTrue(Set(idsA).isDisjoint(with: idsB), "two figures can share one HTML page")
        // Every reference points at an id of the same figure.
        let text = String(decoding: first, as: UTF8.self)
        for prefix in ["href=\"#", "url(#"] {
            var rest = Substring(text)
            while let range = rest.range(of: prefix) {
                let after = rest[range.upperBound...]
                let target = after.prefix { $0 != "\"" && $0 != ")" }
                XCTAssertTrue(idsA.contains(String(target)), "dangling reference \(target)")
                rest = after
            }
        }
        XCTAssertTrue(text.contains("<title>Sample &amp; &lt;test&gt;</title>"))
        let inline = SVGEmbedding.inlineMarkup(first)
        XCTAssertTrue(inline.hasPrefix("<svg"))
        XCTAssertTrue(inline.hasSuffix("</svg>"))
    }

    func testOutputIsDeterministic() throws {
        let scene = Self.sampleScene()
        for format in [OutputFormat.svg, .pdf, .png] {
            let a = try renderer.render(scene, format: format, figureID: "d")
            let b = try CairoRenderer().render(scene, format: format, figureID: "d")
            XCTAssertEqual(a, b, "\(format) bytes differ between two renders")
        }
        let pdf = String(decoding: try renderer.render(scene, format: .pdf, figureID: "d"), as: UTF8.self)
        XCTAssertFalse(pdf.contains("CreationDate"))
        XCTAssertFalse(pdf.contains("ModDate"))
        XCTAssertTrue(pdf.contains("/Creator (tvgeo)"))
    }

    func testInvalidFigureIdsAndSizesThrow() {
        let scene = Self.sampleScene()
        for bad in ["", "1abc", "a b", "a\"b", "é"] {
            XCTAssertThrowsError(try renderer.render(scene, format: .svg, figureID: bad)) { error in
                XCTAssertEqual(error as? RenderError, .invalidFigureID(bad))
            }
        }
        for size in [Size(width: 0, height: 10), Size(width: .nan, height: 10), Size(width: 10, height: .infinity)] {
            XCTAssertThrowsError(try renderer.render(Scene(size: size), format: .pdf, figureID: "x"))
        }
        XCTAssertThrowsError(try renderer.render(Scene(size: Size(width: 1e6, height: 10)), format: .png, figureID: "x"))
        XCTAssertThrowsError(try renderer.render(scene, format: .png(scale: 0), figureID: "x"))
    }

    func testWriteChoosesTheFormatFromTheExtension() throws {
        let directory = try temporaryDirectory("write")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["f.svg", "f.pdf", "f.PNG"] {
            let url = directory.appendingPathComponent(name)
            try renderer.write(Self.sampleScene(), to: url, figureID: "w")
            XCTAssertGreaterThan(try Data(contentsOf: url).count, 100)
        }
        XCTAssertThrowsError(try renderer.write(Self.sampleScene(), to: directory.appendingPathComponent("f.jpg"), figureID: "w"))
        XCTAssertEqual(OutputFormat(fileExtension: "svg"), .svg)
        XCTAssertEqual(OutputFormat.png.fileExtension, "png")
    }

    func testMarksWithNonFiniteCoordinatesDoNotTrap() throws {
        var scene = Scene(size: Size(width: 50, height: 50))
        scene.add(.path(.polyline([Point(x: .nan, y: 1), Point(x: 2, y: .infinity)]), .stroke(.black)))
        scene.add(.rect(Rect(x: .nan, y: 0, width: 5, height: 5), .fill(.black)))
        scene.add(.text(TextMark("x", at: Point(x: .infinity, y: 0), style: TextStyle())))
        scene.add(.text(TextMark("", at: .zero, style: TextStyle())))
        scene.add(.path(Path(), .fill(.black)))
        scene.add(.path(.line(from: .zero, to: Point(x: 5, y: 5)), .stroke(.black, width: 1, dash: [-1, .nan])))
        for format in [OutputFormat.svg, .pdf, .png] {
            // Cairo may refuse non-finite geometry with an error status, but must not crash.
            _ = try? renderer.render(scene, format: format, figureID: "n")
        }
    }
}

final class TextMeasurementTests: XCTestCase {
    func testMeasurementIsPositiveAndShapesNonLatinText() {
        let style = TextStyle(size: 8)
        let measurer = TextMeasurer()
        let latin = measurer.measure("émotion", style: style)
        XCTAssertGreaterThan(latin.width, 20)
        XCTAssertEqual(latin.height, measurer.measure("情感", style: style).height, accuracy: 4)
        XCTAssertGreaterThan(measurer.measure("情感", style: style).width, 5)
        XCTAssertGreaterThan(latin.baseline, 0)
        XCTAssertLessThan(latin.baseline, latin.height)
        XCTAssertEqual(measurer.measure("", style: style).width, 0)
        XCTAssertGreaterThan(measurer.measure("", style: style).height, 0)
        XCTAssertGreaterThan(measurer.measure("A", style: style.with(weight: .bold)).width, measurer.measure("A", style: style).width)
        XCTAssertEqual(measurer.measure("two\nlines", style: style).height, 2 * measurer.measure("two", style: style).height, accuracy: 0.5)
    }

    func testSizesScaleLinearlyBecauseHintingIsOff() {
        let measurer = TextMeasurer()
        let small = measurer.measure("Distance to centroid", style: TextStyle(size: 8))
        let large = measurer.measure("Distance to centroid", style: TextStyle(size: 16))
        XCTAssertEqual(large.width, 2 * small.width, accuracy: 0.02)
    }

    func testTruncateAndWrap() {
        let measurer = TextMeasurer()
        let style = TextStyle(size: 8)
        XCTAssertEqual(measurer.truncate("short", style: style, maxWidth: 100), "short")
        let cut = measurer.truncate("offensive-language-identification", style: style, maxWidth: 60)
        XCTAssertTrue(cut.hasSuffix("…"))
        XCTAssertLessThanOrEqual(measurer.measure(cut, style: style).width, 60)
        XCTAssertEqual(measurer.truncate("abc", style: style, maxWidth: 0), "…")
        XCTAssertEqual(measurer.truncate("情感情感情感", style: style, maxWidth: 20).last, "…")
        let wrapped = measurer.wrap("the quick brown fox jumps over the lazy dog", style: style, maxWidth: 60)
        XCTAssertGreaterThan(wrapped.split(separator: "\n").count, 1)
        for line in wrapped.split(separator: "\n") { XCTAssertLessThanOrEqual(measurer.measure(String(line), style: style).width, 60) }
        XCTAssertNil(measurer.fittingSize("wide text", style: style, maxWidth: 5, maxHeight: 100, minimum: 6))
        XCTAssertEqual(measurer.fittingSize("x", style: style, maxWidth: 100, maxHeight: 100, minimum: 6), 8)
    }

    func testRotatedBoundsAndAnchors() {
        let metrics = TextMetrics(width: 40, height: 10, baseline: 8)
        let mark = TextMark("t", at: Point(x: 100, y: 100), style: TextStyle(), horizontal: .end, vertical: .middle, rotation: 90)
        let b = mark.bounds(for: metrics)
        XCTAssertEqual(b.minX, 95, accuracy: 1e-9)
        XCTAssertEqual(b.maxX, 105, accuracy: 1e-9)
        XCTAssertEqual(b.minY, 100, accuracy: 1e-9)
        XCTAssertEqual(b.maxY, 140, accuracy: 1e-9)
        let baseline = TextMark("t", at: Point(x: 0, y: 50), style: TextStyle()).bounds(for: metrics)
        XCTAssertEqual(baseline.minY, 42, accuracy: 1e-9)
    }
}
