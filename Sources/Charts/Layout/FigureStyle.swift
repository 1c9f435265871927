import Foundation

/// The look of every figure of a study, as the user sets it (`--style FILE.json` or the study
/// file's `style` object): font, base size, titles, colour maps, colour range, cell annotations,
/// PNG resolution and width. One value flows to every figure kind, the HTML page's CSS and the
/// PDF pages. The defaults reproduce tvgeo's figures as they were before styles existed.
public struct FigureStyle: Hashable, Sendable {
    /// How a heatmap's colour scale is bounded.
    public enum ColourRange: Hashable, Sendable {
        /// The smallest to the largest finite off-diagonal value.
        case auto
        /// The 2nd to the 98th percentile of the finite off-diagonal values, each rounded inward
        /// to a data value (so at least the single smallest and largest value are clipped when they
        /// stand apart); clipped cells take the end colours and the colour bar shows an arrow.
        case robust
        /// Fixed bounds, `low < high`, both finite.
        case fixed(Double, Double)
    }

    public static let defaultFontFamily = "DejaVu Sans"

    /// The font family of every text (Pango resolves it with fontconfig).
    public var fontFamily = FigureStyle.defaultFontFamily
    /// The base size in points (tick labels); the other sizes derive from it (`Theme.styled`).
    public var fontSize = 8.0
    /// Whether figures carry their title and subtitle.
    public var titles = true
    /// The sequential map of the distance heatmaps.
    public var heatmapColourMap = ColorMap.viridis
    /// The diverging map of the merge-loss heatmap, centred at 0.
    public var deltaColourMap = ColorMap.blueRed
    /// The colour range of every heatmap without one of its own in `colourRanges`; a fixed range
    /// applies to the distance heatmaps only (the merge loss has other units).
    public var colourRange = ColourRange.auto
    /// Ranges of particular heatmaps, by metric id (`cosine`) or `delta` for the merge loss.
    public var colourRanges: [String: ColourRange] = [:]
    /// Whether heatmap cells carry their values (still only up to 12 tasks and when they fit).
    public var annotations = true
    /// Digits after the decimal point in cell annotations; nil leaves each metric's own.
    public var decimals: Int?
    /// PNG resolution in dots per inch (pixels per point = dpi / 72).
    public var pngDPI = 144.0
    /// The width of the wide figures in points; nil for the default (500 pt).
    public var width: Double?

    public init() {}

    public static let `default` = FigureStyle()

    /// The paper theme in this style's font and size.
    public var theme: Theme { Theme.paper.styled(fontFamily: fontFamily, baseSize: fontSize) }

    /// The colour range of the heatmaps of `id` (a metric id, or `delta` for the merge loss).
    public func colourRange(for id: String) -> ColourRange {
        if let own = colourRanges[id] { return own }
        if case .fixed = colourRange, id == "delta" { return .auto }
        return colourRange
    }

    /// A title when titles are on, else nil.
    public func title(_ text: String?) -> String? { titles ? text : nil }

    /// The PNG output format at this style's resolution.
    public var png: OutputFormat { .png(scale: pngDPI / 72) }

    /// The sequential colour maps a style may name, by name.
    public static let sequentialMaps: [ColorMap] = [.viridis, .cividis, .magma]
    /// The diverging colour maps a style may name for the merge loss, by name.
    public static let divergingMaps: [ColorMap] = [.blueRed, .purpleOrange]
}

extension FigureStyle.ColourRange {
    /// The colour range of `values` (off-diagonal values, possibly from several matrices that
    /// should share one scale), or nil when no finite value is there or the range is empty
    /// (the heatmap then chooses its own). Non-finite values are ignored.
    public func resolve(_ values: [Double]) -> ClosedRange<Double>? {
        if case .fixed(let low, let high) = self { return low < high ? low...high : nil }
        let finite = values.filter(\.isFinite).sorted()
        guard let first = finite.first, let last = finite.last else { return nil }
        switch self {
        case .auto, .fixed:
            return first < last ? first...last : nil
        case .robust:
            let (low, high) = Self.robustBounds(finite)
            return low < high ? low...high : (first < last ? first...last : nil)
        }
    }

    /// The 2nd and 98th percentiles of sorted values, rounded inward to data values: the values at
    /// positions ⌈0.02 (n − 1)⌉ and ⌊0.98 (n − 1)⌋ (NumPy's `higher` and `lower` methods).
    static func robustBounds(_ sorted: [Double]) -> (Double, Double) {
        let last = Double(sorted.count - 1)
        let low = Int((0.02 * last).rounded(.up)), high = Int((0.98 * last).rounded(.down))
        return (sorted[min(low, sorted.count - 1)], sorted[max(high, 0)])
    }
}
