import Foundation

/// Coloured strips along a large heatmap's rows (left of the grid) and columns (above it), one
/// colour per cluster, in place of tick labels that cannot fit (seaborn's `row_colors`). Each run
/// of tasks of one cluster is numbered (`number`, as the clusters table prints it) next to the grid where the number fits, and
/// carries a tooltip ("cluster 3 · 41 tasks").
///
/// Colours: Tableau 10 in the order in which clusters first appear along the axis, so neighbouring
/// clusters of a clustering order get different colours (10 apart ones share a colour: the
/// numbers and tooltips tell them apart). A negative label means "in no cluster" (a task whose
/// distances are undefined): a light grey band, no number.
public struct ClusterBands {
    /// The strip's thickness and its distance from the grid (columns) or the numbers (rows), in points.
    static let thickness = 5.0
    static let gap = 2.0

    struct Run {
        var cluster: Int
        var start: Int
        var count: Int
    }

    let runs: [Run]
    let colorIndex: [Int: Int]
    let style: TextStyle
    let lineHeight: Double
    /// The widest cluster number, in points.
    let numberWidth: Double
    let theme: Theme
    let measurer: TextMeasurer

    /// `clusters` is the cluster of each row in display order.
    init(clusters: [Int], theme: Theme, measurer: TextMeasurer) {
        var runs: [Run] = []
        var colorIndex: [Int: Int] = [:]
        for (position, cluster) in clusters.enumerated() {
            if cluster >= 0 && colorIndex[cluster] == nil { colorIndex[cluster] = colorIndex.count }
            if let last = runs.last, last.cluster == cluster {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(Run(cluster: cluster, start: position, count: 1))
            }
        }
        self.runs = runs
        self.colorIndex = colorIndex
        self.theme = theme
        self.measurer = measurer
        style = theme.tickStyle.with(color: theme.textColor)
        lineHeight = measurer.measure("Ag", style: style).height
        numberWidth = Set(clusters.filter { $0 >= 0 }).map { measurer.measure(Self.number($0), style: theme.tickStyle).width }.max() ?? 0
    }

    /// A cluster's number wherever people read it (bands, map legends, the clusters and maps
    /// tables): label + 1, so the first cluster is "1"; metrics.json keeps the 0-based labels.
    public static func number(_ cluster: Int) -> String { String(cluster + 1) }

    func color(_ cluster: Int) -> Color {
        guard let index = colorIndex[cluster] else { return Self.noClusterColor }
        return Palette.tableau10.color(index)
    }

    static let noClusterColor = Color(hex: 0xE0E0E0)

    /// The strips, numbers and tooltips for a grid of `cell`-sized cells whose row numbers end
    /// `gap` left of the grid; `bottom` is the lowest y used (column numbers sit under the grid).
    func marks(grid: Rect, cell: Double, gap: Double) -> (marks: [Mark], bottom: Double) {
        var marks: [Mark] = []
        let bandX = grid.minX - gap - numberWidth - Self.gap - Self.thickness
        let bandY = grid.minY - Self.gap - Self.thickness
        var bottom = grid.maxY
        var lastRowNumberEnd = -Double.infinity, lastColumnNumberEnd = -Double.infinity
        for run in runs {
            let from = Double(run.start) * cell, length = Double(run.count) * cell
            let fill = Style.fill(color(run.cluster))
            let tasks = "\(run.count) task\(run.count == 1 ? "" : "s")"
            let tip = run.cluster < 0 ? "no cluster · \(tasks)" : "cluster \(Self.number(run.cluster)) · \(tasks)"
            marks.append(.titled(tip, [.rect(Rect(x: bandX, y: grid.minY + from, width: Self.thickness, height: length), fill)]))
            marks.append(.titled(tip, [.rect(Rect(x: grid.minX + from, y: bandY, width: length, height: Self.thickness), fill)]))

            guard run.cluster >= 0 else { continue }
            let text = Self.number(run.cluster)
            let centre = from + length / 2
            // Rows: a number where its run is about a line tall and it clears the previous number.
            if length >= lineHeight * 0.8 && centre - lineHeight / 2 >= lastRowNumberEnd {
                marks.append(.text(TextMark(text, at: Point(x: grid.minX - gap, y: grid.minY + centre), style: style,
                                            horizontal: .end, vertical: .middle)))
                lastRowNumberEnd = centre + lineHeight / 2
            }
            let textWidth = measurer.measure(text, style: style).width
            if length >= textWidth + 1 && centre - textWidth / 2 >= lastColumnNumberEnd + 1 {
                let mark = TextMark(text, at: Point(x: grid.minX + centre, y: grid.maxY + gap), style: style, horizontal: .middle, vertical: .top)
                marks.append(.text(mark))
                bottom = max(bottom, measurer.bounds(of: mark).maxY)
                lastColumnNumberEnd = centre + textWidth / 2
            }
        }
        return (marks, bottom)
    }
}
