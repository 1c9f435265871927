@testable import Charts
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// One element of a parsed SVG: its name, attributes and the text directly inside it.
struct SVGElement {
    var name: String
    var attributes: [String: String]
    var text: String
    /// Names of the enclosing elements, outermost first.
    var ancestors: [String]
}

/// Parses SVG bytes with XMLParser; fails the test when they are not well-formed.
func parseSVG(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> [SVGElement] {
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [SVGElement] = []
        var stack: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(SVGElement(name: name, attributes: attributes, text: "", ancestors: stack.map { elements[$0].name }))
            stack.append(elements.count - 1)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let open = stack.last { elements[open].text += string }
        }
    }
    let parser = XMLParser(data: data)
    let collector = Collector()
    parser.delegate = collector
    XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")", file: file, line: line)
    return collector.elements
}

final class SVGSceneWriterTests: XCTestCase {
    let measurer = TextMeasurer.shared

    private func number(_ text: String?) -> Double { Double(text ?? "") ?? .nan }

    func testNumbersAreLocaleFreeWithAtMostThreeDecimals() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (0.0004, "0"), (-0.0004, "0"), (1.5, "1.5"), (-2, "-2"), (1234.5678, "1234.568"),
            (0.1 + 0.2, "0.3"), (0.05, "0.05"), (-0.007, "-0.007"), (239.99999, "240"), (.nan, "0"), (.infinity, "0"),
        ]
        for (value, expected) in cases { XCTAssertEqual(SVGSceneWriter.number(value), expected, "\(value)") }
    }

    func testFontFamilyListsEndInAGenericFamily() {
        XCTAssertEqual(SVGSceneWriter.fontFamilyList("DejaVu Sans"), "'DejaVu Sans', sans-serif")
        XCTAssertEqual(SVGSceneWriter.fontFamilyList("DejaVu Serif"), "'DejaVu Serif', serif")
        XCTAssertEqual(SVGSceneWriter.fontFamilyList("Times New Roman"), "'Times New Roman', serif")
        XCTAssertEqual(SVGSceneWriter.fontFamilyList("DejaVu Sans Mono"), "'DejaVu Sans Mono', monospace")
        XCTAssertEqual(SVGSceneWriter.fontFamilyList("O'Brien\\x"), "'O\\'Brien\\\\x', sans-serif")
    }

    /// Every text mark becomes one `<text>` whose anchor point is where Pango put the line: the
    /// left edge, centre or right edge of the measured box, on its baseline; no glyph outlines.
    func testTextIsTextAtThePangoMeasuredPositions() throws {
        var scene = Scene(size: Size(width: 300, height: 200), title: "anchors")
        let style = TextStyle(size: 9, weight: .bold, italic: true, color: Color(hex: 0x336699))
        let anchors: [(HorizontalAnchor, VerticalAnchor)] = [(.start, .baseline), (.middle, .top), (.end, .middle), (.start, .bottom)]
        for (i, (h, v)) in anchors.enumerated() {
            scene.add(.text(TextMark("Anchor \(i) Ag", at: Point(x: 150, y: 30 + Double(i) * 35), style: style, horizontal: h, vertical: v)))
        }
        let svg = try SVGSceneWriter().svg(scene, figureID: "anchors")
        let elements = parseSVG(svg)
        let texts = elements.filter { $0.name == "text" }
        XCTAssertEqual(texts.map(\.text), (0..<4).map { "Anchor \($0) Ag" })
        XCTAssertTrue(elements.allSatisfy { !["symbol", "use", "image"].contains($0.name) }, "no glyph outlines")
        for (text, (h, v)) in zip(texts, anchors) {
            let mark = scene.textMarks[texts.firstIndex { $0.text == text.text }!]
            let metrics = measurer.measure(mark.text, style: style)
            let box = mark.bounds(for: metrics)
            let expectedX: Double
            switch h {
            case .start: expectedX = box.minX
            case .middle: expectedX = box.midX
            case .end: expectedX = box.maxX
            }
            XCTAssertEqual(number(text.attributes["x"]), expectedX, accuracy: 0.002, "\(h)")
            XCTAssertEqual(number(text.attributes["y"]), box.minY + metrics.baseline, accuracy: 0.002, "\(v)")
            XCTAssertEqual(text.attributes["text-anchor"], h == .start ? nil : (h == .middle ? "middle" : "end"))
            XCTAssertEqual(text.attributes["font-size"], "9")
            XCTAssertEqual(text.attributes["font-weight"], "bold")
            XCTAssertEqual(text.attributes["font-style"], "italic")
            XCTAssertEqual(text.attributes["fill"], "#336699")
        }
        let root = try XCTUnwrap(elements.first)
        XCTAssertEqual(root.attributes["font-family"], "'DejaVu Sans', sans-serif")
        XCTAssertEqual(root.attributes["viewBox"], "0 0 300 200")
        XCTAssertEqual(root.attributes["width"], "300pt")
    }

    /// Rotation is a transform about the anchor; lines of a multi-line text are tspans on the
    /// baselines Pango gives them, centred lines centred.
    func testRotatedAndMultiLineText() throws {
        var scene = Scene(size: Size(width: 200, height: 200))
        let style = TextStyle(size: 8)
        scene.add(.text(TextMark("rotated label", at: Point(x: 100, y: 150), style: style, horizontal: .end, vertical: .middle, rotation: 90)))
        scene.add(.text(TextMark("first line\nsecond, longer line", at: Point(x: 100, y: 20), style: style,
                                 horizontal: .middle, vertical: .top)))
        scene.add(.text(TextMark("serif", at: Point(x: 10, y: 190), style: TextStyle(fontFamily: "DejaVu Serif", size: 8))))
        let elements = parseSVG(try SVGSceneWriter().svg(scene, figureID: "rot"))
        let texts = elements.filter { $0.name == "text" }
        XCTAssertEqual(texts.count, 3)
        XCTAssertEqual(texts[0].attributes["transform"], "translate(100 150) rotate(-90)")
        let metrics = measurer.measure("rotated label", style: style)
        XCTAssertEqual(number(texts[0].attributes["x"]), 0, accuracy: 0.002, "end anchored: the right edge on the anchor")
        XCTAssertEqual(number(texts[0].attributes["y"]), -metrics.height / 2 + metrics.baseline, accuracy: 0.002)
        let spans = elements.filter { $0.name == "tspan" }
        XCTAssertEqual(spans.map(\.text), ["first line", "second, longer line"])
        let lineHeight = measurer.measure("first line", style: style).height
        XCTAssertEqual(number(spans[0].attributes["y"]), 20 + metrics.baseline, accuracy: 0.002)
        XCTAssertEqual(number(spans[1].attributes["y"]) - number(spans[0].attributes["y"]), lineHeight, accuracy: 0.01)
        for span in spans { XCTAssertEqual(number(span.attributes["x"]), 100, accuracy: 0.002, "centred on the anchor") }
        XCTAssertEqual(texts[2].attributes["font-family"], "'DejaVu Serif', serif")
        XCTAssertNil(texts[0].attributes["font-family"], "the common family is set once, on the root")
    }

    /// Runs of spaces survive (xml:space) only where a text has them.
    func testSpacesArePreservedWhereNeeded() throws {
        var scene = Scene(size: Size(width: 200, height: 60))
        scene.add(.text(TextMark("a  b", at: Point(x: 10, y: 20), style: TextStyle(size: 8))))
        scene.add(.text(TextMark("a b", at: Point(x: 10, y: 40), style: TextStyle(size: 8))))
        let texts = parseSVG(try SVGSceneWriter().svg(scene, figureID: "spaces")).filter { $0.name == "text" }
        XCTAssertEqual(texts.map(\.text), ["a  b", "a b"])
        XCTAssertEqual(texts.map { $0.attributes["xml:space"] }, ["preserve", nil])
    }

    /// Shapes carry Cairo's paint: fill then stroke, dashes (negative lengths dropped), caps and
    /// joins, alpha, gradients and hatches by id, clips, group transforms; nothing is dropped.
    func testShapesAndPaints() throws {
        let scene = RendererTests.sampleScene()
        let elements = parseSVG(try SVGSceneWriter().svg(scene, figureID: "sample"))
        let byName = Dictionary(grouping: elements, by: \.name)
        XCTAssertEqual(byName["linearGradient"]?.count, 1)
        XCTAssertEqual(byName["stop"]?.count, 8)
        XCTAssertEqual(byName["clipPath"]?.count, 2, "the clipped group and the hatch")
        let dashed = try XCTUnwrap(elements.first { $0.attributes["stroke-dasharray"] != nil })
        XCTAssertEqual(dashed.attributes["stroke-dasharray"], "3 1.5")
        XCTAssertEqual(dashed.attributes["stroke-linecap"], "round")
        XCTAssertEqual(dashed.attributes["stroke-linejoin"], "round")
        XCTAssertEqual(dashed.attributes["fill"], "none")
        XCTAssertTrue(elements.contains { $0.attributes["fill-opacity"] == "0.6" && $0.attributes["stroke"] == "#ffffff" })
        XCTAssertEqual(elements.first?.attributes["stroke-miterlimit"], "10", "Cairo's miter limit")
        let ids = Set(elements.compactMap { $0.attributes["id"] })
        for element in elements {
            for value in element.attributes.values where value.hasPrefix("url(#") {
                XCTAssertTrue(ids.contains(String(value.dropFirst(5).dropLast())), "dangling \(value)")
            }
        }
        let rotated = try XCTUnwrap(elements.first { $0.name == "text" && $0.text == "rotated" })
        XCTAssertTrue(rotated.ancestors.contains("g"), "inside the clip group")
    }

    /// Groups (scenes placed in scenes) keep their inner coordinates under one transform.
    func testGroupsAreTransforms() throws {
        var inner = Scene(size: Size(width: 100, height: 50))
        inner.add(.text(TextMark("inner", at: Point(x: 5, y: 20), style: TextStyle(size: 8))))
        var page = Scene(size: Size(width: 300, height: 200))
        page.add(inner.placed(at: Point(x: 40, y: 60), scale: 0.5))
        page.add(.group(Transform(dx: 1, dy: 1, scale: 0), [.rect(Rect(x: 0, y: 0, width: 5, height: 5), .fill(.black))]))
        let elements = parseSVG(try SVGSceneWriter().svg(page, figureID: "page"))
        XCTAssertEqual(elements.filter { $0.name == "g" && $0.attributes["transform"] != nil }.map { $0.attributes["transform"] },
                       ["translate(40 60) scale(0.5)"], "a singular transform draws nothing, as in Cairo")
        let text = try XCTUnwrap(elements.first { $0.name == "text" })
        XCTAssertEqual(text.attributes["font-size"], "8", "the text keeps the size it was measured at")
    }

    /// Same scene, same bytes; ids are `<figureID>-<kind><n>`, unique, and differ between figures.
    func testDeterministicWithPrefixedIds() throws {
        let scene = RendererTests.sampleScene()
        let first = try SVGSceneWriter().svg(scene, figureID: "fig-a")
        XCTAssertEqual(first, try SVGSceneWriter().svg(scene, figureID: "fig-a"))
        XCTAssertEqual(first, try CairoRenderer().render(scene, format: .svg, figureID: "fig-a"), "the renderer's SVG is this writer's")
        let idsA = parseSVG(first).compactMap { $0.attributes["id"] }
        let idsB = parseSVG(try SVGSceneWriter().svg(scene, figureID: "fig_b.2")).compactMap { $0.attributes["id"] }
        XCTAssertEqual(Set(idsA).count, idsA.count)
        XCTAssertEqual(Set(idsA), ["fig-a-clip1", "fig-a-clip2", "fig-a-grad1"])
        XCTAssertTrue(idsB.allSatisfy { $0.hasPrefix("fig_b.2-") })
        XCTAssertThrowsError(try SVGSceneWriter().svg(scene, figureID: "1bad id"))
        XCTAssertThrowsError(try SVGSceneWriter().svg(Scene(size: Size(width: 0, height: 10)), figureID: "ok"))
    }

    /// Marks with coordinates that are not finite, empty text and zero-size text are left out;
    /// the file stays well-formed.
    func testNonFiniteMarksAreLeftOut() throws {
        var scene = Scene(size: Size(width: 100, height: 100), background: nil)
        scene.add(.rect(Rect(x: .nan, y: 0, width: 5, height: 5), .fill(.black)))
        scene.add(.path(.line(from: Point(x: 0, y: 0), to: Point(x: .infinity, y: 1)), .stroke(.black)))
        scene.add(.text(TextMark("", at: Point(x: 1, y: 1), style: TextStyle())))
        scene.add(.text(TextMark("x", at: Point(x: 1, y: 1), style: TextStyle(size: 0))))
        scene.add(.rect(Rect(x: 10, y: 10, width: -5, height: 5), .fill(.black)))
        let elements = parseSVG(try SVGSceneWriter().svg(scene, figureID: "nf"))
        XCTAssertEqual(elements.map(\.name), ["svg", "rect"])
        XCTAssertEqual(elements[1].attributes["x"], "5", "a negative width is drawn as Cairo draws it")
    }

    /// Heatmap cells and map points carry a `<title>` tooltip naming the pair or task, the figure,
    /// the quantity and the value; Cairo draws the same marks without it.
    func testTooltipsOnHeatmapCellsAndMapPoints() throws {
        let heatmap = Heatmap(values: [[0, 0.25, .nan], [0.25, 0, 0.5], [.nan, 0.5, 0]], labels: ["cola", "rte", "sst<2>"],
                              title: "Cosine distance · query", colorBarTitle: "1 − cos")
        let elements = parseSVG(try SVGSceneWriter().svg(heatmap.scene(), figureID: "hm"))
        let tips = elements.filter { $0.name == "title" && $0.ancestors.last == "g" }.map(\.text)
        XCTAssertEqual(tips.count, 9)
        XCTAssertTrue(tips.contains("cola × rte\nCosine distance · query\n1 − cos = 0.2500"), "\(tips)")
        XCTAssertTrue(tips.contains("cola × sst<2>\nCosine distance · query\n1 − cos = missing"), "\(tips)")

        let map = ScatterMap(points: [ScatterPoint(label: "cola", x: 0.5, y: -1.25), ScatterPoint(label: "rte", x: -0.5, y: 1)],
                             xTitle: "PC1 (60.0 %)", yTitle: "PC2 (40.0 %)", title: "PCA · cosine")
        let points = parseSVG(try SVGSceneWriter().svg(map.scene(), figureID: "map"))
            .filter { $0.name == "title" && $0.ancestors.last == "g" }.map(\.text)
        XCTAssertEqual(points, ["cola\nPCA · cosine\nPC1 (60.0 %) = 0.5000\nPC2 (40.0 %) = −1.2500",
                                "rte\nPCA · cosine\nPC1 (60.0 %) = −0.5000\nPC2 (40.0 %) = 1.0000"])
    }

    /// Text, titles, tooltips and font names a user controls are escaped: the file parses, holds no
    /// element from them, and shows them as text (characters XML forbids dropped).
    func testHostileTextIsEscapedEverywhere() throws {
        let hostile = HostileTextTests.hostile
        var scene = Scene(size: Size(width: 200, height: 80), title: hostile)
        scene.add(.titled(hostile, [.rect(Rect(x: 0, y: 0, width: 10, height: 10), .fill(.black))]))
        scene.add(.text(TextMark(hostile, at: Point(x: 10, y: 30), style: TextStyle(fontFamily: "x\"/><script>'", size: 8))))
        scene.add(.text(TextMark(hostile, at: Point(x: 10, y: 60), style: TextStyle(size: 8))))
        let svg = try SVGSceneWriter().svg(scene, figureID: "hostile")
        let elements = parseSVG(svg)
        XCTAssertEqual(Set(elements.map(\.name)), ["svg", "title", "g", "rect", "text"])
        let legal = "</svg><script>alert(1)</script>]]>&\"'"
        let titled = legal + HostileTextTests.fdd0 + "end"
        XCTAssertEqual(elements.filter { $0.name == "title" }.map(\.text), [titled, titled])
        // Pango drops noncharacters before laying out; the text shows what Cairo draws.
        XCTAssertEqual(elements.filter { $0.name == "text" }.map(\.text), [legal + "end", legal + "end"])
        XCTAssertTrue(elements.contains { $0.attributes["font-family"] == "'x\"/><script>\\'', sans-serif" })
    }

    /// The pHYs chunk holds the resolution: 2 px/pt = 144 dpi = 5669 px/m by default.
    func testPNGRecordsItsResolution() throws {
        let scene = RendererTests.sampleScene()
        for (format, dpi) in [(OutputFormat.png, 144.0), (.png(dotsPerInch: 300), 300), (.png(scale: 1), 72)] {
            let png = try CairoRenderer().render(scene, format: format, figureID: "dpi")
            let chunk = try XCTUnwrap(Self.chunk("pHYs", in: png), "\(dpi) dpi")
            XCTAssertEqual(chunk.count, 9)
            let x = chunk[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let y = chunk[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(x, y)
            XCTAssertEqual(chunk[8], 1, "unit: metre")
            XCTAssertEqual(Double(x) * 0.0254, dpi, accuracy: 0.02, "pixels per inch")
            XCTAssertEqual(format.dotsPerInch ?? 0, dpi, accuracy: 1e-9)
            try assertValidPNG(png, size: scene.size, scale: dpi / 72)
        }
        XCTAssertNil(OutputFormat.svg.dotsPerInch)
        XCTAssertNil(PNGEncoder.pixelsPerMetre(pixelsPerPoint: .nan))
    }

    /// The payload of the first chunk of `type`, walking the chunk list after the signature.
    static func chunk(_ type: String, in png: Data) -> [UInt8]? {
        let bytes = [UInt8](png)
        var i = 8
        while i + 8 <= bytes.count {
            let length = Int(bytes[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let name = String(decoding: bytes[i + 4..<i + 8], as: UTF8.self)
            guard i + 12 + length <= bytes.count else { return nil }
            if name == type { return Array(bytes[i + 8..<i + 8 + length]) }
            i += 12 + length
        }
        return nil
    }
}
