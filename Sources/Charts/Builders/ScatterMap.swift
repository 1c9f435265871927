import Foundation

/// One labelled point of a scatter map (for example a task's PCA or MDS coordinates).
public struct ScatterPoint: Hashable, Sendable {
    public var label: String
    public var x: Double
    public var y: Double
    /// Points sharing a group share a colour and marker shape and get a legend entry; nil for none.
    public var group: String?
    /// A cluster index (0, 1, …): points of a cluster share a colour (and, past the palette's
    /// colours, a marker shape) and the clusters get a legend; takes precedence over `group`.
    public var cluster: Int?
    /// Drawn on top, larger and outlined, its label bold and always placed.
    public var highlighted: Bool

    public init(label: String, x: Double, y: Double, group: String? = nil, cluster: Int? = nil, highlighted: Bool = false) {
        self.label = label
        self.x = x
        self.y = y
        self.group = group
        self.cluster = cluster
        self.highlighted = highlighted
    }
}

/// A 2-D map of labelled points, with labels placed clear of each other and of the points.
///
/// Contracts:
/// - Points with a non-finite coordinate are left out and counted in a note under the plot.
/// - With `equalAspect`, one data unit is as long on both axes; the shorter data range is widened
///   (centred) when the plot would otherwise be flatter than 0.45 or taller than 1.1 × its width.
/// - Labels longer than 40 % of the plot width are truncated with "…"; with `showsLabels` off no
///   label is drawn (many unlabelled points, e.g. one per task pair).
/// - `note` lines go into a framed box inside the plot, in the corner covering the fewest points
///   (under the plot when the box does not fit inside). With `trendLine`, the least-squares line
///   of y on x is drawn dashed across the plot and explained in that box; it is left out for fewer
///   than two points or a constant x.
/// - Large form (`isLarge`: labelled maps of more than `FigureDensity.largeTaskCount` points):
///   smaller markers, labels only where they fit next to their point without overlap (highlighted
///   points always), and a note under the plot counting the labelled points; `layout` says which.
/// - With `densityBins`, the points are drawn as a 2-D histogram instead: the padded plot area in
///   `densityBins` × `densityBins` cells, each cell holding at least one point filled by its count
///   on a sequential colour map, with a colour bar of counts; notes and the trend line stay.
public struct ScatterMap: Sendable {
    public var points: [ScatterPoint]
    public var xTitle: String?
    public var yTitle: String?
    public var title: String?
    public var subtitle: String?
    public var equalAspect: Bool
    /// Dashed lines through x = 0 and y = 0 when they fall inside the plot.
    public var showOrigin: Bool
    public var palette: Palette
    /// Marker radius in points.
    public var markerRadius: Double
    /// Draw each point's label next to it.
    public var showsLabels: Bool
    /// A few lines for the note box, e.g. "Spearman ρ = 0.48 (n = 28)"; empty for no box.
    public var note: [String]
    /// A dashed least-squares line of y on x.
    public var trendLine: Bool
    /// The large form (see the type's notes); nil decides by the number of points.
    public var largeForm: Bool?
    /// Draw the points as binned counts in this many bins per axis (≥ 2); nil draws each point.
    public var densityBins: Int?
    /// The title of the density's colour bar.
    public var densityTitle = "points per cell"

    /// Cluster colours: Tableau 10, then the marker shapes cycle.
    public static let clusterPalette = Palette.tableau10
    /// Marker radius (pt) of the large form, and of its highlighted points.
    public static let largeMarkerRadius = 1.8
    public static let highlightedMarkerRadius = 3.4

    /// True when the map takes its large form.
    public var isLarge: Bool { largeForm ?? (showsLabels && FigureDensity.isLarge(taskCount: points.count)) }

    public init(points: [ScatterPoint], xTitle: String? = nil, yTitle: String? = nil, title: String? = nil,
                subtitle: String? = nil, equalAspect: Bool = true) {
        self.points = points
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.title = title
        self.subtitle = subtitle
        self.equalAspect = equalAspect
        self.showOrigin = true
        self.palette = .okabeIto
        self.markerRadius = 2.8
        self.showsLabels = true
        self.note = []
        self.trendLine = false
    }

    /// A plot of unlabelled points, one quantity against another: no labels, no equal aspect, no
    /// origin lines, slightly smaller markers (2.4 pt); `note` lines in a corner box, optionally a
    /// least-squares trend line.
    public static func relation(_ points: [ScatterPoint], xTitle: String?, yTitle: String?, title: String? = nil,
                                subtitle: String? = nil, note: [String] = [], trendLine: Bool = false) -> ScatterMap {
        var map = ScatterMap(points: points, xTitle: xTitle, yTitle: yTitle, title: title, subtitle: subtitle, equalAspect: false)
        map.showOrigin = false
        map.showsLabels = false
        map.markerRadius = 2.4
        map.note = note
        map.trendLine = trendLine
        return map
    }

    /// An axis title carrying the explained variance: ("PC", 1, 0.623) → "PC1 (62.3 %)".
    /// `explainedVariance` is a fraction in 0...1; nil or non-finite leaves the parenthesis out.
    public static func componentTitle(_ prefix: String = "PC", index: Int, explainedVariance: Double?) -> String {
        guard let fraction = explainedVariance, fraction.isFinite else { return "\(prefix)\(index)" }
        return "\(prefix)\(index) (\(NumberFormat.percent(fraction)))"
    }

    /// Group names in order of first appearance.
    public var groups: [String] {
        var seen = Set<String>()
        return points.compactMap(\.group).filter { seen.insert($0).inserted }
    }

    /// Cluster indices in ascending order.
    public var clusters: [Int] { Array(Set(points.compactMap(\.cluster))).sorted() }

    public func scene(width: Double = FigureWidth.singleColumn, theme: Theme = .paper, measurer: TextMeasurer = .shared) -> Scene {
        layout(width: width, theme: theme, measurer: measurer).scene
    }

    /// The scene, and per point (in the order of `points`) whether its label is drawn (false for
    /// points left out, and for every point when labels are off).
    public func layout(width: Double = FigureWidth.singleColumn, theme: Theme = .paper,
                       measurer: TextMeasurer = .shared) -> (scene: Scene, labelled: [Bool]) {
        ScatterLayout(map: self, width: FigureWidth.usable(width),
                      theme: theme, measurer: measurer).scene()
    }
}

struct ScatterLayout {
    static let trendStyle = Style.stroke(Color(hex: 0x4D4D4D), width: 0.9, dash: [4, 2.5])

    let map: ScatterMap
    let width: Double
    let theme: Theme
    let measurer: TextMeasurer

    func scene() -> (scene: Scene, labelled: [Bool]) {
        let m = theme.margin
        var (scene, top) = Scene.titled(map.title, subtitle: map.subtitle, width: width, theme: theme, measurer: measurer)
        let large = map.isLarge
        let bins = map.densityBins.map { max($0, 2) }

        // Groups: colour and shape per group (or per cluster), and a legend above the plot.
        let groups = map.groups
        let clusters = map.clusters
        let shapes = MarkerShape.allCases
        let clusterPalette = ScatterMap.clusterPalette
        func colour(_ point: ScatterPoint) -> Color {
            if let c = point.cluster { return clusterPalette.color(c) }
            guard let group = point.group, let i = groups.firstIndex(of: group) else { return map.palette.color(0) }
            return map.palette.color(i)
        }
        func shape(_ point: ScatterPoint) -> MarkerShape {
            if let c = point.cluster { return shapes[(max(c, 0) / clusterPalette.colors.count) % shapes.count] }
            guard let group = point.group, let i = groups.firstIndex(of: group) else { return .circle }
            return shapes[i % shapes.count]
        }
        var legendEntries: [LegendEntry] = []
        if bins == nil, !clusters.isEmpty {
            var sizes: [Int: Int] = [:]
            for p in map.points { if let c = p.cluster { sizes[c, default: 0] += 1 } }
            legendEntries = clusters.map { c in
                let probe = ScatterPoint(label: "", x: 0, y: 0, cluster: c)
                return LegendEntry(label: "cluster \(ClusterBands.number(c)) (\(sizes[c] ?? 0))", swatch: .marker(shape(probe), colour(probe)))
            }
        } else if bins == nil, !groups.isEmpty {
            legendEntries = groups.map { group in
                let probe = ScatterPoint(label: "", x: 0, y: 0, group: group)
                return LegendEntry(label: group, swatch: .marker(shape(probe), colour(probe)))
            }
        }
        if !legendEntries.isEmpty {
            let legend = LegendLayout.grid(legendEntries, origin: Point(x: m, y: top), maxWidth: width - 2 * m, theme: theme, measurer: measurer)
            scene.add(legend.marks)
            top += legend.size.height + 6
        }

        let shownIndices = map.points.indices.filter { map.points[$0].x.isFinite && map.points[$0].y.isFinite }
        let shown = shownIndices.map { map.points[$0] }
        let dropped = map.points.count - shown.count

        // Data ranges, padded so that points do not sit on the frame.
        var xRange = NiceTicks.sanitizedRange(shown.map(\.x).min() ?? 0, shown.map(\.x).max() ?? 1)
        var yRange = NiceTicks.sanitizedRange(shown.map(\.y).min() ?? 0, shown.map(\.y).max() ?? 1)
        func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
            let pad = (r.upperBound - r.lowerBound) * 0.08
            return (r.lowerBound - pad)...(r.upperBound + pad)
        }
        xRange = padded(xRange)
        yRange = padded(yRange)

        // The density's cells and colour bar (its width is kept free right of the plot).
        var counts: [Int] = []
        var maxCount = 0
        if let bins {
            counts = [Int](repeating: 0, count: bins * bins)
            let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
            for p in shown {
                let bx = min(max(Int((p.x - xRange.lowerBound) / xSpan * Double(bins)), 0), bins - 1)
                let by = min(max(Int((p.y - yRange.lowerBound) / ySpan * Double(bins)), 0), bins - 1)
                counts[by * bins + bx] += 1
            }
            maxCount = counts.max() ?? 0
        }
        let densityMap = ColorMap.viridis.reversed()
        let densityBar = ColorBar(domain: 0...Double(max(maxCount, 1)), map: densityMap, title: map.densityTitle, missing: nil,
                                  theme: theme, measurer: measurer)
        let barRoom = bins == nil ? 0 : densityBar.width + 10

        // Axes and plot size; two passes because tick labels depend on ranges, which (equal aspect)
        // depend on the plot size.
        var plot = Rect(x: 0, y: 0, width: 0, height: 0)
        var xAxis = Axis(side: .bottom, ticks: NiceTicks.ticks(0, 1), title: map.xTitle, theme: theme, measurer: measurer)
        var yAxis = Axis(side: .left, ticks: NiceTicks.ticks(0, 1), title: map.yTitle, theme: theme, measurer: measurer)
        for pass in 0..<3 {
            let plotWidthGuess = max(plot.width, width * 0.6)
            xAxis.ticks = NiceTicks.ticks(xRange.lowerBound, xRange.upperBound, targetCount: max(3, Int(plotWidthGuess / 45)), minimumCount: 2)
            yAxis.ticks = NiceTicks.ticks(yRange.lowerBound, yRange.upperBound,
                                          targetCount: max(3, Int(max(plot.height, plotWidthGuess * 0.75) / 40)), minimumCount: 3)
            let left = m + yAxis.thickness
            let right = m + max(xAxis.overhang * 0.5, barRoom)
            let plotWidth = max(width - left - right, 20)
            var plotHeight = plotWidth * 0.75
            if map.equalAspect {
                let xSpan = xRange.upperBound - xRange.lowerBound
                var ySpan = yRange.upperBound - yRange.lowerBound
                plotHeight = plotWidth * ySpan / xSpan
                if plotHeight < plotWidth * 0.45 {
                    ySpan = xSpan * 0.45
                    let mid = (yRange.lowerBound + yRange.upperBound) / 2
                    yRange = (mid - ySpan / 2)...(mid + ySpan / 2)
                    plotHeight = plotWidth * 0.45
                } else if plotHeight > plotWidth * 1.1 {
                    let newXSpan = ySpan / 1.1
                    let mid = (xRange.lowerBound + xRange.upperBound) / 2
                    xRange = (mid - newXSpan / 2)...(mid + newXSpan / 2)
                    plotHeight = plotWidth * 1.1
                }
            }
            plot = Rect(x: left, y: top + yAxis.overhang, width: plotWidth, height: plotHeight)
            // Axis titles wrap to the plot's sides as the last pass measured them.
            if pass < 2 { (xAxis.titleRoom, yAxis.titleRoom) = (plot.width, plot.height) }
        }
        let xScale = LinearScale(domain: xRange, start: plot.minX, end: plot.maxX)
        let yScale = LinearScale(domain: yRange, start: plot.maxY, end: plot.minY)

        scene.add(yAxis.gridMarks(scale: yScale, plot: plot))
        scene.add(xAxis.gridMarks(scale: xScale, plot: plot))
        if map.showOrigin {
            let dashed = Style.stroke(Color(hex: 0xA0A0A0), width: 0.6, dash: [2.5, 2])
            if xRange.contains(0) { scene.add(.path(.line(from: Point(x: xScale(0), y: plot.minY), to: Point(x: xScale(0), y: plot.maxY)), dashed)) }
            if yRange.contains(0) { scene.add(.path(.line(from: Point(x: plot.minX, y: yScale(0)), to: Point(x: plot.maxX, y: yScale(0))), dashed)) }
        }

        // Density cells (in data space, the plot's padded ranges), under the trend line.
        if let bins, maxCount > 0 {
            let cellWidth = plot.width / Double(bins), cellHeight = plot.height / Double(bins)
            // The ranges are the binning ranges unless equal aspect widened one (relations have none).
            for by in 0..<bins {
                for bx in 0..<bins where counts[by * bins + bx] > 0 {
                    let count = counts[by * bins + bx]
                    let fill = densityMap.color(at: Double(count) / Double(maxCount)) ?? .black
                    scene.add(.rect(Rect(x: plot.minX + Double(bx) * cellWidth, y: plot.maxY - Double(by + 1) * cellHeight,
                                         width: cellWidth, height: cellHeight), .fill(fill)))
                }
            }
            scene.add(densityBar.marks(origin: Point(x: plot.maxX + 10, y: plot.minY), height: plot.height).marks)
        }

        // Trend line under the points, then points, the note box and labels placed around them.
        let r = large ? ScatterMap.largeMarkerRadius : map.markerRadius
        func radius(_ point: ScatterPoint) -> Double {
            point.highlighted ? max(ScatterMap.highlightedMarkerRadius, r * 1.3) : r
        }
        let anchors = shown.map { Point(x: xScale($0.x), y: yScale($0.y)) }
        var segment: (Point, Point)?
        if map.trendLine, let fit = LeastSquaresLine(shown.map { ($0.x, $0.y) }) {
            let ends = (Point(x: plot.minX, y: yScale(fit(xRange.lowerBound))), Point(x: plot.maxX, y: yScale(fit(xRange.upperBound))))
            segment = ends
            scene.add(.clipped(plot, [.path(.line(from: ends.0, to: ends.1), Self.trendStyle)]))
        }
        if bins == nil {
            // Highlighted points last, so they are on top.
            let drawOrder = shown.indices.filter { !shown[$0].highlighted } + shown.indices.filter { shown[$0].highlighted }
            for k in drawOrder {
                let point = shown[k]
                let style = point.highlighted ? Style(fill: .color(colour(point)), stroke: Color(hex: 0x1A1A1A), lineWidth: 0.9)
                    : Style(fill: .color(colour(point)), stroke: .white, lineWidth: large ? 0.3 : 0.5)
                scene.add(.titled(Tooltips.point(point, title: map.title, xTitle: map.xTitle, yTitle: map.yTitle),
                                  [.path(shape(point).path(center: anchors[k], radius: radius(point)), style)]))
            }
        }
        var entries: [(text: String, swatch: LegendEntry.Swatch?)] = map.note.map { ($0, nil) }
        if segment != nil {
            entries.append(("least-squares fit", .line(Self.trendStyle.stroke!, width: Self.trendStyle.lineWidth, dash: Self.trendStyle.dash,
                                                       marker: nil)))
        }
        var obstacles: [Rect] = []
        var noteBelow: [String] = []
        if let box = NoteBox.layout(entries, plot: plot, points: anchors, markerRadius: r, segment: segment, theme: theme, measurer: measurer) {
            scene.add(box.marks)
            obstacles.append(box.frame)
        } else {
            noteBelow = map.note
        }
        let labelStyle = theme.legendStyle
        let boldStyle = labelStyle.with(weight: .bold)
        let labelled = map.showsLabels && bins == nil ? shown : []
        let texts = measurer.distinctLabels(labelled.map(\.label), style: labelStyle, maxWidth: plot.width * 0.4)
        let requests = zip(zip(texts, anchors), labelled).map { pair, point in
            let size = measurer.measure(pair.0, style: point.highlighted ? boldStyle : labelStyle)
            return LabelPlacer.Request(anchor: pair.1, size: Size(width: size.width, height: size.height),
                                       markerRadius: radius(point) + 0.5, required: point.highlighted)
        }
        let placements = LabelPlacer(bounds: plot.insetBy(dx: 1, dy: 1), obstacles: obstacles, omitsUnplaceable: large).placeOptional(requests)
        var labelledFlags = [Bool](repeating: false, count: map.points.count)
        for (i, found) in placements.enumerated() {
            guard let placement = found else { continue }
            labelledFlags[shownIndices[i]] = true
            if placement.needsLeader {
                let target = placement.rect.nearestPoint(to: anchors[i])
                let dx = target.x - anchors[i].x, dy = target.y - anchors[i].y
                let length = max(hypot(dx, dy), 1e-9)
                let start = Point(x: anchors[i].x + dx / length * (r + 0.8), y: anchors[i].y + dy / length * (r + 0.8))
                scene.add(.path(.line(from: start, to: target), .stroke(Color(hex: 0x8C8C8C), width: 0.5)))
            }
            scene.add(.text(TextMark(texts[i], at: Point(x: placement.rect.minX, y: placement.rect.minY),
                                     style: labelled[i].highlighted ? boldStyle : labelStyle, horizontal: .start, vertical: .top)))
        }

        scene.add(yAxis.marks(scale: yScale, plot: plot))
        scene.add(xAxis.marks(scale: xScale, plot: plot))
        var bottom = plot.maxY + xAxis.thickness
        if large && !labelled.isEmpty {
            let count = labelledFlags.filter { $0 }.count
            noteBelow.append("\(count) of \(labelled.count) points labelled (where a name fits; highlighted ones always)")
        }
        if dropped > 0 {
            noteBelow.append("\(dropped) point\(dropped == 1 ? "" : "s") with non-finite coordinates not shown")
        }
        for note in noteBelow where !note.isEmpty {
            let style = theme.text(theme.legendSize, color: theme.mutedTextColor)
            let text = measurer.wrap(note, style: style, maxWidth: width - 2 * m)
            scene.add(.text(TextMark(text, at: Point(x: m, y: bottom + 4), style: style, vertical: .top)))
            bottom += 4 + measurer.measure(text, style: style).height
        }
        scene.size.height = (bottom + m).rounded(.up)
        return (scene, labelledFlags)
    }
}
