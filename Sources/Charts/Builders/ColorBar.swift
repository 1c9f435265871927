/// A vertical colour bar with nice ticks on its right, an optional rotated title, and an optional
/// swatch naming the missing-value paint underneath. When values lie beyond the domain, a
/// triangle in the end colour caps that end of the bar (matplotlib's `extend`): the colour there
/// stands for "this value or beyond".
struct ColorBar {
    let domain: ClosedRange<Double>
    let map: ColorMap
    let title: String?
    let missing: (paint: Paint, label: String)?
    /// Some value lies below (above) the domain and is drawn in the bottom (top) colour.
    var clipsLow = false
    var clipsHigh = false
    let theme: Theme
    let measurer: TextMeasurer

    let barWidth = 8.0
    let minimumHeight = 60.0

    var ticks: TickSet { NiceTicks.ticks(domain.lowerBound, domain.upperBound, targetCount: 5) }

    private var labelWidth: Double {
        ticks.labels.map { measurer.measure($0, style: theme.tickStyle).width }.max() ?? 0
    }

    private var titleHeight: Double {
        guard let title, !title.isEmpty else { return 0 }
        return measurer.measure(title, style: theme.axisTitleStyle).height
    }

    /// Width of the bar, ticks, labels and title.
    private var scaleWidth: Double {
        barWidth + theme.tickLength + theme.tickLabelGap + labelWidth + (titleHeight > 0 ? 4 + titleHeight : 0)
    }

    /// The missing-value label, wrapped to the scale's width (but never narrower than 40 pt or its longest word).
    private var missingText: String {
        guard let missing else { return "" }
        let widestWord = missing.label.split(separator: " ").map { measurer.measure(String($0), style: theme.legendStyle).width }.max() ?? 0
        return measurer.wrap(missing.label, style: theme.legendStyle, maxWidth: max(scaleWidth - theme.legendSize - 4, 40, widestWord))
    }

    /// Horizontal space taken, in points.
    var width: Double {
        guard missing != nil else { return scaleWidth }
        return max(scaleWidth, theme.legendSize + 4 + measurer.measure(missingText, style: theme.legendStyle).width)
    }

    /// Marks with the bar's top-left at `origin`; the bar is `height` tall (at least `minimumHeight`).
    /// `bottom` is the lowest y used.
    func marks(origin: Point, height requested: Double) -> (marks: [Mark], bottom: Double) {
        let height = max(requested, minimumHeight)
        // The arrows take their height from the bar's ends, so the block keeps its size.
        let arrow = barWidth * 0.9
        let top = origin.y + (clipsHigh ? arrow : 0), end = origin.y + height - (clipsLow ? arrow : 0)
        let bar = Rect(x: origin.x, y: top, width: barWidth, height: end - top)
        var marks: [Mark] = [
            .rect(bar, Style(fill: .linearGradient(start: Point(x: bar.minX, y: bar.maxY), end: Point(x: bar.minX, y: bar.minY),
                                                   stops: map.gradientStops(count: 64)))),
            .rect(bar, .stroke(theme.axisColor, width: 0.5)),
        ]
        func cap(base: Double, tip: Double, colour: Color) -> Mark {
            var path = Path()
            path.move(to: Point(x: bar.minX, y: base))
            path.line(to: Point(x: bar.maxX, y: base))
            path.line(to: Point(x: bar.midX, y: tip))
            path.close()
            return .path(path, Style(fill: .color(colour), stroke: theme.axisColor, lineWidth: 0.5))
        }
        if clipsHigh { marks.append(cap(base: bar.minY, tip: origin.y, colour: map.color(at: 1)!)) }
        if clipsLow { marks.append(cap(base: bar.maxY, tip: origin.y + height, colour: map.color(at: 0)!)) }
        let scale = LinearScale(domain: domain, start: bar.maxY, end: bar.minY)
        let line = Style.stroke(theme.axisColor, width: theme.axisLineWidth)
        for (v, label) in zip(ticks.values, ticks.labels) {
            let y = scale(v)
            marks.append(.path(.line(from: Point(x: bar.maxX, y: y), to: Point(x: bar.maxX + theme.tickLength, y: y)), line))
            marks.append(.text(TextMark(label, at: Point(x: bar.maxX + theme.tickLength + theme.tickLabelGap, y: y),
                                        style: theme.tickStyle, horizontal: .start, vertical: .middle)))
        }
        if let title, !title.isEmpty {
            let x = bar.maxX + theme.tickLength + theme.tickLabelGap + labelWidth + 4
            let fitted = measurer.shortenMiddle(title, style: theme.axisTitleStyle, maxWidth: height)
            marks.append(.text(TextMark(fitted, at: Point(x: x, y: bar.midY), style: theme.axisTitleStyle,
                                        horizontal: .middle, vertical: .top, rotation: 90)))
        }
        var bottom = origin.y + height + measurer.measure("0", style: theme.tickStyle).height / 2
        if let missing {
            let side = theme.legendSize
            let y = max(bottom, origin.y + height) + 6
            marks.append(.rect(Rect(x: bar.minX, y: y, width: side, height: side),
                               Style(fill: missing.paint, stroke: theme.axisColor, lineWidth: 0.5)))
            let text = missingText
            let lineHeight = measurer.measure("Ag", style: theme.legendStyle).height
            // The first line is centred on the swatch; further lines continue below.
            marks.append(.text(TextMark(text, at: Point(x: bar.minX + side + 4, y: y + side / 2 - lineHeight / 2),
                                        style: theme.legendStyle, horizontal: .start, vertical: .top)))
            bottom = max(y + side, y + side / 2 - lineHeight / 2 + measurer.measure(text, style: theme.legendStyle).height)
        }
        return (marks, bottom)
    }
}
