/// A table as plain data: headers, rows of text cells with per-cell emphasis. It knows nothing of
/// drawing, so one value feeds the figure renderer (`TableFigure`) and text writers (HTML, LaTeX).
public struct TableData: Hashable, Sendable {
    public struct Emphasis: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let bold = Emphasis(rawValue: 1)
        public static let italic = Emphasis(rawValue: 2)
    }

    public enum Alignment: Hashable, Sendable { case leading, center, trailing }

    public struct Cell: Hashable, Sendable {
        public var text: String
        public var emphasis: Emphasis
        /// The number behind the text, if any (kept for writers that sort or re-format).
        public var value: Double?

        public init(_ text: String, emphasis: Emphasis = [], value: Double? = nil) {
            self.text = text
            self.emphasis = emphasis
            self.value = value
        }
    }

    public struct Row: Hashable, Sendable {
        public var header: String
        public var cells: [Cell]

        public init(header: String, cells: [Cell]) {
            self.header = header
            self.cells = cells
        }
    }

    public var title: String?
    public var caption: String?
    /// The header above the row headers (e.g. "Module").
    public var cornerHeader: String
    public var columnHeaders: [String]
    public var rows: [Row]
    /// Alignment per column; columns beyond the list are right-aligned (numbers).
    public var columnAlignments: [Alignment]

    public init(title: String? = nil, caption: String? = nil, cornerHeader: String = "", columnHeaders: [String],
                rows: [Row], columnAlignments: [Alignment] = []) {
        self.title = title
        self.caption = caption
        self.cornerHeader = cornerHeader
        self.columnHeaders = columnHeaders
        self.rows = rows
        self.columnAlignments = columnAlignments
    }

    /// The number of data columns: the longest of the headers and the rows.
    public var columnCount: Int { max(columnHeaders.count, rows.map(\.cells.count).max() ?? 0) }

    public func alignment(ofColumn c: Int) -> Alignment {
        c < columnAlignments.count ? columnAlignments[c] : .trailing
    }

    /// Which cell of each row is "best".
    public enum Best: Hashable, Sendable {
        case none
        case highest
        case lowest
        /// Largest absolute value (e.g. correlations of either sign).
        case highestMagnitude
    }

    /// A table of "mean (std)" cells, e.g. rows = modules, columns = metrics. In each row the best
    /// mean is bold (all of them when tied within 10⁻¹²). A NaN mean gives "–" and is never best;
    /// a NaN std gives "mean (–)". Shapes: `means[r][c]` and `stds[r][c]`; missing entries are NaN.
    public static func meanAndStd(rowHeaders: [String], columnHeaders: [String], means: [[Double]], stds: [[Double]],
                                  decimals: Int = 2, best: Best = .highest, cornerHeader: String = "",
                                  title: String? = nil, caption: String? = nil) -> TableData {
        func at(_ m: [[Double]], _ r: Int, _ c: Int) -> Double { r < m.count && c < m[r].count ? m[r][c] : .nan }
        let rows = rowHeaders.indices.map { r -> Row in
            let rowMeans = columnHeaders.indices.map { at(means, r, $0) }
            let scores: [Double] = rowMeans.map { v in
                guard v.isFinite else { return -.infinity }
                switch best {
                case .none, .highest: return v
                case .lowest: return -v
                case .highestMagnitude: return abs(v)
                }
            }
            let top = scores.max() ?? -.infinity
            let cells = columnHeaders.indices.map { c -> Cell in
                let mean = rowMeans[c], std = at(stds, r, c)
                guard !mean.isNaN else { return Cell("–") }
                let text = NumberFormat.fixed(mean, decimals: decimals) + " (" + (std.isNaN ? "–" : NumberFormat.fixed(std, decimals: decimals)) + ")"
                let isBest = best != .none && top > -.infinity && abs(scores[c] - top) <= 1e-12
                return Cell(text, emphasis: isBest ? .bold : [], value: mean)
            }
            return Row(header: rowHeaders[r], cells: cells)
        }
        return TableData(title: title, caption: caption, cornerHeader: cornerHeader, columnHeaders: columnHeaders, rows: rows)
    }
}
