import Foundation

/// One line of a layer profile: a value per layer.
public struct LayerSeries: Hashable, Sendable {
    public var name: String
    public var values: [Double]
    /// The x position of each value; nil for 0, 1, 2, …. Extra entries on either side are ignored.
    public var layers: [Double]?
    /// In the large form, only highlighted series are drawn as lines (over the quantile bands).
    public var highlighted: Bool

    public init(name: String, values: [Double], layers: [Double]? = nil, highlighted: Bool = false) {
        self.name = name
        self.values = values
        self.layers = layers
        self.highlighted = highlighted
    }

    /// (x, y) pairs, non-finite y included.
    var points: [(x: Double, y: Double)] {
        let xs = layers ?? values.indices.map(Double.init)
        return zip(xs, values).map { ($0, $1) }
    }
}

/// A line chart of a quantity (usually a distance) against layer index: one line per pair or task,
/// an optional mean ± spread band, a legend, and direct labels at line ends when there is room.
///
/// Contracts:
/// - A non-finite value (NaN, ±∞) breaks its line; a point with no finite neighbour is drawn as a dot.
/// - Series beyond the palette's colour count are told apart by dash patterns.
/// - Direct labels are used when every series ends at the last layer and all names fit, unshortened,
///   in a right margin of at most 25 % of the width, stacked without overlap; otherwise the legend
///   lists the series (`.automatic`).
/// - Large form (`isLarge`: more than `FigureDensity.largeTaskCount` series): instead of one line
///   per series, the median over the series at each layer and two bands, the 10–90 % and the
///   25–75 % quantiles (`quantileRows`, linear interpolation between order statistics as NumPy's
///   default; non-finite values left out); only the `highlighted` series are drawn as lines on top,
///   and `band` is ignored.
public struct LayerProfile: Sendable {
    public enum Band: Hashable, Sendable {
        case none
        /// Mean of the series at each layer ± one sample standard deviation (0 for a single value).
        case meanAndStandardDeviation
        /// Mean with the band from the minimum to the maximum.
        case meanAndRange
        /// Given centre and bounds at the given layers.
        case explicit(layers: [Double], center: [Double], lower: [Double], upper: [Double], label: String)
    }

    public enum LegendMode: Hashable, Sendable {
        /// A legend when the series are not labelled directly (the band always gets an entry).
        case automatic
        case always
        case never
    }

    public var series: [LayerSeries]
    public var xTitle: String?
    public var yTitle: String?
    public var title: String?
    public var subtitle: String?
    public var band: Band
    /// nil picks Okabe–Ito for up to 6 series and Tableau 10 beyond.
    public var palette: Palette?
    public var directLabels: Bool
    public var legend: LegendMode
    /// Start the y axis at 0 when all values are positive.
    public var yIncludesZero: Bool
    /// Draw a small marker at every point.
    public var markers: Bool
    /// The large form (see the type's notes); nil decides by the number of series.
    public var largeForm: Bool?

    /// True when the profile takes its large form.
    public var isLarge: Bool { largeForm ?? FigureDensity.isLarge(taskCount: series.count) }

    /// The quantile levels of the large form's bands: outer 10–90 %, inner 25–75 %.
    public static let outerQuantiles = (0.1, 0.9)
    public static let innerQuantiles = (0.25, 0.75)

    /// Quantiles over the series at one layer.
    public struct QuantileRow: Hashable, Sendable {
        public var x: Double
        public var median: Double
        public var outerLower: Double
        public var innerLower: Double
        public var innerUpper: Double
        public var outerUpper: Double
        /// How many finite values the layer has.
        public var count: Int
    }

    public init(series: [LayerSeries], xTitle: String? = "Layer", yTitle: String? = nil, title: String? = nil,
                subtitle: String? = nil, band: Band = .none) {
        self.series = series
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.title = title
        self.subtitle = subtitle
        self.band = band
        self.palette = nil
        self.directLabels = true
        self.legend = .automatic
        self.yIncludesZero = false
        self.markers = false
    }

    /// The band as (x, centre, lower, upper) rows sorted by x; empty for `.none`.
    public var bandRows: [(x: Double, center: Double, lower: Double, upper: Double)] {
        switch band {
        case .none:
            return []
        case .explicit(let layers, let center, let lower, let upper, _):
            let n = min(layers.count, center.count, lower.count, upper.count)
            return (0..<n).map { (layers[$0], center[$0], lower[$0], upper[$0]) }
                .filter { $0.0.isFinite && $0.1.isFinite && $0.2.isFinite && $0.3.isFinite }
                .sorted { $0.x < $1.x }
        case .meanAndStandardDeviation, .meanAndRange:
            var byLayer: [Double: [Double]] = [:]
            for s in series {
                for p in s.points where p.x.isFinite && p.y.isFinite { byLayer[p.x, default: []].append(p.y) }
            }
            return byLayer.keys.sorted().map { x in
                let ys = byLayer[x]!
                let mean = ys.reduce(0, +) / Double(ys.count)
                if band == .meanAndRange { return (x, mean, ys.min()!, ys.max()!) }
                let variance = ys.count > 1 ? ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ys.count - 1) : 0
                let sd = variance.squareRoot()
                return (x, mean, mean - sd, mean + sd)
            }
        }
    }

    /// Per layer (sorted by x), the median and the band quantiles of the finite values of every
    /// series at that x; layers without a finite value are left out.
    public var quantileRows: [QuantileRow] {
        var byLayer: [Double: [Double]] = [:]
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite { byLayer[p.x, default: []].append(p.y) }
        }
        return byLayer.keys.sorted().map { x in
            let ys = byLayer[x]!.sorted()
            func q(_ level: Double) -> Double { Self.quantile(sorted: ys, level) }
            return QuantileRow(x: x, median: q(0.5), outerLower: q(Self.outerQuantiles.0), innerLower: q(Self.innerQuantiles.0),
                               innerUpper: q(Self.innerQuantiles.1), outerUpper: q(Self.outerQuantiles.1), count: ys.count)
        }
    }

    /// The `level` quantile (0...1) of ascending finite values, interpolating linearly between the
    /// order statistics at (n − 1) · level (NumPy's default); NaN for no values.
    public static func quantile(sorted values: [Double], _ level: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = min(max(level, 0), 1) * Double(values.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, values.count - 1)
        let fraction = position - Double(low)
        return values[low] + (values[high] - values[low]) * fraction
    }

    var bandLabel: String {
        switch band {
        case .none: return ""
        case .meanAndStandardDeviation: return "mean ± 1 SD"
        case .meanAndRange: return "mean, min–max"
        case .explicit(_, _, _, _, let label): return label
        }
    }

    public func scene(width: Double = FigureWidth.singleColumn, theme: Theme = .paper, measurer: TextMeasurer = .shared) -> Scene {
        guard isLarge else {
            return LayerProfileLayout(profile: self, width: FigureWidth.usable(width), theme: theme, measurer: measurer).scene()
        }
        // The large form: the quantiles of every series, then only the highlighted series as lines.
        var drawn = self
        drawn.series = series.filter(\.highlighted)
        drawn.band = .none
        drawn.largeForm = false
        var layout = LayerProfileLayout(profile: drawn, width: FigureWidth.usable(width), theme: theme, measurer: measurer)
        layout.quantiles = quantileRows
        layout.quantileSeriesCount = series.count
        return layout.scene()
    }
}
