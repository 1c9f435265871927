import Foundation

struct LayerProfileLayout {
    let profile: LayerProfile
    let width: Double
    let theme: Theme
    let measurer: TextMeasurer
    /// The large form's median and quantile bands (empty for the small form) and how many series they summarise.
    var quantiles: [LayerProfile.QuantileRow] = []
    var quantileSeriesCount = 0

    // Opaque, so that the legend's swatches show the colours drawn.
    private let outerFill = Color(hex: 0xD3DEF0)
    private let innerFill = Color(hex: 0x9DB5DD)
    private let medianLine = Color(hex: 0x1F3F73)

    private var palette: Palette { profile.palette ?? .automatic(seriesCount: profile.series.count) }
    private let bandFill = Color(hex: 0x7F7F7F, alpha: 0.22)
    private let bandLine = Color(hex: 0x303030)

    private func color(_ i: Int) -> Color { palette.color(i) }
    private func dash(_ i: Int) -> [Double] { palette.dash(i, lineWidth: theme.seriesLineWidth) }

    /// Text colour for a direct label: the series colour, darkened when it is too light to read.
    private func labelColor(_ i: Int) -> Color {
        var c = color(i)
        while c.contrastRatio(with: .white) < 3 { c = c.interpolated(to: .black, fraction: 0.2) }
        return c
    }

    func scene() -> Scene {
        let m = theme.margin
        var (scene, top) = Scene.titled(profile.title, subtitle: profile.subtitle, width: width, theme: theme, measurer: measurer)

        let allPoints = profile.series.flatMap(\.points).filter { $0.x.isFinite }
        let finite = allPoints.filter { $0.y.isFinite }
        let band = profile.bandRows
        let xs = finite.map(\.x) + band.map(\.x) + quantiles.map(\.x)
        var ys = finite.map(\.y) + band.flatMap { [$0.lower, $0.upper] } + quantiles.flatMap { [$0.outerLower, $0.outerUpper] }
        if profile.yIncludesZero { ys.append(0) }

        // Direct labels: only when every series ends at the last layer and names fit unshortened.
        let labelStyle = theme.legendStyle
        let lastX = xs.max()
        let ends: [(index: Int, x: Double, y: Double)] = profile.series.enumerated().compactMap { i, s in
            guard let last = s.points.last(where: { $0.x.isFinite && $0.y.isFinite }) else { return nil }
            return (i, last.x, last.y)
        }
        let nameWidth = profile.series.map { measurer.measure($0.name, style: labelStyle).width }.max() ?? 0
        let leader = 8.0
        let directRoom = nameWidth + leader + 2
        var tryDirect = profile.directLabels && !profile.series.isEmpty && ends.count == profile.series.count
            && ends.allSatisfy { $0.x == lastX } && directRoom <= width * 0.25

        // Legend above the plot.
        var entries: [LegendEntry] = []
        let seriesEntries = profile.series.enumerated().map { i, s in
            LegendEntry(label: s.name, swatch: .line(color(i), width: theme.seriesLineWidth, dash: dash(i), marker: nil))
        }
        var bandEntry = band.isEmpty ? [] : [LegendEntry(label: profile.bandLabel, swatch: .band(fill: bandFill, line: bandLine, width: 1.4))]
        if !quantiles.isEmpty {
            bandEntry += [
                LegendEntry(label: "median of \(quantileSeriesCount)", swatch: .line(medianLine, width: 1.4, dash: [], marker: nil)),
                LegendEntry(label: "25–75 %", swatch: .area(.color(innerFill), outline: nil)),
                LegendEntry(label: "10–90 %", swatch: .area(.color(outerFill), outline: nil)),
            ]
        }

        // The axis titles' room, fixed before the plot is (its height is 0.62 × its width, and its
        // width at least the figure's less the margins, the tick labels and two title lines).
        let reserve = 2 * m + 48 + (tryDirect ? directRoom : 0)
        let titleRooms: (Double?, Double?) = (max(width - reserve, 40), max((width - reserve) * 0.62, 40))
        var xTicks = NiceTicks.ticks(xs.min() ?? 0, xs.max() ?? 1, targetCount: 6, integerSteps: true)
        let yTicks = NiceTicks.ticks(ys.min() ?? 0, ys.max() ?? 1, targetCount: 5, expandToNiceBounds: true)
        let xDomain = xTicks.domain
        var plot = Rect(x: 0, y: 0, width: 0, height: 0)
        var placements: [(index: Int, y: Double, desired: Double)] = []
        var legendMarks: [Mark] = []
        for _ in 0..<2 {
            entries = bandEntry
            switch profile.legend {
            case .always: entries = seriesEntries + bandEntry
            case .never: entries = []
            case .automatic: entries = tryDirect ? bandEntry : seriesEntries + bandEntry
            }
            var legendHeight = 0.0
            legendMarks = []
            if !entries.isEmpty {
                let legend = LegendLayout.grid(entries, origin: Point(x: m, y: top), maxWidth: width - 2 * m, theme: theme, measurer: measurer)
                legendMarks = legend.marks
                legendHeight = legend.size.height + 6
            }
            var yAxis = Axis(side: .left, ticks: yTicks, title: profile.yTitle, theme: theme, measurer: measurer)
            var xAxis = Axis(side: .bottom, ticks: xTicks, title: profile.xTitle, theme: theme, measurer: measurer)
            (xAxis.titleRoom, yAxis.titleRoom) = titleRooms
            let left = m + yAxis.thickness
            let right = m + max(xAxis.overhang * 0.6, tryDirect ? directRoom : 0)
            let plotWidth = max(width - left - right, 20)
            plot = Rect(x: left, y: top + legendHeight + yAxis.overhang, width: plotWidth, height: plotWidth * 0.62)
            xTicks = NiceTicks.ticks(xDomain.lowerBound, xDomain.upperBound, targetCount: max(3, Int(plotWidth / 30)), integerSteps: true)
            if tryDirect {
                let yScale = LinearScale(domain: yTicks.domain, start: plot.maxY, end: plot.minY)
                if let stacked = stackLabels(ends.map { ($0.index, yScale($0.y)) }, within: plot, style: labelStyle) {
                    placements = stacked
                    break
                }
                tryDirect = false
                placements = []
            } else {
                break
            }
        }
        // Final axes with the final plot size.
        var yAxis = Axis(side: .left, ticks: yTicks, title: profile.yTitle, theme: theme, measurer: measurer)
        var xAxis = Axis(side: .bottom, ticks: xTicks, title: profile.xTitle, theme: theme, measurer: measurer)
        (xAxis.titleRoom, yAxis.titleRoom) = titleRooms
        let xScale = LinearScale(domain: xTicks.domain, start: plot.minX, end: plot.maxX)
        let yScale = LinearScale(domain: yTicks.domain, start: plot.maxY, end: plot.minY)
        scene.add(legendMarks)
        scene.add(yAxis.gridMarks(scale: yScale, plot: plot))

        // Band under the lines.
        if !band.isEmpty {
            let upper = band.map { Point(x: xScale($0.x), y: yScale($0.upper)) }
            let lower = band.reversed().map { Point(x: xScale($0.x), y: yScale($0.lower)) }
            if band.count >= 2 { scene.add(.path(.polygon(upper + lower), .fill(bandFill))) }
        }
        // Quantile bands (outer, then inner over it) and the median under the highlighted lines.
        if !quantiles.isEmpty {
            func polygon(_ upper: KeyPath<LayerProfile.QuantileRow, Double>, _ lower: KeyPath<LayerProfile.QuantileRow, Double>) -> Path {
                .polygon(quantiles.map { Point(x: xScale($0.x), y: yScale($0[keyPath: upper])) }
                         + quantiles.reversed().map { Point(x: xScale($0.x), y: yScale($0[keyPath: lower])) })
            }
            if quantiles.count >= 2 {
                scene.add(.path(polygon(\.outerUpper, \.outerLower), .fill(outerFill)))
                scene.add(.path(polygon(\.innerUpper, \.innerLower), .fill(innerFill)))
                scene.add(.path(.polyline(quantiles.map { Point(x: xScale($0.x), y: yScale($0.median)) }),
                                .stroke(medianLine, width: 1.4, cap: .round, join: .round)))
            } else if let only = quantiles.first {
                scene.add(.path(.circle(center: Point(x: xScale(only.x), y: yScale(only.median)), radius: 1.8), .fill(medianLine)))
            }
        }
        // Lines in reverse order so that the first series is on top.
        for (i, s) in profile.series.enumerated().reversed() {
            let style = Style.stroke(color(i), width: theme.seriesLineWidth, dash: dash(i), cap: .round, join: .round)
            for run in runs(s.points) {
                let points = run.map { Point(x: xScale($0.x), y: yScale($0.y)) }
                if points.count == 1 || profile.markers {
                    for p in points { scene.add(.path(.circle(center: p, radius: 1.6), .fill(color(i)))) }
                }
                if points.count > 1 { scene.add(.path(.polyline(points), style)) }
            }
        }
        if !band.isEmpty {
            let center = band.map { Point(x: xScale($0.x), y: yScale($0.center)) }
            if center.count > 1 {
                scene.add(.path(.polyline(center), .stroke(bandLine, width: 1.4, cap: .round, join: .round)))
            } else if let only = center.first {
                scene.add(.path(.circle(center: only, radius: 1.8), .fill(bandLine)))
            }
        }

        // Direct labels in the right margin, with leaders where a label had to move.
        let labelX = plot.maxX + leader
        for placement in placements {
            let i = placement.index
            if abs(placement.y - placement.desired) > 0.5 {
                var path = Path()
                path.move(to: Point(x: plot.maxX + 1.5, y: placement.desired))
                path.line(to: Point(x: labelX - 4, y: placement.y))
                path.line(to: Point(x: labelX - 1.5, y: placement.y))
                scene.add(.path(path, .stroke(Color(hex: 0x9A9A9A), width: 0.5)))
            }
            scene.add(.text(TextMark(profile.series[i].name, at: Point(x: labelX, y: placement.y),
                                     style: labelStyle.with(color: labelColor(i)), horizontal: .start, vertical: .middle)))
        }

        scene.add(yAxis.marks(scale: yScale, plot: plot))
        scene.add(xAxis.marks(scale: xScale, plot: plot))
        if profile.series.isEmpty && quantiles.isEmpty {
            scene.add(.text(TextMark("No data", at: plot.center, style: theme.text(theme.axisTitleSize, color: theme.mutedTextColor),
                                     horizontal: .middle, vertical: .middle)))
        }
        top = plot.maxY + xAxis.thickness
        scene.size.height = (top + m).rounded(.up)
        return scene
    }

    /// Maximal runs of consecutive finite points.
    private func runs(_ points: [(x: Double, y: Double)]) -> [[(x: Double, y: Double)]] {
        var result: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        for p in points {
            if p.x.isFinite && p.y.isFinite {
                current.append(p)
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Label centres as close as possible to the desired ones, at least one line apart and inside
    /// the plot's height (with half a line of slack); nil when they cannot all fit.
    private func stackLabels(_ desired: [(Int, Double)], within plot: Rect, style: TextStyle) -> [(index: Int, y: Double, desired: Double)]? {
        let h = measurer.measure("Ag", style: style).height + 0.5
        let minY = plot.minY, maxY = plot.maxY
        guard Double(desired.count) * h <= maxY - minY + h else { return nil }
        let sorted = desired.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        var ys = sorted.map { min(max($0.1, minY), maxY) }
        for k in 1..<max(ys.count, 1) where ys.count > 1 { ys[k] = max(ys[k], ys[k - 1] + h) }
        if let last = ys.last, last > maxY {
            ys[ys.count - 1] = maxY
            for k in stride(from: ys.count - 2, through: 0, by: -1) { ys[k] = min(ys[k], ys[k + 1] - h) }
        }
        guard let first = ys.first, first >= minY - h / 2 - 1e-9 else { return nil }
        return zip(sorted, ys).map { ($0.0, $1, $0.1) }
    }
}
