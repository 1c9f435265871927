import Foundation

/// Writes a scene as an SVG 1.1 document itself, with text as `<text>` elements.
///
/// Cairo's SVG surface draws every glyph as an outline (`<symbol>` plus `<use>`), so text cannot
/// be selected, searched or edited, and a report full of heatmaps grows to megabytes. This writer
/// walks the marks instead:
/// - **Text** keeps the layout Pango measured: each line is placed at the position Pango gives it
///   (its logical left edge, centre or right edge, as the mark is anchored, and its baseline), so
///   a browser with the same font draws the glyphs where Cairo does, and one with another font
///   keeps the anchoring. Font family (with a generic fallback), size, weight, style and colour
///   are attributes; rotation is a `transform`; each line of a multi-line text is a `<tspan>`.
/// - **Shapes** draw as Cairo draws them: fill, then stroke; dashes, caps, joins, the miter limit
///   (Cairo's 10), alpha as `fill-opacity`/`stroke-opacity`; gradients and clips as definitions
///   placed just before their use; hatches as the background fill plus lines clipped to the shape,
///   computed as `CairoDrawing` does.
/// - **Groups** become `<g transform>`; `.titled` marks a `<g>` whose first child is a `<title>`
///   (a tooltip in browsers).
///
/// Determinism and safety: the same scene and figure id give the same bytes; numbers are written
/// locale-free with at most three decimals; every id is `<figureID>-<kind><n>` (kind `clip` or
/// `grad`, n counted from 1 per figure), so figures with distinct ids can share an HTML page;
/// every text and attribute is XML-escaped (characters XML forbids are dropped). Marks with
/// coordinates that are not finite are left out, as are texts Cairo would not draw.
public struct SVGSceneWriter: Sendable {
    /// The measurer whose Pango configuration positions the lines (the one builders measured with).
    public let measurer: TextMeasurer

    public init(measurer: TextMeasurer = .shared) {
        self.measurer = measurer
    }

    /// The SVG document of `scene`. Throws `RenderError.invalidFigureID` for an id that cannot
    /// prefix XML ids and `RenderError.invalidSize` for a size that is not finite and positive.
    public func svg(_ scene: Scene, figureID: String) throws -> Data {
        guard SVGIdentifiers.isValidFigureID(figureID) else { throw RenderError.invalidFigureID(figureID) }
        let size = scene.size
        guard size.width.isFinite, size.height.isFinite, size.width > 0, size.height > 0 else {
            throw RenderError.invalidSize(size)
        }
        var document = SVGDocumentBuilder(figureID: figureID, measurer: measurer,
                                          defaultFamily: Self.mostCommonFamily(in: scene.marks))
        document.write(scene)
        return Data(document.output.utf8)
    }

    /// The family most text marks use (the first seen among equals), set once on the root element.
    static func mostCommonFamily(in marks: [Mark]) -> String? {
        var counts: [String: Int] = [:]
        var order: [String] = []
        func visit(_ marks: [Mark]) {
            for mark in marks {
                switch mark {
                case .text(let t):
                    if counts[t.style.fontFamily] == nil { order.append(t.style.fontFamily) }
                    counts[t.style.fontFamily, default: 0] += 1
                case .clipped(_, let inner), .group(_, let inner), .titled(_, let inner): visit(inner)
                case .path, .rect, .image: break
                }
            }
        }
        visit(marks)
        return order.max { counts[$0]! < counts[$1]! || (counts[$0]! == counts[$1]! && order.firstIndex(of: $0)! > order.firstIndex(of: $1)!) }
    }

    /// A CSS font-family list: the family quoted, then the generic family its name suggests
    /// (`monospace` for "…Mono…", `serif` for "…Serif…" that is not sans, otherwise `sans-serif`).
    static func fontFamilyList(_ family: String) -> String {
        let lower = family.lowercased()
        let generic: String
        if lower.contains("mono") || lower.contains("courier") {
            generic = "monospace"
        } else if (lower.contains("serif") && !lower.contains("sans")) || lower.contains("times") || lower.contains("roman") {
            generic = "serif"
        } else {
            generic = "sans-serif"
        }
        var quoted = "'"
        for c in family.unicodeScalars {
            if c == "'" || c == "\\" { quoted += "\\" }
            quoted.unicodeScalars.append(c)
        }
        return quoted + "', " + generic
    }

    /// `value` with at most three decimals, no exponent, "." as separator, no "-0"; non-finite
    /// values (which callers leave out) as "0".
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = (value * 1000).rounded()
        guard abs(scaled) < 1e15 else { return String(Int(value.rounded())) }
        let magnitude = Int(abs(scaled))
        guard magnitude != 0 else { return "0" }
        var text = scaled < 0 ? "-" : ""
        text += String(magnitude / 1000)
        var fraction = magnitude % 1000
        if fraction != 0 {
            var digits = 3
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let body = String(fraction)
            text += "." + String(repeating: "0", count: digits - body.count) + body
        }
        return text
    }
}

/// The writing state of one document: the output and the id counters.
private struct SVGDocumentBuilder {
    let figureID: String
    let measurer: TextMeasurer
    let defaultFamily: String?
    var output = ""
    var clipCount = 0
    var gradientCount = 0

    init(figureID: String, measurer: TextMeasurer, defaultFamily: String?) {
        self.figureID = figureID
        self.measurer = measurer
        self.defaultFamily = defaultFamily
    }

    private func n(_ value: Double) -> String { SVGSceneWriter.number(value) }
    private func escape(_ text: String) -> String { SVGIdentifiers.escapeXML(text) }

    mutating func write(_ scene: Scene) {
        let w = n(scene.size.width), h = n(scene.size.height)
        output += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        output += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(w)pt\" height=\"\(h)pt\" viewBox=\"0 0 \(w) \(h)\""
        if let family = defaultFamily { output += " font-family=\"\(escape(SVGSceneWriter.fontFamilyList(family)))\"" }
        // Cairo's miter limit is 10 (SVG's default is 4); geometricPrecision asks the browser to
        // scale glyphs linearly, as Pango laid them out (hinting off).
        output += " stroke-miterlimit=\"10\" text-rendering=\"geometricPrecision\">\n"
        if let title = scene.title, !title.isEmpty { output += "<title>\(escape(title))</title>\n" }
        if let background = scene.background {
            output += "<rect width=\"\(w)\" height=\"\(h)\"\(fillAttributes(background))/>\n"
        }
        for mark in scene.marks { write(mark) }
        output += "</svg>\n"
    }

    mutating func write(_ mark: Mark) {
        switch mark {
        case .rect(let rect, let style):
            guard let r = normalized(rect) else { return }
            let shape = "<rect x=\"\(n(r.x))\" y=\"\(n(r.y))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\""
            writeShape(shape, bounds: r, style: style)
        case .path(let path, let style):
            guard !path.isEmpty, let d = pathData(path), let bounds = path.bounds else { return }
            writeShape("<path d=\"\(d)\"", bounds: bounds, style: style)
        case .text(let text):
            writeText(text)
        case .clipped(let rect, let marks):
            guard let r = normalized(rect) else { return }
            let id = nextClipID()
            output += "<clipPath id=\"\(id)\"><rect x=\"\(n(r.x))\" y=\"\(n(r.y))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\"/></clipPath>\n"
            output += "<g clip-path=\"url(#\(id))\">\n"
            for inner in marks { write(inner) }
            output += "</g>\n"
        case .group(let transform, let marks):
            guard transform.isDrawable else { return }
            var attribute = "translate(\(n(transform.dx)) \(n(transform.dy)))"
            if transform.scale != 1 { attribute += " scale(\(n(transform.scale)))" }
            output += "<g transform=\"\(attribute)\">\n"
            for inner in marks { write(inner) }
            output += "</g>\n"
        case .titled(let title, let marks):
            output += "<g><title>\(escape(title))</title>\n"
            for inner in marks { write(inner) }
            output += "</g>\n"
        case .image(let image, let rect, let interpolation):
            writeImage(image, in: rect, interpolation: interpolation)
        }
    }

    // MARK: Images

    /// An `<image>` with the bitmap as a base64 PNG data URI, stretched over the rectangle
    /// (`preserveAspectRatio="none"`). Nearest: `image-rendering="optimizeSpeed"` (SVG 1.1) and the
    /// CSS `pixelated`, which browsers that know it prefer. The xlink namespace is declared on the
    /// element, so documents without images keep their bytes.
    private mutating func writeImage(_ image: RasterImage, in rect: Rect, interpolation: ImageInterpolation) {
        guard let r = normalized(rect), r.width > 0, r.height > 0, let png = try? image.pngData() else { return }
        output += "<image x=\"\(n(r.x))\" y=\"\(n(r.y))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\""
        output += " preserveAspectRatio=\"none\""
        if interpolation == .nearest { output += " image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\"" }
        output += " xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:href=\"data:image/png;base64,"
        output += png.base64EncodedString() + "\"/>\n"
    }

    // MARK: Shapes

    private mutating func nextClipID() -> String {
        clipCount += 1
        return "\(figureID)-clip\(clipCount)"
    }

    /// A rectangle with non-negative sides (Cairo accepts negative ones); nil when not finite.
    private func normalized(_ r: Rect) -> Rect? {
        guard r.x.isFinite, r.y.isFinite, r.width.isFinite, r.height.isFinite else { return nil }
        return Rect(x: min(r.x, r.x + r.width), y: min(r.y, r.y + r.height), width: abs(r.width), height: abs(r.height))
    }

    private func pathData(_ path: Path) -> String? {
        var parts: [String] = []
        parts.reserveCapacity(path.elements.count)
        func point(_ p: Point) -> String? { p.x.isFinite && p.y.isFinite ? n(p.x) + " " + n(p.y) : nil }
        for element in path.elements {
            switch element {
            case .move(let p):
                guard let text = point(p) else { return nil }
                parts.append("M" + text)
            case .line(let p):
                guard let text = point(p) else { return nil }
                parts.append("L" + text)
            case .curve(let a, let b, let p):
                guard let ta = point(a), let tb = point(b), let tp = point(p) else { return nil }
                parts.append("C" + ta + " " + tb + " " + tp)
            case .close:
                parts.append("Z")
            }
        }
        return parts.joined(separator: " ")
    }

    private func fillAttributes(_ color: Color) -> String {
        var text = " fill=\"\(color.hexString)\""
        if color.alpha < 1 { text += " fill-opacity=\"\(n(color.alpha))\"" }
        return text
    }

    private func strokeAttributes(_ style: Style) -> String? {
        guard let stroke = style.stroke, style.lineWidth > 0, style.lineWidth.isFinite else { return nil }
        var text = " stroke=\"\(stroke.hexString)\""
        if stroke.alpha < 1 { text += " stroke-opacity=\"\(n(stroke.alpha))\"" }
        if style.lineWidth != 1 { text += " stroke-width=\"\(n(style.lineWidth))\"" }
        // As CairoDrawing: negative and non-finite lengths dropped; all zero is a solid line.
        let dash = style.dash.filter { $0.isFinite && $0 >= 0 }
        if !dash.isEmpty && !dash.allSatisfy({ $0 == 0 }) {
            text += " stroke-dasharray=\"\(dash.map(n).joined(separator: " "))\""
        }
        switch style.lineCap {
        case .butt: break
        case .round: text += " stroke-linecap=\"round\""
        case .square: text += " stroke-linecap=\"square\""
        }
        switch style.lineJoin {
        case .miter: break
        case .round: text += " stroke-linejoin=\"round\""
        case .bevel: text += " stroke-linejoin=\"bevel\""
        }
        return text
    }

    /// `shape` is the element's opening text without its paint (`<rect x=…` or `<path d=…`).
    private mutating func writeShape(_ shape: String, bounds: Rect, style: Style) {
        let stroke = strokeAttributes(style)
        switch style.fill {
        case nil:
            guard let stroke else { return }
            output += shape + " fill=\"none\"" + stroke + "/>\n"
        case .color(let color)?:
            output += shape + fillAttributes(color) + (stroke ?? "") + "/>\n"
        case .linearGradient(let start, let end, let stops)?:
            gradientCount += 1
            let id = "\(figureID)-grad\(gradientCount)"
            output += "<linearGradient id=\"\(id)\" gradientUnits=\"userSpaceOnUse\" x1=\"\(n(start.x))\" y1=\"\(n(start.y))\""
            output += " x2=\"\(n(end.x))\" y2=\"\(n(end.y))\">"
            for stop in stops {
                output += "<stop offset=\"\(n(min(max(stop.offset, 0), 1)))\" stop-color=\"\(stop.color.hexString)\""
                if stop.color.alpha < 1 { output += " stop-opacity=\"\(n(stop.color.alpha))\"" }
                output += "/>"
            }
            output += "</linearGradient>\n"
            output += shape + " fill=\"url(#\(id))\"" + (stroke ?? "") + "/>\n"
        case .hatch(let background, let line, let spacing, let lineWidth)?:
            // As CairoDrawing: the background, then lines x − y = c (c a multiple of the step)
            // across the shape's extents, clipped to the shape.
            output += shape + fillAttributes(background) + "/>\n"
            let id = nextClipID()
            output += "<clipPath id=\"\(id)\">" + shape + "/></clipPath>\n"
            let step = max(spacing, 0.5)
            let (x0, y0, x1, y1) = (bounds.minX, bounds.minY, bounds.maxX, bounds.maxY)
            var c = ((x0 - y1) / step).rounded(.down) * step
            let last = x1 - y0 + step
            var lines: [String] = []
            while c <= last && lines.count < 10_000 && bounds.width + bounds.height > 0 {
                lines.append("M\(n(y1 + c)) \(n(y1)) L\(n(y0 + c)) \(n(y0))")
                c += step
            }
            if !lines.isEmpty {
                var hatchStroke = " stroke=\"\(line.hexString)\""
                if line.alpha < 1 { hatchStroke += " stroke-opacity=\"\(n(line.alpha))\"" }
                if lineWidth != 1 { hatchStroke += " stroke-width=\"\(n(lineWidth))\"" }
                output += "<path d=\"\(lines.joined(separator: " "))\" fill=\"none\"\(hatchStroke) clip-path=\"url(#\(id))\"/>\n"
            }
            if let stroke { output += shape + " fill=\"none\"" + stroke + "/>\n" }
        }
    }

    // MARK: Text

    private mutating func writeText(_ mark: TextMark) {
        let style = mark.style
        guard !mark.text.isEmpty, style.size > 0, style.size.isFinite,
              mark.position.x.isFinite, mark.position.y.isFinite else { return }
        let lines = measurer.lines(mark.text, style: style, alignment: mark.horizontal).filter { !$0.text.isEmpty }
        guard !lines.isEmpty else { return }
        let offset = mark.boxOffset(for: measurer.measure(mark.text, style: style))
        let rotated = mark.rotation != 0 && mark.rotation.isFinite
        // Without rotation, lines are placed in page coordinates; with it, in the rotated frame
        // whose origin is the anchor.
        let origin = rotated ? Point.zero : mark.position
        func anchorX(_ line: TextLine) -> Double {
            switch mark.horizontal {
            case .start: return origin.x + offset.x + line.x
            case .middle: return origin.x + offset.x + line.x + line.width / 2
            case .end: return origin.x + offset.x + line.x + line.width
            }
        }
        func y(_ line: TextLine) -> Double { origin.y + offset.y + line.baseline }

        var attributes = ""
        if rotated {
            attributes += " transform=\"translate(\(n(mark.position.x)) \(n(mark.position.y))) rotate(\(n(-mark.rotation)))\""
        }
        if style.fontFamily != defaultFamily {
            attributes += " font-family=\"\(escape(SVGSceneWriter.fontFamilyList(style.fontFamily)))\""
        }
        attributes += " font-size=\"\(n(style.size))\""
        if style.weight == .bold { attributes += " font-weight=\"bold\"" }
        if style.italic { attributes += " font-style=\"italic\"" }
        if style.color != .black { attributes += fillAttributes(style.color) }
        switch mark.horizontal {
        case .start: break
        case .middle: attributes += " text-anchor=\"middle\""
        case .end: attributes += " text-anchor=\"end\""
        }
        // XML collapses runs of spaces unless asked not to; only texts that need it say so.
        if lines.contains(where: { $0.text.hasPrefix(" ") || $0.text.hasSuffix(" ") || $0.text.contains("  ") || $0.text.contains("\t") }) {
            attributes += " xml:space=\"preserve\""
        }
        if lines.count == 1 {
            let line = lines[0]
            output += "<text x=\"\(n(anchorX(line)))\" y=\"\(n(y(line)))\"\(attributes)>\(escape(line.text))</text>\n"
        } else {
            output += "<text\(attributes)>"
            for line in lines {
                output += "<tspan x=\"\(n(anchorX(line)))\" y=\"\(n(y(line)))\">\(escape(line.text))</tspan>"
            }
            output += "</text>\n"
        }
    }
}
