/// Common figure widths in points (1 pt = 1/72 in).
public enum FigureWidth {
    /// One column of a two-column paper, ≈ 3.3 in.
    public static let singleColumn = 240.0
    /// The full text width of a two-column paper, ≈ 6.9 in.
    public static let doubleColumn = 500.0

    /// `width` when it is usable for a figure (finite and wider than 60 pt), else one column.
    static func usable(_ width: Double) -> Double {
        width.isFinite && width > 60 ? width : singleColumn
    }
}

/// Sizes (points), colours and fonts shared by every chart. The defaults give 8–10 pt text, right
/// for a figure printed at its own width in a paper; only cell annotations may shrink below 8 pt
/// (down to `minimumAnnotationSize`) to fit their cells.
public struct Theme: Hashable, Sendable {
    public var fontFamily = "DejaVu Sans"
    public var titleSize = 10.0
    public var subtitleSize = 8.5
    public var axisTitleSize = 8.5
    public var tickLabelSize = 8.0
    public var legendSize = 8.0
    public var annotationSize = 8.0
    public var minimumAnnotationSize = 6.0
    /// Labels of dense axes (many heatmap rows) shrink down to this size before being thinned out.
    public var minimumLabelSize = 6.0

    public var textColor = Color(hex: 0x1A1A1A)
    public var mutedTextColor = Color(hex: 0x555555)
    public var axisColor = Color(hex: 0x333333)
    public var gridColor = Color(hex: 0xE4E4E4)
    public var axisLineWidth = 0.6
    public var gridLineWidth = 0.5
    public var tickLength = 3.0
    /// Gap between a tick and its label.
    public var tickLabelGap = 2.0
    public var seriesLineWidth = 1.2
    /// Space kept free around the whole figure.
    public var margin = 5.0

    public init() {}

    /// The default paper theme.
    public static let paper = Theme()

    /// This theme in `fontFamily` with every text size scaled by `baseSize` / 8 pt (8 pt is the
    /// paper theme's tick-label size, the base the other sizes derive from: titles 1.25 ×, axis
    /// titles and subtitles 1.0625 ×, the minimum label and annotation sizes 0.75 ×).
    /// A `baseSize` that is not finite and positive leaves the sizes as they are.
    public func styled(fontFamily: String, baseSize: Double) -> Theme {
        var theme = self
        theme.fontFamily = fontFamily
        guard baseSize.isFinite, baseSize > 0 else { return theme }
        let k = baseSize / 8
        theme.titleSize *= k
        theme.subtitleSize *= k
        theme.axisTitleSize *= k
        theme.tickLabelSize *= k
        theme.legendSize *= k
        theme.annotationSize *= k
        theme.minimumAnnotationSize *= k
        theme.minimumLabelSize *= k
        return theme
    }

    func text(_ size: Double, weight: FontWeight = .regular, color: Color? = nil, italic: Bool = false) -> TextStyle {
        TextStyle(fontFamily: fontFamily, size: size, weight: weight, italic: italic, color: color ?? textColor)
    }

    var tickStyle: TextStyle { text(tickLabelSize) }
    var axisTitleStyle: TextStyle { text(axisTitleSize) }
    var legendStyle: TextStyle { text(legendSize) }
}
