/// One legend item: a small sample of what a series or category looks like, and its label.
public struct LegendEntry: Hashable, Sendable {
    public enum Swatch: Hashable, Sendable {
        /// A short line (with an optional marker in its middle).
        case line(Color, width: Double, dash: [Double], marker: MarkerShape?)
        /// A marker alone.
        case marker(MarkerShape, Color)
        /// A filled square (colours, hatches), with an optional outline.
        case area(Paint, outline: Color?)
        /// A translucent band with its centre line (mean ± spread).
        case band(fill: Color, line: Color, width: Double)
    }

    public var label: String
    public var swatch: Swatch

    public init(label: String, swatch: Swatch) {
        self.label = label
        self.swatch = swatch
    }
}

/// Lays legend entries out in a grid of equal columns, filled row by row, as many columns as fit.
enum LegendLayout {
    static let columnGap = 10.0
    static let rowGap = 2.0
    static let swatchGap = 4.0

    static func swatchWidth(_ swatch: LegendEntry.Swatch, theme: Theme) -> Double {
        switch swatch {
        case .line, .band: return 16
        case .marker, .area: return theme.legendSize
        }
    }

    /// Marks for the legend with its top-left corner at `origin`, no wider than `maxWidth`, and the
    /// size it takes. Labels too long for a single column are truncated with "…".
    static func grid(_ entries: [LegendEntry], origin: Point, maxWidth: Double, theme: Theme,
                     measurer: TextMeasurer) -> (marks: [Mark], size: Size) {
        guard !entries.isEmpty else { return ([], Size(width: 0, height: 0)) }
        let style = theme.legendStyle
        let swatchWidths = entries.map { swatchWidth($0.swatch, theme: theme) }
        let maxSwatch = swatchWidths.max() ?? 0
        // As many columns as leave each label at least min(its natural width, 80 pt); labels longer
        // than their column are truncated.
        let natural = entries.map { measurer.measure($0.label, style: style).width }.max() ?? 0
        func labelRoom(_ columns: Int) -> Double {
            (maxWidth - Double(columns - 1) * columnGap) / Double(columns) - maxSwatch - swatchGap
        }
        var columns = 1
        for c in stride(from: entries.count, through: 1, by: -1) where labelRoom(c) >= min(natural, 80) {
            columns = c
            break
        }
        let room = max(labelRoom(columns), 10)
        let labels = measurer.distinctLabels(entries.map(\.label), style: style, maxWidth: room)
        let itemWidths = labels.map { maxSwatch + swatchGap + measurer.measure($0, style: style).width }
        let cellWidth = itemWidths.max() ?? 0
        let rowHeight = measurer.measure("Ag", style: style).height
        var marks: [Mark] = []
        for (i, entry) in entries.enumerated() {
            let column = i % columns, row = i / columns
            let x = origin.x + Double(column) * (cellWidth + columnGap)
            let y = origin.y + Double(row) * (rowHeight + rowGap)
            let middle = y + rowHeight / 2
            marks += swatchMarks(entry.swatch, x: x, width: maxSwatch, middleY: middle, theme: theme)
            marks.append(.text(TextMark(labels[i], at: Point(x: x + maxSwatch + swatchGap, y: middle),
                                        style: style, horizontal: .start, vertical: .middle)))
        }
        let rows = (entries.count + columns - 1) / columns
        let width = Double(columns) * cellWidth + Double(columns - 1) * columnGap
        return (marks, Size(width: width, height: Double(rows) * rowHeight + Double(rows - 1) * rowGap))
    }

    static func swatchMarks(_ swatch: LegendEntry.Swatch, x: Double, width: Double, middleY: Double, theme: Theme) -> [Mark] {
        switch swatch {
        case .line(let color, let lineWidth, let dash, let marker):
            var marks: [Mark] = [.path(.line(from: Point(x: x, y: middleY), to: Point(x: x + width, y: middleY)),
                                       .stroke(color, width: lineWidth, dash: dash))]
            if let marker {
                marks.append(.path(marker.path(center: Point(x: x + width / 2, y: middleY), radius: 2.2), .fill(color)))
            }
            return marks
        case .marker(let shape, let color):
            let r = 2.6
            return [.path(shape.path(center: Point(x: x + width / 2, y: middleY), radius: r), .fill(color))]
        case .band(let fill, let line, let lineWidth):
            let h = theme.legendSize * 0.9
            return [
                .rect(Rect(x: x, y: middleY - h / 2, width: width, height: h), .fill(fill)),
                .path(.line(from: Point(x: x, y: middleY), to: Point(x: x + width, y: middleY)), .stroke(line, width: lineWidth)),
            ]
        case .area(let paint, let outline):
            let side = min(width, theme.legendSize)
            return [.rect(Rect(x: x + (width - side) / 2, y: middleY - side / 2, width: side, height: side),
                          Style(fill: paint, stroke: outline, lineWidth: 0.5))]
        }
    }
}
