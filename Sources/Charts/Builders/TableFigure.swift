/// Draws a `TableData` as a figure in the booktabs style: a heavy rule above and below, a light
/// rule under the header, no vertical rules.
///
/// Contracts: columns take their natural widths and the spare width is shared between the column
/// gaps (at most 24 pt each). When the natural widths do not fit, in this order: headers and cells
/// break onto two or more lines at spaces ("0.58 (0.08)" → "0.58" over "(0.08)"), the font shrinks
/// in 0.5 pt steps down to `theme.minimumLabelSize`, row headers are truncated with "…", and as a
/// last resort the figure becomes wider than asked, so text is never clipped. Missing cells are blank.
public struct TableFigure: Sendable {
    public var table: TableData

    public init(_ table: TableData) {
        self.table = table
    }

    public func scene(width: Double = FigureWidth.singleColumn, theme: Theme = .paper, measurer: TextMeasurer = .shared) -> Scene {
        TableLayout(table: table, width: FigureWidth.usable(width),
                    theme: theme, measurer: measurer).scene()
    }
}

struct TableLayout {
    let table: TableData
    let width: Double
    let theme: Theme
    let measurer: TextMeasurer

    private let minimumGap = 6.0

    /// Texts of one attempt: corner + column headers, row headers, and cells (possibly wrapped).
    private struct Texts {
        var size: Double
        var headers: [String]
        var rowHeaders: [String]
        var cells: [[TableData.Cell?]]
    }

    private var columns: Int { table.columnCount }

    private func style(_ size: Double, _ emphasis: TableData.Emphasis) -> TextStyle {
        theme.text(size, weight: emphasis.contains(.bold) ? .bold : .regular, italic: emphasis.contains(.italic))
    }

    /// Natural widths: the row-header column, then each data column.
    private func widths(_ t: Texts) -> [Double] {
        let headerStyle = style(t.size, .bold)
        var result = [max(measurer.measure(t.headers[0], style: headerStyle).width,
                          t.rowHeaders.map { measurer.measure($0, style: style(t.size, [])).width }.max() ?? 0)]
        for c in 0..<columns {
            var widest = measurer.measure(t.headers[c + 1], style: headerStyle).width
            for row in t.cells {
                if let cell = row[c] { widest = max(widest, measurer.measure(cell.text, style: style(t.size, cell.emphasis)).width) }
            }
            result.append(widest)
        }
        return result
    }

    private func fits(_ t: Texts, available: Double) -> Bool {
        widths(t).reduce(0, +) + minimumGap * Double(columns) <= available
    }

    /// Breaks every header and cell at its spaces, one word per line.
    private func broken(_ t: Texts) -> Texts {
        var copy = t
        func lines(_ text: String) -> String { text.split(separator: " ").joined(separator: "\n") }
        copy.headers = [t.headers[0]] + t.headers.dropFirst().map(lines)
        copy.cells = t.cells.map { row in row.map { $0.map { TableData.Cell(lines($0.text), emphasis: $0.emphasis, value: $0.value) } } }
        return copy
    }

    func scene() -> Scene {
        let m = theme.margin
        var (scene, y) = Scene.titled(table.title, subtitle: nil, width: width, theme: theme, measurer: measurer)
        let available = width - 2 * m

        var texts = Texts(
            size: theme.tickLabelSize,
            headers: [table.cornerHeader] + (0..<columns).map { $0 < table.columnHeaders.count ? table.columnHeaders[$0] : "" },
            rowHeaders: table.rows.map(\.header),
            cells: table.rows.map { row in (0..<columns).map { $0 < row.cells.count ? row.cells[$0] : nil } })
        if !fits(texts, available: available) { texts = broken(texts) }
        while !fits(texts, available: available) && texts.size > theme.minimumLabelSize {
            texts.size = max(texts.size - 0.5, theme.minimumLabelSize)
        }
        var natural = widths(texts)
        let overflow = natural.reduce(0, +) + minimumGap * Double(columns) - available
        if overflow > 0 {
            let limit = max(30, natural[0] - overflow)
            texts.rowHeaders = measurer.distinctLabels(texts.rowHeaders, style: style(texts.size, []), maxWidth: limit)
            natural = widths(texts)
        }
        let spare = max(0, available - natural.reduce(0, +))
        let gap = columns > 0 ? min(max(spare / Double(columns), minimumGap), 24) : 0
        var xs: [Double] = []
        var x = m
        for w in natural {
            xs.append(x)
            x += w + gap
        }
        let tableWidth = natural.reduce(0, +) + gap * Double(columns)
        scene.size.width = max(width, (m + tableWidth + m).rounded(.up))

        func anchor(_ c: Int) -> (Double, HorizontalAnchor) {
            if c == 0 { return (xs[0], .start) }
            switch table.alignment(ofColumn: c - 1) {
            case .leading: return (xs[c], .start)
            case .center: return (xs[c] + natural[c] / 2, .middle)
            case .trailing: return (xs[c] + natural[c], .end)
            }
        }
        let size = texts.size
        let lineHeight = measurer.measure("Ag", style: style(size, [])).height
        let heavy = Style.stroke(theme.axisColor, width: 0.8)
        let light = Style.stroke(theme.axisColor, width: 0.45)
        let rule = { (y: Double, style: Style) in Mark.path(.line(from: Point(x: m, y: y), to: Point(x: m + tableWidth, y: y)), style) }

        scene.add(rule(y, heavy))
        y += 2
        // Header row: multi-line headers sit on the rule below them and grow upwards.
        let headerStyle = style(size, .bold)
        let headerHeight = max(lineHeight, texts.headers.map { measurer.measure($0, style: headerStyle).height }.max() ?? 0)
        for (c, header) in texts.headers.enumerated() where !header.isEmpty {
            let (ax, h) = anchor(c)
            scene.add(.text(TextMark(header, at: Point(x: ax, y: y + headerHeight + 1.5), style: headerStyle, horizontal: h, vertical: .bottom)))
        }
        y += headerHeight + 4
        scene.add(rule(y, light))
        y += 2
        for (r, cells) in texts.cells.enumerated() {
            let rowHeight = max(lineHeight,
                                cells.compactMap { $0.map { measurer.measure($0.text, style: style(size, $0.emphasis)).height } }.max() ?? 0)
            // Row headers and single-line cells align with the first line of wrapped cells.
            scene.add(.text(TextMark(texts.rowHeaders[r], at: Point(x: xs[0], y: y + 1.5), style: style(size, []), vertical: .top)))
            for (c, cell) in cells.enumerated() {
                guard let cell, !cell.text.isEmpty else { continue }
                let (ax, h) = anchor(c + 1)
                scene.add(.text(TextMark(cell.text, at: Point(x: ax, y: y + 1.5), style: style(size, cell.emphasis), horizontal: h, vertical: .top)))
            }
            y += rowHeight + 3
        }
        y += 1
        scene.add(rule(y, heavy))
        if let caption = table.caption, !caption.isEmpty {
            let captionStyle = theme.text(theme.legendSize, color: theme.mutedTextColor)
            let text = measurer.wrap(caption, style: captionStyle, maxWidth: max(available, tableWidth))
            y += 4
            scene.add(.text(TextMark(text, at: Point(x: m, y: y), style: captionStyle, vertical: .top)))
            y += measurer.measure(text, style: captionStyle).height
        }
        scene.size.height = (y + m).rounded(.up)
        return scene
    }
}
