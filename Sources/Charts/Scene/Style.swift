/// How an area is filled.
public enum Paint: Hashable, Sendable {
    /// A flat colour.
    case color(Color)
    /// A linear gradient from `start` to `end` (scene coordinates); stops are (offset 0...1, colour),
    /// sorted by offset. Outside the segment the end colours continue.
    case linearGradient(start: Point, end: Point, stops: [GradientStop])
    /// A flat `background` crossed by diagonal lines (45°, rising to the right) of `line` colour,
    /// `spacing` points apart and `lineWidth` points wide; used for missing values.
    case hatch(background: Color, line: Color, spacing: Double, lineWidth: Double)
}

/// One stop of a gradient.
public struct GradientStop: Hashable, Sendable {
    /// Position along the gradient, 0...1.
    public var offset: Double
    public var color: Color

    public init(offset: Double, color: Color) {
        self.offset = offset
        self.color = color
    }
}

public enum LineCap: Hashable, Sendable { case butt, round, square }
public enum LineJoin: Hashable, Sendable { case miter, round, bevel }

/// Fill and stroke of a path or rectangle. A nil fill or stroke draws nothing for that part;
/// the fill is drawn first, then the stroke centred on the outline.
public struct Style: Hashable, Sendable {
    public var fill: Paint?
    public var stroke: Color?
    /// Stroke width in points.
    public var lineWidth: Double
    /// Dash lengths in points, alternating on and off; empty for a solid line.
    public var dash: [Double]
    public var lineCap: LineCap
    public var lineJoin: LineJoin

    public init(
        fill: Paint? = nil, stroke: Color? = nil, lineWidth: Double = 1, dash: [Double] = [],
        lineCap: LineCap = .butt, lineJoin: LineJoin = .miter
    ) {
        self.fill = fill
        self.stroke = stroke
        self.lineWidth = lineWidth
        self.dash = dash
        self.lineCap = lineCap
        self.lineJoin = lineJoin
    }

    /// A flat fill without outline.
    public static func fill(_ color: Color) -> Style { Style(fill: .color(color)) }

    /// An outline only.
    public static func stroke(_ color: Color, width: Double = 1, dash: [Double] = [], cap: LineCap = .butt, join: LineJoin = .miter) -> Style {
        Style(stroke: color, lineWidth: width, dash: dash, lineCap: cap, lineJoin: join)
    }
}

public enum FontWeight: Hashable, Sendable { case regular, bold }

/// Font and colour of a piece of text. Sizes are in points.
public struct TextStyle: Hashable, Sendable {
    /// A fontconfig family name; "DejaVu Sans" is installed with the tool's dependencies. Glyphs
    /// missing from it fall back to whatever fontconfig finds (or a hex box when none has them).
    public var fontFamily: String
    public var size: Double
    public var weight: FontWeight
    public var italic: Bool
    public var color: Color

    public init(fontFamily: String = "DejaVu Sans", size: Double = 8, weight: FontWeight = .regular, italic: Bool = false, color: Color = .black) {
        self.fontFamily = fontFamily
        self.size = size
        self.weight = weight
        self.italic = italic
        self.color = color
    }

    public func with(size: Double? = nil, weight: FontWeight? = nil, italic: Bool? = nil, color: Color? = nil) -> TextStyle {
        var copy = self
        if let size { copy.size = size }
        if let weight { copy.weight = weight }
        if let italic { copy.italic = italic }
        if let color { copy.color = color }
        return copy
    }
}
