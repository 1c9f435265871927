/// Draws a value axis (spine, ticks, labels, title and optional grid) on the left or bottom of a
/// plot rectangle. Space outside the plot is computed beforehand with `thickness`, from the same
/// measurements.
struct Axis {
    enum Side { case left, bottom }

    var side: Side
    var ticks: TickSet
    var title: String?
    var theme: Theme
    var measurer: TextMeasurer
    /// The length along the axis the title may take (the plot's side), when the layout knows it
    /// before drawing; the title's lines and so `thickness` follow from it. nil: the plot's side
    /// at drawing time, and `thickness` counts one line.
    var titleRoom: Double?

    /// Widest (left) or tallest (bottom) tick label.
    private var labelExtent: Double {
        let style = theme.tickStyle
        let sizes = ticks.labels.map { measurer.measure($0, style: style) }
        switch side {
        case .left: return sizes.map(\.width).max() ?? 0
        case .bottom: return sizes.map(\.height).max() ?? measurer.measure("0", style: style).height
        }
    }

    private var titleHeight: Double {
        guard let title, !title.isEmpty else { return 0 }
        return measurer.measure(fittedTitle(room: titleRoom ?? .infinity), style: theme.axisTitleStyle).height
    }

    /// The title as drawn in `room` points: whole when it fits; else wrapped at spaces onto two
    /// lines when they fit; else shortened in the middle (`mean distance … (rad)`), never cut at
    /// its end, where the unit is.
    func fittedTitle(room: Double) -> String {
        guard let title, !title.isEmpty else { return "" }
        let style = theme.axisTitleStyle
        if measurer.measure(title, style: style).width <= room { return title }
        let wrapped = measurer.wrap(title, style: style, maxWidth: room)
        if wrapped.split(separator: "\n").count <= 2 && !wrapped.contains("…") { return wrapped }
        return measurer.shortenMiddle(title, style: style, maxWidth: room)
    }

    /// Space needed outside the plot edge, in points.
    var thickness: Double {
        theme.tickLength + theme.tickLabelGap + labelExtent + (titleHeight > 0 ? 4 + titleHeight : 0)
    }

    /// How far the first and last tick labels stick out beyond the plot along the axis (bottom
    /// axis: half the label widths); used to keep labels inside the figure.
    var overhang: Double {
        guard side == .bottom else { return measurer.measure("0", style: theme.tickStyle).height / 2 }
        let widths = ticks.labels.map { measurer.measure($0, style: theme.tickStyle).width }
        return (widths.max() ?? 0) / 2
    }

    /// Grid lines at every tick across the plot (drawn under the data).
    func gridMarks(scale: LinearScale, plot: Rect) -> [Mark] {
        let style = Style.stroke(theme.gridColor, width: theme.gridLineWidth)
        return ticks.values.map { v in
            let p = scale(v)
            switch side {
            case .left: return .path(.line(from: Point(x: plot.minX, y: p), to: Point(x: plot.maxX, y: p)), style)
            case .bottom: return .path(.line(from: Point(x: p, y: plot.minY), to: Point(x: p, y: plot.maxY)), style)
            }
        }
    }

    /// Spine, ticks, labels and title.
    func marks(scale: LinearScale, plot: Rect) -> [Mark] {
        var marks: [Mark] = []
        let line = Style.stroke(theme.axisColor, width: theme.axisLineWidth, cap: .square)
        let tickStyle = theme.tickStyle
        switch side {
        case .left:
            marks.append(.path(.line(from: Point(x: plot.minX, y: plot.minY), to: Point(x: plot.minX, y: plot.maxY)), line))
            for (v, label) in zip(ticks.values, ticks.labels) {
                let y = scale(v)
                marks.append(.path(.line(from: Point(x: plot.minX - theme.tickLength, y: y), to: Point(x: plot.minX, y: y)), line))
                marks.append(.text(TextMark(label, at: Point(x: plot.minX - theme.tickLength - theme.tickLabelGap, y: y),
                                            style: tickStyle, horizontal: .end, vertical: .middle)))
            }
            if let title, !title.isEmpty {
                let fitted = fittedTitle(room: titleRoom ?? plot.height)
                marks.append(.text(TextMark(fitted, at: Point(x: plot.minX - thickness, y: plot.midY),
                                            style: theme.axisTitleStyle, horizontal: .middle, vertical: .top, rotation: 90)))
            }
        case .bottom:
            marks.append(.path(.line(from: Point(x: plot.minX, y: plot.maxY), to: Point(x: plot.maxX, y: plot.maxY)), line))
            for (v, label) in zip(ticks.values, ticks.labels) {
                let x = scale(v)
                marks.append(.path(.line(from: Point(x: x, y: plot.maxY), to: Point(x: x, y: plot.maxY + theme.tickLength)), line))
                marks.append(.text(TextMark(label, at: Point(x: x, y: plot.maxY + theme.tickLength + theme.tickLabelGap),
                                            style: tickStyle, horizontal: .middle, vertical: .top)))
            }
            if let title, !title.isEmpty {
                let fitted = fittedTitle(room: titleRoom ?? plot.width)
                marks.append(.text(TextMark(fitted, at: Point(x: plot.midX, y: plot.maxY + thickness),
                                            style: theme.axisTitleStyle, horizontal: .middle, vertical: .bottom)))
            }
        }
        return marks
    }
}
