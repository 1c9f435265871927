import Foundation

/// Computes the geometry of a heatmap figure and emits its marks.
struct HeatmapLayout {
    let heatmap: Heatmap
    let width: Double
    let theme: Theme
    let measurer: TextMeasurer

    // Normalised input.
    let rows: Int
    let columns: Int
    let matrix: [[Double]]          // in display order
    let rowNames: [String]          // in display order
    let columnNames: [String]
    /// Whether the display cell (r, c) is an `.empty` diagonal cell.
    let isBlank: [[Bool]]
    /// Row indices (into `values`) in display order.
    let rowOrder: [Int]
    /// The tree and clusters, when rows and columns are the same tasks in the same order.
    let dendrogram: Dendrogram?
    /// The cluster of each display row (and column), when given for every task.
    let clusters: [Int]?

    init(heatmap: Heatmap, width: Double, theme: Theme, measurer: TextMeasurer) {
        self.heatmap = heatmap
        self.width = FigureWidth.usable(width)
        self.theme = theme
        self.measurer = measurer
        let rowCount = heatmap.values.count
        let columnCount = heatmap.values.map(\.count).max() ?? 0
        rows = columnCount == 0 ? 0 : rowCount
        columns = rows == 0 ? 0 : columnCount
        let rowOrder = sanitizedOrder(heatmap.rowOrder, count: rows)
        let columnOrder = sanitizedOrder(heatmap.columnOrder, count: columns)
        func label(_ labels: [String], _ i: Int) -> String { i < labels.count ? labels[i] : String(i + 1) }
        matrix = rowOrder.map { r in
            columnOrder.map { c in c < heatmap.values[r].count ? heatmap.values[r][c] : .nan }
        }
        isBlank = rowOrder.map { r in columnOrder.map { c in heatmap.diagonal == .empty && r == c } }
        rowNames = rowOrder.map { label(heatmap.rowLabels, $0) }
        columnNames = columnOrder.map { label(heatmap.columnLabels, $0) }
        self.rowOrder = rowOrder
        let sharedAxes = rows > 0 && rows == columns && rowOrder == columnOrder && heatmap.rowLabels == heatmap.columnLabels
        dendrogram = sharedAxes ? heatmap.dendrogram.flatMap { $0.leafCount == rowCount ? $0 : nil } : nil
        clusters = sharedAxes ? heatmap.clusterLabels.flatMap { labels in labels.count == rowCount ? rowOrder.map { labels[$0] } : nil } : nil
    }

    func scene() -> Scene {
        let m = theme.margin
        var (scene, top) = Scene.titled(heatmap.title, subtitle: heatmap.subtitle, width: width, theme: theme, measurer: measurer)

        guard rows > 0 && columns > 0 else {
            let height = max(top + 60, 80)
            scene.add(.text(TextMark("No data", at: Point(x: width / 2, y: (top + height) / 2),
                                     style: theme.text(theme.axisTitleSize, color: theme.mutedTextColor),
                                     horizontal: .middle, vertical: .middle)))
            scene.size.height = height
            return scene
        }

        let domain = heatmap.colorDomain
        let hasMissing = zip(matrix, isBlank).contains { row, blank in zip(row, blank).contains { $0.isNaN && !$1 } }
        let clipping = heatmap.clipping
        let missingPaint = FigureDensity.rastersHeatmapCells(rows: rows, columns: columns)
            ? .color(Heatmap.rasterMissingColor) : heatmap.missingPaint
        let bar = ColorBar(domain: domain, map: heatmap.colorMap, title: heatmap.colorBarTitle,
                           missing: hasMissing ? (missingPaint, heatmap.missingLabel) : nil,
                           clipsLow: clipping.low, clipsHigh: clipping.high, theme: theme, measurer: measurer)

        // Labels: truncate very long names, then choose one size and stride for both axes.
        let labelLimit = max(40, min(width * 0.22, 130))
        let baseStyle = theme.tickStyle
        let gap = 3.0
        let barGap = 10.0
        // A dendrogram takes a strip left of the row labels and above the grid.
        let treeDepth = dendrogram == nil ? 0 : min(40, max(18, width * 0.07))
        let treeReserve = dendrogram == nil ? 0 : treeDepth + 2

        // Label size: the largest (from the tick size down) at which row labels fit their rows;
        // smaller labels leave more room for cells, so shrink step by step.
        var labelSize = baseStyle.size
        var fit = labelGeometry(size: labelSize, labelLimit: labelLimit, gap: gap, barSpace: barGap + bar.width, reserve: treeReserve)
        while fit.lineHeight > fit.cell && labelSize > theme.minimumLabelSize {
            labelSize = max(labelSize - 0.25, theme.minimumLabelSize)
            fit = labelGeometry(size: labelSize, labelLimit: labelLimit, gap: gap, barSpace: barGap + bar.width, reserve: treeReserve)
        }
        // Even the smallest labels are taller than a row: show every stride-th label, or cluster
        // bands instead when there are clusters.
        var stride = max(1, Int((fit.lineHeight / fit.cell - 1e-9).rounded(.up)))
        var bands: ClusterBands?
        if stride > 1, let clusters {
            bands = ClusterBands(clusters: clusters, theme: theme, measurer: measurer)
            fit = bandGeometry(bands!, gap: gap, barSpace: barGap + bar.width, reserve: treeReserve)
            stride = 1
        }
        let (left, cell, labelStyle, rowTexts, columnTexts) = (fit.left, fit.cell, fit.style, fit.rowTexts, fit.columnTexts)
        let rotation = stride > 1 ? 90 : fit.rotation

        let gridWidth = cell * Double(columns)
        let gridHeight = cell * Double(rows)
        // Centre the block when the cell size limit leaves room.
        let used = left + gridWidth + barGap + bar.width + m
        let shift = max(0, (width - used) / 2)
        let gridTop = top + treeReserve + (bands == nil ? 0 : ClusterBands.thickness + ClusterBands.gap)
        let grid = Rect(x: left + shift, y: gridTop, width: gridWidth, height: gridHeight)

        // Cells: one rectangle each, or one bitmap for a large matrix.
        if FigureDensity.rastersHeatmapCells(rows: rows, columns: columns) {
            scene.add(rasterCells(grid: grid, domain: domain))
        } else {
            let inset = cell >= 8 ? 0.4 : -0.05
            for (r, row) in matrix.enumerated() {
                for (c, value) in row.enumerated() where !isBlank[r][c] {
                    let rect = Rect(x: grid.minX + Double(c) * cell, y: grid.minY + Double(r) * cell, width: cell, height: cell)
                    let tooltip = Tooltips.cell(row: rowNames[r], column: columnNames[c], title: heatmap.title,
                                                quantity: heatmap.colorBarTitle, value: value, decimals: heatmap.decimals)
                    scene.add(.titled(tooltip, [.rect(rect.insetBy(dx: inset, dy: inset), Style(fill: heatmap.paint(for: value, domain: domain)))]))
                }
            }
        }
        if heatmap.annotate { scene.add(annotations(grid: grid, cell: cell, domain: domain)) }

        // Row labels (left) and column labels (below), or the cluster bands.
        var bottom = grid.maxY
        if let bands {
            let drawn = bands.marks(grid: grid, cell: cell, gap: gap)
            scene.add(drawn.marks)
            bottom = max(bottom, drawn.bottom)
        } else {
            for (r, text) in rowTexts.enumerated() where r % stride == 0 {
                scene.add(.text(TextMark(text, at: Point(x: grid.minX - gap, y: grid.minY + (Double(r) + 0.5) * cell),
                                         style: labelStyle.with(color: theme.textColor), horizontal: .end, vertical: .middle)))
            }
            for (c, text) in columnTexts.enumerated() where c % stride == 0 {
                let mark = columnLabel(text, centerX: grid.minX + (Double(c) + 0.5) * cell, gridBottom: grid.maxY + gap,
                                       style: labelStyle, rotation: rotation)
                bottom = max(bottom, measurer.bounds(of: mark).maxY)
                scene.add(.text(mark))
            }
        }
        if let dendrogram {
            scene.add(treeMarks(dendrogram, grid: grid, cell: cell, depth: treeDepth, rowLeavesX: m + shift + treeDepth,
                                columnLeavesY: top + treeDepth))
        }

        // Colour bar to the right, as tall as the grid (or its minimum height).
        let barOrigin = Point(x: grid.maxX + barGap, y: grid.minY)
        let barMarks = bar.marks(origin: barOrigin, height: gridHeight)
        scene.add(barMarks.marks)
        bottom = max(bottom, barMarks.bottom)

        scene.size.height = (bottom + m).rounded(.up)
        return scene
    }

    /// The smallest cell side: 1 pt for rectangles; a bitmap's pixels may be smaller (500 tasks
    /// in a 400 pt grid), as long as the grid stays a visible size (0.05 pt per cell).
    private var minimumCell: Double { FigureDensity.rastersHeatmapCells(rows: rows, columns: columns) ? 0.05 : 1 }

    private struct LabelGeometry {
        var style: TextStyle
        var lineHeight: Double
        var rowTexts: [String]
        var columnTexts: [String]
        var left: Double
        var cell: Double
        /// Column labels: 0 (horizontal, when they fit the cells), 45 (when neighbours clear each
        /// other at that angle) or 90 degrees.
        var rotation: Double
    }

    /// Left margin, cell size, column-label rotation and label texts for one label size.
    /// `reserve` is the width kept left of the labels (a dendrogram).
    private func labelGeometry(size: Double, labelLimit: Double, gap: Double, barSpace: Double, reserve: Double) -> LabelGeometry {
        let m = theme.margin
        let style = theme.tickStyle.with(size: size)
        let lineHeight = measurer.measure("Ag", style: style).height
        let rowTexts = measurer.distinctLabels(rowNames, style: style, maxWidth: labelLimit)
        let columnTexts = measurer.distinctLabels(columnNames, style: style, maxWidth: labelLimit)
        let rowLabelWidth = rowTexts.map { measurer.measure($0, style: style).width }.max() ?? 0
        func cellSize(left: Double) -> Double {
            max(minimumCell, min((width - left - m - barSpace) / Double(columns), heatmap.maximumCellSize))
        }
        let plainLeft = m + reserve + rowLabelWidth + gap
        var left = plainLeft
        var cell = cellSize(left: left)
        let widest = columnTexts.map { measurer.measure($0, style: style).width }.max() ?? 0
        var rotation = widest <= cell - 2 ? 0.0 : (lineHeight <= cell * 0.707 ? 45 : 90)
        if rotation == 45 {
            // 45° labels reach left of their columns (the first ones past the grid); twice, as the
            // cell shrinks when the margin grows.
            let reaches = columnTexts.map { text in
                -measurer.bounds(of: columnLabel(text, centerX: 0, gridBottom: 0, style: style, rotation: 45)).minX
            }
            for _ in 0..<2 {
                let reach = reaches.enumerated().map { k, r in r - (Double(k) + 0.5) * cell }.max() ?? 0
                left = max(plainLeft, m + reserve + reach + 0.5)
                cell = cellSize(left: left)
            }
            if lineHeight > cell * 0.707 {
                rotation = 90
                left = plainLeft
                cell = cellSize(left: left)
            }
        }
        return LabelGeometry(style: style, lineHeight: lineHeight, rowTexts: rowTexts, columnTexts: columnTexts,
                             left: left, cell: cell, rotation: rotation)
    }

    /// Left margin and cell size when cluster bands replace the labels: the tree, the band, the
    /// cluster numbers and the gap left of the grid.
    private func bandGeometry(_ bands: ClusterBands, gap: Double, barSpace: Double, reserve: Double) -> LabelGeometry {
        let m = theme.margin
        let left = m + reserve + ClusterBands.thickness + ClusterBands.gap + bands.numberWidth + gap
        let cell = max(minimumCell, min((width - left - m - barSpace) / Double(columns), heatmap.maximumCellSize))
        return LabelGeometry(style: bands.style, lineHeight: bands.lineHeight, rowTexts: [], columnTexts: [], left: left, cell: cell, rotation: 0)
    }

    /// The cells as one bitmap (one pixel per cell; blank diagonal cells transparent, missing
    /// cells grey) and, for the SVG, one tooltip per row: the row's task, its place and cluster.
    private func rasterCells(grid: Rect, domain: ClosedRange<Double>) -> [Mark] {
        var colors: [Color?] = []
        colors.reserveCapacity(rows * columns)
        for (r, row) in matrix.enumerated() {
            for (c, value) in row.enumerated() {
                if isBlank[r][c] {
                    colors.append(nil)
                } else if value.isNaN {
                    colors.append(Heatmap.rasterMissingColor)
                } else if case .color(let color) = heatmap.paint(for: value, domain: domain) {
                    colors.append(color)
                } else {
                    colors.append(Heatmap.rasterMissingColor)
                }
            }
        }
        var marks: [Mark] = [.image(RasterImage(width: columns, height: rows, colors: colors), in: grid, interpolation: .nearest)]
        let cell = grid.height / Double(rows)
        for r in 0..<rows {
            let band = Rect(x: grid.minX, y: grid.minY + Double(r) * cell, width: grid.width, height: cell)
            let cluster = clusters.flatMap { $0[r] >= 0 ? $0[r] : nil }
            let text = Tooltips.row(rowNames[r], position: r + 1, count: rows, cluster: cluster, title: heatmap.title)
            marks.append(.titled(text, [.rect(band, .fill(.clear))]))
        }
        return marks
    }

    /// The dendrogram left of the rows (root at the left, leaves at `rowLeavesX`) and above the
    /// columns (root at the top, leaves at `columnLeavesY`), the highest merge `depth` from the leaves.
    private func treeMarks(_ tree: Dendrogram, grid: Rect, cell: Double, depth: Double, rowLeavesX: Double, columnLeavesY: Double) -> [Mark] {
        var slot = [Double](repeating: .nan, count: tree.leafCount)
        for (position, index) in rowOrder.enumerated() where index < slot.count { slot[index] = (Double(position) + 0.5) * cell }
        // At most one link per 4 pt of the axis: below that the lines of 500 leaves merge into a
        // dark block; the top of the tree (where the clusters separate) is what is read.
        let links = tree.links(positions: slot, maximumLinks: max(1, Int(grid.height / 4)))
        guard !links.isEmpty else { return [] }
        let highest = links.map(\.height).max() ?? 0
        let scale = highest > 0 ? depth / highest : 0
        func uShape(_ link: Dendrogram.Link, _ point: (Double, Double) -> Point) -> Path {
            .polyline([point(link.leftPosition, link.leftHeight), point(link.leftPosition, link.height),
                       point(link.rightPosition, link.height), point(link.rightPosition, link.rightHeight)])
        }
        var rowPath = Path(), columnPath = Path()
        for link in links {
            rowPath.append(uShape(link) { Point(x: rowLeavesX - $1 * scale, y: grid.minY + $0) })
            columnPath.append(uShape(link) { Point(x: grid.minX + $0, y: columnLeavesY - $1 * scale) })
        }
        let style = Style.stroke(theme.axisColor, width: 0.5)
        return [.path(rowPath, style), .path(columnPath, style)]
    }

    private func columnLabel(_ text: String, centerX: Double, gridBottom: Double, style: TextStyle, rotation: Double) -> TextMark {
        let styled = style.with(color: theme.textColor)
        switch rotation {
        case 0:
            return TextMark(text, at: Point(x: centerX, y: gridBottom), style: styled, horizontal: .middle, vertical: .top)
        case 90:
            return TextMark(text, at: Point(x: centerX, y: gridBottom), style: styled, horizontal: .end, vertical: .middle, rotation: 90)
        default:
            // End of the text under the column centre, lifted by the corner that pokes up at 45°.
            let h = measurer.measure(text, style: style).height
            return TextMark(text, at: Point(x: centerX, y: gridBottom + h * 0.3536), style: styled,
                            horizontal: .end, vertical: .middle, rotation: 45)
        }
    }

    private func annotations(grid: Rect, cell: Double, domain: ClosedRange<Double>) -> [Mark] {
        let texts = matrix.map { row in row.map { $0.isNaN ? "" : NumberFormat.fixed($0, decimals: heatmap.decimals) } }
        let widest = texts.joined().max {
            measurer.measure($0, style: theme.tickStyle).width < measurer.measure($1, style: theme.tickStyle).width
        } ?? ""
        guard !widest.isEmpty,
              let size = measurer.fittingSize(widest, style: theme.text(theme.annotationSize), maxWidth: cell - 2.5,
                                              maxHeight: cell - 1, minimum: theme.minimumAnnotationSize) else { return [] }
        var marks: [Mark] = []
        let dark = theme.textColor, light = Color.white
        for (r, row) in matrix.enumerated() {
            for (c, value) in row.enumerated() where !value.isNaN && !isBlank[r][c] {
                guard case .color(let fill) = heatmap.paint(for: value, domain: domain) else { continue }
                let ink = fill.contrastRatio(with: dark) >= fill.contrastRatio(with: light) ? dark : light
                let center = Point(x: grid.minX + (Double(c) + 0.5) * cell, y: grid.minY + (Double(r) + 0.5) * cell)
                marks.append(.text(TextMark(texts[r][c], at: center, style: theme.text(size, color: ink),
                                            horizontal: .middle, vertical: .middle)))
            }
        }
        return marks
    }
}
