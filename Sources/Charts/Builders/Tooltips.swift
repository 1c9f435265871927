import Foundation

/// The hover texts (`Mark.titled`) of heatmap cells and map points: plain text, one fact a line
/// (browsers show the line breaks), with more decimals than a cell annotation so the value can be
/// read exactly.
enum Tooltips {
    /// Decimals of a tooltip value: at least 4, more when the chart's own labels use more.
    static func decimals(atLeast minimum: Int) -> Int { max(minimum, 4) }

    /// "row × column", the figure's title, then "quantity = value" ("missing" for NaN); the title
    /// line is left out when nil or empty, the quantity when nil or empty ("value" instead).
    static func cell(row: String, column: String, title: String?, quantity: String?, value: Double, decimals: Int) -> String {
        let shown = value.isNaN ? "missing" : NumberFormat.fixed(value, decimals: Self.decimals(atLeast: decimals))
        return lines(["\(row) × \(column)", title, "\(oneLine(quantity) ?? "value") = \(shown)"])
    }

    /// A row of a heatmap drawn as one bitmap: the task, "row 3 of 500" (with "· cluster 2"
    /// when there are clusters), then the figure's title.
    static func row(_ name: String, position: Int, count: Int, cluster: Int?, title: String?) -> String {
        lines([name, "row \(position) of \(count)" + (cluster.map { " · cluster \($0)" } ?? ""), title])
    }

    /// The point's label (with its group), the figure's title, then "x title = x" and "y title = y".
    static func point(_ point: ScatterPoint, title: String?, xTitle: String?, yTitle: String?) -> String {
        let label = point.group.map { point.label.isEmpty ? $0 : "\(point.label) (\($0))" } ?? point.label
        return lines([label, title,
                      "\(oneLine(xTitle) ?? "x") = \(NumberFormat.fixed(point.x, decimals: 4))",
                      "\(oneLine(yTitle) ?? "y") = \(NumberFormat.fixed(point.y, decimals: 4))"])
    }

    private static func oneLine(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text.replacingOccurrences(of: "\n", with: " ")
    }

    private static func lines(_ parts: [String?]) -> String {
        parts.compactMap(oneLine).joined(separator: "\n")
    }
}
