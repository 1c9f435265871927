import Foundation

/// A heatmap of a matrix (usually N×N task distances or correlations) with labelled rows and
/// columns, a colour bar, optional cell annotations and a legend entry for missing values.
///
/// Contracts:
/// - `values` is row-major; ragged rows are padded with NaN to the longest row. Missing labels are
///   replaced by their 1-based index; extra labels are ignored.
/// - NaN is "missing": drawn with `missingStyle` and named in the legend under the colour bar.
///   +∞ and −∞ take the top and bottom colours of the map and are annotated "∞" / "−∞"; they are
///   ignored when the colour range is computed.
/// - An order lists row (column) indices in display order; out-of-range or repeated indices are
///   dropped and any forgotten index is appended in its original order.
/// - A 0×0 matrix gives a figure with the title and the note "No data".
/// - Large matrices (`FigureDensity.rastersHeatmapCells`, above 40 rows or columns) draw their
///   cells as one embedded bitmap, one pixel per cell scaled with nearest-neighbour (crisp in PDF,
///   PNG and SVG), missing cells in flat grey (a hatch needs more than a pixel); the SVG then has
///   one tooltip per row (the task, its position and cluster) instead of one per cell. Axes,
///   labels and the colour bar stay vector. Smaller matrices draw one rectangle per cell.
/// - `dendrogram` and `clusterLabels` apply to a square matrix whose rows and columns are the same
///   tasks in the same order (`init(values:labels:order:…)`); otherwise they are ignored.
public struct Heatmap: Sendable {
    public enum ColorScale: Hashable, Sendable {
        /// Low values dark, high values light (distances).
        case sequential(ColorMap)
        /// A neutral colour at `center`, symmetric range around it (correlations).
        case diverging(ColorMap, center: Double)

        public static let viridis = ColorScale.sequential(.viridis)
        public static let magma = ColorScale.sequential(.magma)
        /// Blue–white–red centred at 0.
        public static let correlation = ColorScale.diverging(.blueRed, center: 0)
    }

    public enum MissingStyle: Hashable, Sendable {
        /// Light grey with darker diagonal lines: unmistakable in colour and in greyscale print.
        case hatched
        /// A flat mid grey.
        case grey
    }

    /// How the cells (i, i) of a square matrix are drawn.
    public enum Diagonal: Hashable, Sendable {
        /// Like every other cell.
        case data
        /// In the colour of their value, but left out of the automatic colour range and of the
        /// clipping arrows (a distance's zero to itself, which says nothing about the pairs).
        case context
        /// Not drawn, not annotated and not named as missing (a quantity undefined by design
        /// on the diagonal, such as the merge loss of a task with itself).
        case empty
    }

    public var values: [[Double]]
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var rowOrder: [Int]?
    public var columnOrder: [Int]?
    public var title: String?
    public var subtitle: String?
    public var colorScale: ColorScale
    /// The colour range; nil takes the finite minimum and maximum (a symmetric range for diverging
    /// scales). Values outside are drawn with the end colours.
    public var range: ClosedRange<Double>?
    /// Write each value in its cell (dropped when the cells are too small even at the minimum size).
    public var annotate: Bool
    /// Digits after the decimal point in annotations.
    public var decimals: Int
    public var missingStyle: MissingStyle
    /// Legend text for missing cells.
    public var missingLabel: String
    public var colorBarTitle: String?
    /// The largest cell side in points (so that a small matrix does not fill a wide page).
    public var maximumCellSize: Double
    /// How the diagonal cells are drawn (`.data` by default); applies to the cells whose row and
    /// column index (before ordering) are equal.
    public var diagonal: Diagonal
    /// A clustering of the tasks, drawn left of the rows and above the columns (seaborn's
    /// clustermap); give the same clustering's leaf order as `order`, or its links cross. nil
    /// (default): no tree.
    public var dendrogram: Dendrogram?
    /// A cluster per task (indices into `values`; any integers, equal means same cluster). When the
    /// tick labels do not fit even at the minimum size, coloured bands along the rows and columns
    /// (one colour per cluster, numbered with the label where a number fits) replace the thinned-out
    /// labels. Ignored unless there is one label per task.
    public var clusterLabels: [Int]?

    /// A square matrix whose rows and columns share `labels`; `order` (e.g. a clustering order)
    /// applies to both.
    public init(values: [[Double]], labels: [String], order: [Int]? = nil, title: String? = nil, subtitle: String? = nil,
                colorScale: ColorScale = .viridis, range: ClosedRange<Double>? = nil, annotate: Bool = false,
                decimals: Int = 2, colorBarTitle: String? = nil) {
        self.init(values: values, rowLabels: labels, columnLabels: labels, title: title, subtitle: subtitle,
                  colorScale: colorScale, range: range, annotate: annotate, decimals: decimals, colorBarTitle: colorBarTitle)
        self.rowOrder = order
        self.columnOrder = order
    }

    public init(values: [[Double]], rowLabels: [String], columnLabels: [String], title: String? = nil, subtitle: String? = nil,
                colorScale: ColorScale = .viridis, range: ClosedRange<Double>? = nil, annotate: Bool = false,
                decimals: Int = 2, colorBarTitle: String? = nil) {
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.subtitle = subtitle
        self.colorScale = colorScale
        self.range = range
        self.annotate = annotate
        self.decimals = decimals
        self.missingStyle = .hatched
        self.missingLabel = "missing"
        self.colorBarTitle = colorBarTitle
        self.maximumCellSize = 40
        self.diagonal = .data
        self.dendrogram = nil
        self.clusterLabels = nil
    }

    /// Whether the cell at (row, column), as indices into `values`, is part of the colour range.
    func isScaled(row: Int, column: Int) -> Bool { row != column || diagonal == .data }

    /// The finite values that set the colour range and the clipping arrows.
    var scaledValues: [Double] {
        values.enumerated().flatMap { r, row in row.enumerated().filter { isScaled(row: r, column: $0.offset) }.map(\.element) }
            .filter(\.isFinite)
    }

    /// Whether some scaled value lies below (`low`) or above (`high`) the colour domain; ±∞ count.
    public var clipping: (low: Bool, high: Bool) {
        let domain = colorDomain
        let scaled = values.enumerated().flatMap { r, row in row.enumerated().filter { isScaled(row: r, column: $0.offset) }.map(\.element) }
        return (scaled.contains { $0 < domain.lowerBound }, scaled.contains { $0 > domain.upperBound })
    }

    /// The colour domain actually used (after defaults and widening of a zero-width range).
    public var colorDomain: ClosedRange<Double> {
        let finite = scaledValues
        switch colorScale {
        case .sequential:
            let lo = range?.lowerBound ?? finite.min() ?? 0
            let hi = range?.upperBound ?? finite.max() ?? 1
            return NiceTicks.sanitizedRange(lo, hi)
        case .diverging(_, let center):
            var reach = range.map { max(abs($0.lowerBound - center), abs($0.upperBound - center)) }
                ?? finite.map { abs($0 - center) }.max() ?? 1
            if !(reach > 0) || !reach.isFinite { reach = 1 }
            return (center - reach)...(center + reach)
        }
    }

    var colorMap: ColorMap {
        switch colorScale {
        case .sequential(let map), .diverging(let map, _): return map
        }
    }

    var missingPaint: Paint {
        switch missingStyle {
        case .hatched: return .hatch(background: Color(hex: 0xF2F2F2), line: Color(hex: 0x9A9A9A), spacing: 2.8, lineWidth: 0.5)
        case .grey: return .color(Self.rasterMissingColor)
        }
    }

    /// Missing cells of a bitmap (`FigureDensity.rastersHeatmapCells`): the flat grey of `.grey`.
    static let rasterMissingColor = Color(hex: 0xBDBDBD)

    /// The fill of a value (NaN → the missing paint).
    func paint(for value: Double, domain: ClosedRange<Double>) -> Paint {
        guard !value.isNaN else { return missingPaint }
        let t = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        return .color(colorMap.color(at: t.isNaN ? 0.5 : t)!)
    }

    public func scene(width: Double = FigureWidth.singleColumn, theme: Theme = .paper, measurer: TextMeasurer = .shared) -> Scene {
        HeatmapLayout(heatmap: self, width: width, theme: theme, measurer: measurer).scene()
    }
}

/// Shared helper: a permutation from a requested order (see `Heatmap` for the rules).
func sanitizedOrder(_ order: [Int]?, count: Int) -> [Int] {
    guard let order else { return Array(0..<count) }
    var seen = Set<Int>()
    var result = order.filter { $0 >= 0 && $0 < count && seen.insert($0).inserted }
    result += (0..<count).filter { !seen.contains($0) }
    return result
}
