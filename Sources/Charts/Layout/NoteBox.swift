/// A small framed box of text lines (a statistic, what a dashed line means) placed inside a plot,
/// in the corner that covers the fewest data points.
enum NoteBox {
    static let padding = 3.0
    static let inset = 4.0

    /// Marks and frame of the box inside `plot`, or nil when there are no lines or the box does not
    /// fit the plot. Lines are wrapped to 75 % of the plot width (long words truncated). Corners are
    /// tried top left, top right, bottom right, bottom left; each scores the markers it covers
    /// (grown by `markerRadius`) plus 1.5 when `segment` crosses it, and the lowest score wins.
    static func layout(_ entries: [(text: String, swatch: LegendEntry.Swatch?)], plot: Rect, points: [Point],
                       markerRadius: Double, segment: (Point, Point)?, theme: Theme,
                       measurer: TextMeasurer) -> (marks: [Mark], frame: Rect)? {
        let shown = entries.filter { !$0.text.isEmpty }
        guard !shown.isEmpty else { return nil }
        let style = theme.legendStyle
        let swatchWidth = shown.contains { $0.swatch != nil } ? 16.0 : 0
        let swatchGap = swatchWidth > 0 ? LegendLayout.swatchGap : 0
        let textWidth = max(plot.width * 0.75 - 2 * padding, 10)
        let texts = shown.map { measurer.wrap($0.text, style: style, maxWidth: textWidth - ($0.swatch == nil ? 0 : swatchWidth + swatchGap)) }
        let sizes = texts.map { measurer.measure($0, style: style) }
        let rowGap = 1.5
        // Lines with a swatch are indented by it; lines without one start at the padding.
        let indents = shown.map { $0.swatch == nil ? 0 : swatchWidth + swatchGap }
        let width = 2 * padding + (zip(indents, sizes).map { $0 + $1.width }.max() ?? 0)
        let height = 2 * padding + sizes.map(\.height).reduce(0, +) + rowGap * Double(sizes.count - 1)
        guard width <= plot.width - 2 * inset, height <= plot.height - 2 * inset else { return nil }

        let left = plot.minX + inset, right = plot.maxX - inset - width
        let top = plot.minY + inset, bottom = plot.maxY - inset - height
        let corners = [Point(x: left, y: top), Point(x: right, y: top), Point(x: right, y: bottom), Point(x: left, y: bottom)]
        func score(_ box: Rect) -> Double {
            let grown = box.insetBy(dx: -markerRadius, dy: -markerRadius)
            var total = Double(points.filter { grown.contains($0) }.count)
            if let (a, b) = segment, crosses(a, b, box) { total += 1.5 }
            return total
        }
        let boxes = corners.map { Rect(x: $0.x, y: $0.y, width: width, height: height) }
        var best = boxes[0]
        var bestScore = score(best)
        for box in boxes.dropFirst() {
            let s = score(box)
            if s < bestScore - 1e-9 { (best, bestScore) = (box, s) }
        }

        var marks: [Mark] = [.rect(best, Style(fill: .color(Color.white.withAlpha(0.88)),
                                               stroke: theme.gridColor.interpolated(to: theme.axisColor, fraction: 0.35), lineWidth: 0.5))]
        var y = best.minY + padding
        let firstLine = measurer.measure("Ag", style: style).height
        for (k, entry) in shown.enumerated() {
            if let swatch = entry.swatch {
                marks += LegendLayout.swatchMarks(swatch, x: best.minX + padding, width: swatchWidth, middleY: y + firstLine / 2, theme: theme)
            }
            marks.append(.text(TextMark(texts[k], at: Point(x: best.minX + padding + indents[k], y: y), style: style, vertical: .top)))
            y += sizes[k].height + rowGap
        }
        return (marks, best)
    }

    /// True when the segment from `a` to `b` passes through `box`.
    private static func crosses(_ a: Point, _ b: Point, _ box: Rect) -> Bool {
        // Clip the segment's parameter range to the box's x and y slabs (Liang–Barsky).
        var t0 = 0.0, t1 = 1.0
        let d = Point(x: b.x - a.x, y: b.y - a.y)
        for (p, q) in [(-d.x, a.x - box.minX), (d.x, box.maxX - a.x), (-d.y, a.y - box.minY), (d.y, box.maxY - a.y)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let t = q / p
                if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
            }
        }
        return t0 <= t1
    }
}

/// The ordinary least-squares line y = slope · x + intercept through finite points; nil for fewer
/// than two points or when every x is the same (to 10⁻¹² of the x magnitude).
struct LeastSquaresLine: Hashable {
    var slope: Double
    var intercept: Double

    init?(_ points: [(x: Double, y: Double)]) {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard finite.count >= 2 else { return nil }
        let n = Double(finite.count)
        let meanX = finite.map(\.x).reduce(0, +) / n
        let meanY = finite.map(\.y).reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for p in finite {
            sxx += (p.x - meanX) * (p.x - meanX)
            sxy += (p.x - meanX) * (p.y - meanY)
        }
        let magnitude = finite.map { abs($0.x) }.max() ?? 0
        guard sxx > n * (magnitude * 1e-12) * (magnitude * 1e-12), sxx.isFinite, sxy.isFinite else { return nil }
        slope = sxy / sxx
        intercept = meanY - slope * meanX
    }

    func callAsFunction(_ x: Double) -> Double { slope * x + intercept }
}
