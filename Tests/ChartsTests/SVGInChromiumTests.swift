@testable import Charts
import Foundation
import TVGeoBrowserSupport
import TVGeoTestSupport
import XCTest

/// The SVG as a browser draws it: Chromium lays each `<text>` out where Pango measured it, and
/// the whole figure looks like Cairo's bitmap of the same scene.
final class SVGInChromiumTests: XCTestCase {
    /// Pixels per point of the comparison (Cairo's PNG default).
    static let scale = 2.0

    struct Drawn {
        /// Every `<text>` as Chromium lays it out, in the text's own coordinates (points): from the
        /// first character's start to the last one's end, and the height of `getBBox()`.
        var boxes: [Rect]
        var screenshot: RasterImage
    }

    /// Loads `scene`'s SVG inline at `scale` CSS pixels per point; a script writes each text's box
    /// into the page, read back from the DOM.
    func draw(_ scene: Scene, in browser: HeadlessChromium, name: String) throws -> Drawn {
        let svg = SVGEmbedding.inlineMarkup(try CairoRenderer().render(scene, format: .svg, figureID: name))
        let page = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><style>
        body { margin: 0; background: #fff; }
        svg { display: block; width: \(scene.size.width * Self.scale)px; height: \(scene.size.height * Self.scale)px; }
        </style></head><body>\(svg)<script>
        const boxes = [];
        for (const t of document.querySelectorAll('svg text')) {
          // Horizontally the advances (getBBox adds glyph overhang, rounded); vertically the box.
          let left = Infinity, right = -Infinity;
          for (let i = 0; i < t.getNumberOfChars(); i++) {
            left = Math.min(left, t.getStartPositionOfChar(i).x, t.getEndPositionOfChar(i).x);
            right = Math.max(right, t.getStartPositionOfChar(i).x, t.getEndPositionOfChar(i).x);
          }
          const b = t.getBBox();
          boxes.push([left, b.y, right - left, b.height].map(v => v.toFixed(3)).join(','));
        }
        document.body.setAttribute('data-boxes', boxes.join(';'));
        </script></body></html>
        """
        let directory = try temporaryDirectory("svg-chromium")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("\(name).html")
        try Data(page.utf8).write(to: file)
        let load = try browser.load(file.path)
        XCTAssertEqual(load.consoleErrors, [], name)
        let attribute = try XCTUnwrap(load.dom.range(of: "data-boxes=\""), "\(name): the script did not run")
        let value = load.dom[attribute.upperBound...].prefix { $0 != "\"" }
        let boxes = value.split(separator: ";").map { entry -> Rect in
            let v = entry.split(separator: ",").map { Double($0) ?? .nan }
            return Rect(x: v[0], y: v[1], width: v[2], height: v[3])
        }
        return Drawn(boxes: boxes, screenshot: try RasterImage(png: load.screenshot.png))
    }

    func testChromiumDrawsTheTextWherePangoMeasuredIt() throws {
        guard let found = HeadlessChromium.find() else { throw RequiredTools.missing("no Chromium on PATH: the SVG was not drawn") }
        let browser = HeadlessChromium(executable: found, windowWidth: 1100, windowHeight: 2000)
        let measurer = TextMeasurer.shared
        for (index, figure) in ChartGallery.figures(width: FigureWidth.doubleColumn).enumerated() {
            let scene = figure.scene
            let marks = scene.untitledMarks.compactMap { mark -> TextMark? in
                if case .text(let text) = mark, !text.text.isEmpty { return text }
                return nil
            }
            guard marks.count == scene.textMarks.filter({ !$0.text.isEmpty }).count else { continue }  // no groups
            let drawn = try draw(scene, in: browser, name: "figure\(index)")
            XCTAssertEqual(drawn.boxes.count, marks.count, figure.name)
            for (mark, box) in zip(marks, drawn.boxes) {
                let metrics = measurer.measure(mark.text, style: mark.style)
                let offset = mark.boxOffset(for: metrics)
                let rotated = mark.rotation != 0
                let origin = rotated ? Point.zero : mark.position
                let pango = Rect(x: origin.x + offset.x, y: origin.y + offset.y, width: metrics.width, height: metrics.height)
                let context = "\(figure.name): \"\(mark.text)\" Chromium \(box) Pango \(pango)"
                // Same font, unhinted: advances agree to a small fraction of a point.
                let tolerance = 0.05 + 0.002 * pango.width
                XCTAssertEqual(box.minX, pango.minX, accuracy: tolerance, context)
                XCTAssertEqual(box.maxX, pango.maxX, accuracy: tolerance, context)
                XCTAssertEqual(box.midY, pango.midY, accuracy: 0.1 * mark.style.size + 0.3, context)
            }
        }
    }

    /// The screenshot of the SVG and Cairo's PNG of the scene agree block by block (4 × 4 pixel
    /// means; antialiasing differs between the two rasterisers, shapes and text positions do not).
    func testChromiumDrawsTheFigureAsCairoDoes() throws {
        guard let found = HeadlessChromium.find() else { throw RequiredTools.missing("no Chromium on PATH: the SVG was not drawn") }
        let browser = HeadlessChromium(executable: found, windowWidth: 1100, windowHeight: 2000)
        var scenes = ChartGallery.figures(width: FigureWidth.doubleColumn).map { ($0.name, $0.scene) }
        scenes.append(("sample", RendererTests.sampleScene()))
        for (name, scene) in scenes {
            let cairo = try RasterImage(png: CairoRenderer().render(scene, format: .png(scale: Self.scale), figureID: "x"))
            let shot = try draw(scene, in: browser, name: "shot").screenshot
            guard shot.width >= cairo.width, shot.height >= cairo.height else {
                XCTFail("\(name): \(cairo.width) × \(cairo.height) px do not fit the \(shot.width) × \(shot.height) window")
                continue
            }
            let block = 4
            var blocks = 0, different = 0, worst = 0.0
            for by in 0..<(cairo.height / block) {
                for bx in 0..<(cairo.width / block) {
                    var sumA = [0.0, 0, 0], sumB = [0.0, 0, 0]
                    for y in by * block..<(by + 1) * block {
                        for x in bx * block..<(bx + 1) * block {
                            let a = Self.overWhite(cairo.pixels[y * cairo.width + x])
                            let b = Self.overWhite(shot.pixels[y * shot.width + x])
                            for c in 0..<3 { sumA[c] += a[c]; sumB[c] += b[c] }
                        }
                    }
                    let difference = (0..<3).map { abs(sumA[$0] - sumB[$0]) / Double(block * block) }.max()!
                    worst = max(worst, difference)
                    blocks += 1
                    if difference > 48 { different += 1 }
                }
            }
            let share = Double(different) / Double(blocks)
            print("SVGInChromium \(name): \(different) of \(blocks) blocks differ (worst \(worst))")
            XCTAssertLessThan(share, 0.001, "\(name): \(different) of \(blocks) 4×4 blocks differ by more than 48 of 255")
        }
    }

    /// RGB in 0...255 of a premultiplied ARGB pixel composed over white.
    static func overWhite(_ pixel: UInt32) -> [Double] {
        let alpha = Double(pixel >> 24 & 0xFF)
        return [pixel >> 16 & 0xFF, pixel >> 8 & 0xFF, pixel & 0xFF].map { Double($0) + 255 - alpha }
    }
}
