import Foundation

/// Which point of the text's box sits on the anchor, horizontally.
public enum HorizontalAnchor: Hashable, Sendable { case start, middle, end }

/// Which line of the text's box sits on the anchor, vertically. `.baseline` is the first line's baseline.
public enum VerticalAnchor: Hashable, Sendable { case top, middle, baseline, bottom }

/// A piece of text placed at an anchor point. Lines are separated by "\n" and aligned to the
/// horizontal anchor. The text is plain (no markup) and shaped by Pango.
public struct TextMark: Hashable, Sendable {
    public var text: String
    public var position: Point
    public var style: TextStyle
    public var horizontal: HorizontalAnchor
    public var vertical: VerticalAnchor
    /// Counter-clockwise rotation in degrees about `position`, as read on the page.
    public var rotation: Double

    public init(
        _ text: String, at position: Point, style: TextStyle,
        horizontal: HorizontalAnchor = .start, vertical: VerticalAnchor = .baseline, rotation: Double = 0
    ) {
        self.text = text
        self.position = position
        self.style = style
        self.horizontal = horizontal
        self.vertical = vertical
        self.rotation = rotation
    }

    /// The offset from the anchor to the top-left corner of the unrotated text box.
    public func boxOffset(for metrics: TextMetrics) -> Point {
        let dx: Double
        switch horizontal {
        case .start: dx = 0
        case .middle: dx = -metrics.width / 2
        case .end: dx = -metrics.width
        }
        let dy: Double
        switch vertical {
        case .top: dy = 0
        case .middle: dy = -metrics.height / 2
        case .baseline: dy = -metrics.baseline
        case .bottom: dy = -metrics.height
        }
        return Point(x: dx, y: dy)
    }

    /// The four corners of the (rotated) text box on the page.
    public func corners(for metrics: TextMetrics) -> [Point] {
        let o = boxOffset(for: metrics)
        let local = [
            Point(x: o.x, y: o.y), Point(x: o.x + metrics.width, y: o.y),
            Point(x: o.x + metrics.width, y: o.y + metrics.height), Point(x: o.x, y: o.y + metrics.height),
        ]
        let radians = rotation * Double.pi / 180
        let c = cos(radians), s = sin(radians)
        // Counter-clockwise on a y-down page: x' = x cos + y sin, y' = −x sin + y cos.
        return local.map { p in
            Point(x: position.x + p.x * c + p.y * s, y: position.y - p.x * s + p.y * c)
        }
    }

    /// The axis-aligned box around the (rotated) text on the page.
    public func bounds(for metrics: TextMetrics) -> Rect {
        Rect(enclosing: corners(for: metrics))!
    }
}

/// One drawable element of a scene.
public indirect enum Mark: Hashable, Sendable {
    case path(Path, Style)
    case rect(Rect, Style)
    case text(TextMark)
    /// Marks drawn only inside `clip`.
    case clipped(Rect, [Mark])
    /// Marks in their own coordinates, placed on the page by `Transform` (translation and uniform
    /// scale; line widths and text scale too). See `Scene.placed(at:scale:)`.
    case group(Transform, [Mark])
    /// Marks carrying a plain-text tooltip (e.g. "cola × rte · cosine = 0.42"): the SVG writer puts
    /// it in a `<title>` element, which browsers show on hover without script; Cairo (PDF, PNG)
    /// draws the marks and ignores the text.
    case titled(String, [Mark])
    /// A bitmap stretched over `rect` (its pixel (0, 0) at the top-left corner), drawn with
    /// `interpolation`: Cairo embeds it as one image in a PDF and paints it into a PNG; the SVG
    /// writer writes an `<image>` with the bitmap as a base64 PNG data URI. For figures whose
    /// elements are too many to draw one by one (the cells of a 500 × 500 heatmap), as
    /// matplotlib's `rasterized=True`; axes and text around it stay vector.
    case image(RasterImage, in: Rect, interpolation: ImageInterpolation)
}

/// How a bitmap is resampled when drawn larger or smaller than its pixels.
public enum ImageInterpolation: Hashable, Sendable {
    /// Every pixel a crisp square (heatmap cells): Cairo's NEAREST filter, PDF `/Interpolate false`,
    /// SVG `image-rendering: pixelated`.
    case nearest
    /// The viewer's smooth filter (photographs).
    case smooth
}

/// A figure as a value: a page size in points, an optional background and marks drawn in order.
/// Scenes know nothing of output formats; a `Renderer` turns them into bytes.
public struct Scene: Hashable, Sendable {
    public var size: Size
    /// Painted under every mark; nil leaves the page transparent (SVG, PNG) or blank (PDF).
    public var background: Color?
    public var marks: [Mark]
    /// A plain-text title for metadata: the PDF Title entry and the SVG `<title>` element.
    public var title: String?

    public init(size: Size, background: Color? = .white, marks: [Mark] = [], title: String? = nil) {
        self.size = size
        self.background = background
        self.marks = marks
        self.title = title
    }

    public mutating func add(_ mark: Mark) { marks.append(mark) }
    public mutating func add(_ marks: [Mark]) { self.marks += marks }

    /// The marks with each `.titled` mark replaced by the marks it holds (at the top level, and
    /// inside titled marks): what a reader of the scene sees without the tooltips.
    public var untitledMarks: [Mark] {
        func flatten(_ marks: [Mark]) -> [Mark] {
            marks.flatMap { mark -> [Mark] in
                if case .titled(_, let inner) = mark { return flatten(inner) }
                return [mark]
            }
        }
        return flatten(marks)
    }

    /// Every text mark, including those inside clipped and transformed groups, in drawing order
    /// and in page coordinates: marks inside a `.group` are moved and their font size scaled
    /// (`TextMark.transformed(by:)`).
    public var textMarks: [TextMark] {
        func collect(_ marks: [Mark], _ transform: Transform) -> [TextMark] {
            marks.flatMap { mark -> [TextMark] in
                switch mark {
                case .text(let t): return [transform == .identity ? t : t.transformed(by: transform)]
                case .clipped(_, let inner), .titled(_, let inner): return collect(inner, transform)
                case .group(let inner, let children): return collect(children, transform.concatenating(inner))
                case .path, .rect, .image: return []
                }
            }
        }
        return collect(marks, .identity)
    }
}
