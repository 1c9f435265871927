@testable import Charts
import Foundation
import TVGeoTestSupport
import XCTest

/// Heatmaps of many tasks (issue 16): cells as one embedded bitmap, dendrogram, cluster bands,
/// and the thresholds of `FigureDensity`.
final class LargeHeatmapTests: XCTestCase {
    let renderer = CairoRenderer()

    /// A balanced tree over `leaves` (left half first), each merge as high as its number of leaves.
    static func balancedTree(_ leaves: [Int], leafCount: Int) -> Dendrogram {
        var merges: [Dendrogram.Merge] = []
        func build(_ part: ArraySlice<Int>) -> Int {
            if part.count == 1 { return part.first! }
            let middle = part.startIndex + part.count / 2
            let left = build(part[part.startIndex..<middle]), right = build(part[middle...])
            merges.append(Dendrogram.Merge(left: left, right: right, height: Double(part.count)))
            return leafCount + merges.count - 1
        }
        _ = build(leaves[...])
        return Dendrogram(leafCount: leafCount, merges: merges)
    }

    /// `n` tasks named `task_<i>` in a shuffled order; the distance of two tasks grows with how far
    /// apart they are in that order; clusters are runs of 8 along it.
    static func library(_ n: Int, seed: UInt64 = 11) -> (heatmap: Heatmap, order: [Int]) {
        var generator = SeededRandom(seed: seed)
        let order = Array(0..<n).shuffled(using: &generator)
        var place = [Int](repeating: 0, count: n)
        for (position, task) in order.enumerated() { place[task] = position }
        let values = (0..<n).map { i in (0..<n).map { j in Double(abs(place[i] - place[j])) / Double(n) } }
        var heatmap = Heatmap(values: values, labels: (0..<n).map { "task_\($0)" }, order: order, title: "Cosine · query",
                              colorBarTitle: "1 − cos")
        heatmap.diagonal = .context
        heatmap.dendrogram = balancedTree(order, leafCount: n)
        heatmap.clusterLabels = (0..<n).map { place[$0] / 8 }
        return (heatmap, order)
    }

    private func images(_ scene: Scene) -> [(RasterImage, Rect, ImageInterpolation)] {
        scene.untitledMarks.compactMap { mark in
            if case .image(let image, let rect, let interpolation) = mark { return (image, rect, interpolation) }
            return nil
        }
    }

    // MARK: FigureDensity

    /// The largest task count whose heatmap still draws every row label (at ≥ the minimum size).
    private func largestFullyLabelled(width: Double) -> Int {
        func labelled(_ n: Int) -> Bool {
            let names = (0..<n).map { "task_\($0 + 100)" }
            let scene = Heatmap(values: Array(repeating: Array(repeating: 0.5, count: n), count: n), labels: names)
                .scene(width: width)
            let texts = Set(scene.textMarks.map(\.text))
            return names.allSatisfy(texts.contains)
        }
        var n = 2
        while labelled(n + 1) { n += 1 }
        return n
    }

    func testHeatmapLabelsFitUpToTheMeasuredCounts() {
        // The evidence quoted in FigureDensity's documentation.
        XCTAssertEqual(largestFullyLabelled(width: FigureWidth.singleColumn), 22)
        XCTAssertEqual(largestFullyLabelled(width: FigureWidth.doubleColumn), 60)
        XCTAssertFalse(FigureDensity.isLarge(taskCount: FigureDensity.largeTaskCount))
        XCTAssertTrue(FigureDensity.isLarge(taskCount: FigureDensity.largeTaskCount + 1))
    }

    func testSmallMatricesKeepVectorCellsAndLargeOnesBecomeOneImage() {
        for (n, expectImage) in [(FigureDensity.largeTaskCount, false), (FigureDensity.largeTaskCount + 1, true)] {
            let values = (0..<n).map { i in (0..<n).map { j in Double((i * 7 + j * 3) % 11) } }
            let scene = Heatmap(values: values, labels: (0..<n).map { "t\($0)" }).scene(width: FigureWidth.doubleColumn)
            XCTAssertEqual(images(scene).count, expectImage ? 1 : 0, "n = \(n)")
            let cellRects = scene.untitledMarks.filter { mark in
                if case .rect(let r, let s) = mark, s.stroke == nil, case .color(let c)? = s.fill, c.alpha == 1, abs(r.width - r.height) < 1e-9 {
                    return true
                }
                return false
            }
            XCTAssertEqual(cellRects.count >= n * n, !expectImage, "n = \(n): \(cellRects.count) cell rectangles")
        }
    }

    // MARK: The bitmap

    func testBitmapPixelsAreTheColourMapOfTheValuesInDisplayOrder() throws {
        let n = 60
        var (heatmap, order) = Self.library(n)
        heatmap.values[order[3]][order[5]] = .nan
        heatmap.diagonal = .empty
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let (image, rect, interpolation) = try XCTUnwrap(images(scene).first)
        XCTAssertEqual(interpolation, .nearest)
        XCTAssertEqual(image.width, n)
        XCTAssertEqual(image.height, n)
        XCTAssertEqual(rect.width, rect.height, accuracy: 1e-9)
        let domain = heatmap.colorDomain
        for r in 0..<n {
            for c in 0..<n {
                let value = heatmap.values[order[r]][order[c]]
                let pixel = image.color(x: c, y: r)
                if r == c {
                    XCTAssertNil(pixel, "the empty diagonal is transparent")
                } else if value.isNaN {
                    XCTAssertEqual(pixel, Heatmap.rasterMissingColor, "missing cells are flat grey")
                } else {
                    let t = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
                    let expected = try XCTUnwrap(heatmap.colorMap.color(at: t))
                    let got = try XCTUnwrap(pixel)
                    for (a, b) in [(got.red, expected.red), (got.green, expected.green), (got.blue, expected.blue)] {
                        XCTAssertEqual(a, b, accuracy: 0.5 / 255 + 1e-9, "cell (\(r), \(c))")
                    }
                }
            }
        }
    }

    func testPNGCellsAreCrispAndCarryTheirColours() throws {
        let n = 48
        let (heatmap, order) = Self.library(n)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let (image, rect, _) = try XCTUnwrap(images(scene).first)
        // 4 px per point: every cell is several pixels wide, so its centre pixel is the cell's colour.
        let scale = 4.0
        let png = try RasterImage(png: renderer.render(scene, format: .png(scale: scale), figureID: "big"))
        let cell = rect.width / Double(n)
        var checked = 0
        for r in stride(from: 0, to: n, by: 5) {
            for c in stride(from: 0, to: n, by: 3) {
                let x = Int(((rect.minX + (Double(c) + 0.5) * cell) * scale).rounded(.down))
                let y = Int(((rect.minY + (Double(r) + 0.5) * cell) * scale).rounded(.down))
                XCTAssertEqual(png.pixels[y * png.width + x], image.pixels[r * n + c], "cell (\(r), \(c)) = \(order[r]) × \(order[c])")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
        // Nearest-neighbour: along a row of the drawn grid only cell colours occur (no blended edges).
        let y = Int(((rect.minY + 10.5 * cell) * scale).rounded(.down))
        let rowColours = Set(image.pixels[(10 * n)..<(11 * n)])
        let x0 = Int((rect.minX * scale).rounded(.up)) + 1, x1 = Int((rect.maxX * scale).rounded(.down)) - 1
        for x in x0..<x1 {
            XCTAssertTrue(rowColours.contains(png.pixels[y * png.width + x]), "pixel \(x) of row 10 is a blend")
        }
    }

    func testSVGEmbedsTheBitmapOnceWithOneTooltipPerRow() throws {
        let n = 120
        let (heatmap, _) = Self.library(n)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let svgData = try renderer.render(scene, format: .svg, figureID: "big")
        try assertValidSVG(svgData)
        let svg = String(decoding: svgData, as: UTF8.self)
        XCTAssertEqual(svg.components(separatedBy: "<image ").count - 1, 1)
        XCTAssertTrue(svg.contains("image-rendering:pixelated"))
        XCTAssertTrue(svg.contains("preserveAspectRatio=\"none\""))
        let prefix = "xlink:href=\"data:image/png;base64,"
        let start = try XCTUnwrap(svg.range(of: prefix)).upperBound
        let end = try XCTUnwrap(svg[start...].firstIndex(of: "\""))
        let embedded = try RasterImage(png: XCTUnwrap(Data(base64Encoded: String(svg[start..<end]))))
        XCTAssertEqual(embedded, try XCTUnwrap(images(scene).first).0, "the data URI holds exactly the bitmap")
        // Tooltips: one per row (the task and its cluster), one per cluster band run on each axis.
        XCTAssertTrue(svg.contains("<title>task_"))
        let rowTips = svg.components(separatedBy: " of \(n) · cluster ").count - 1
        XCTAssertEqual(rowTips, n)
        XCTAssertLessThan(svgData.count, 120_000, "a 120-task heatmap SVG stays small")
        let pdf = try renderer.render(scene, format: .pdf, figureID: "big")
        XCTAssertLessThan(pdf.count, 120_000)
        try assertValidPDF(pdf, size: scene.size)
    }

    // MARK: Dendrogram

    func testDendrogramLinksStartAtTheLeavesAndRiseToEachMerge() {
        // ((0, 2) at 1, (1, 3) at 2) at 5; leaves drawn in the order 2, 0, 3, 1.
        let tree = Dendrogram(leafCount: 4, merges: [.init(left: 0, right: 2, height: 1), .init(left: 1, right: 3, height: 2),
                                                      .init(left: 4, right: 5, height: 5)])
        let positions = [1.5, 3.5, 0.5, 2.5]       // leaf → centre of its slot
        let links = tree.links(positions: positions)
        XCTAssertEqual(links, [
            .init(leftPosition: 1.5, leftHeight: 0, rightPosition: 0.5, rightHeight: 0, height: 1),
            .init(leftPosition: 3.5, leftHeight: 0, rightPosition: 2.5, rightHeight: 0, height: 2),
            .init(leftPosition: 1, leftHeight: 1, rightPosition: 3, rightHeight: 2, height: 5),
        ])
        for link in links {
            XCTAssertGreaterThanOrEqual(link.height, max(link.leftHeight, link.rightHeight), "a parent sits above its children")
        }
    }

    func testTruncatedDendrogramKeepsTheHighestMerges() {
        let tree = Dendrogram(leafCount: 4, merges: [.init(left: 0, right: 2, height: 1), .init(left: 1, right: 3, height: 2),
                                                      .init(left: 4, right: 5, height: 5)])
        let positions = [1.5, 3.5, 0.5, 2.5]
        XCTAssertEqual(tree.links(positions: positions, maximumLinks: 1),
                       [.init(leftPosition: 1, leftHeight: 1, rightPosition: 3, rightHeight: 2, height: 5)],
                       "the undrawn subtrees' legs stop at their own heights")
        XCTAssertEqual(tree.links(positions: positions, maximumLinks: 2).map(\.height), [2, 5])
        XCTAssertEqual(tree.links(positions: positions, maximumLinks: 2).last?.rightHeight, 2, "a drawn child keeps its height")
        XCTAssertEqual(tree.links(positions: positions, maximumLinks: 9), tree.links(positions: positions))
    }

    func testDendrogramDropsInvalidMergesAndEverythingAboveThem() {
        let tree = Dendrogram(leafCount: 4, merges: [
            .init(left: 0, right: 1, height: 1),
            .init(left: 0, right: 2, height: 2),        // 0 is already merged
            .init(left: 2, right: 3, height: .nan),     // not finite
            .init(left: 4, right: 6, height: 4),        // 6 was never made
            .init(left: 7, right: 2, height: 5),        // 7 is a later node
        ])
        XCTAssertEqual(tree.links(positions: [0, 1, 2, 3]).count, 1)
        XCTAssertEqual(tree.links(positions: [0, .nan, 2, 3]),
                       [.init(leftPosition: 0, leftHeight: 0, rightPosition: 2, rightHeight: 0, height: 2)],
                       "a leaf without a position drops its merge; 0 is then free for the next")
        XCTAssertTrue(Dendrogram(leafCount: 3, merges: []).links(positions: [0, 1, 2]).isEmpty)
    }

    func testHeatmapDendrogramLeavesSitAtTheirRowsAndColumns() throws {
        let n = 64
        let (heatmap, order) = Self.library(n)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let (_, grid, _) = try XCTUnwrap(images(scene).first)
        let cell = grid.height / Double(n)
        let trees = scene.untitledMarks.compactMap { mark -> Path? in
            if case .path(let path, let style) = mark, style.stroke != nil, style.fill == nil, path.elements.count >= 4 * (n - 1) { return path }
            return nil
        }
        XCTAssertEqual(trees.count, 2, "one tree left of the rows, one above the columns")
        let rowTree = try XCTUnwrap(trees.first), columnTree = try XCTUnwrap(trees.last)
        func points(_ path: Path) -> [Point] {
            path.elements.compactMap { element in
                switch element {
                case .move(let p), .line(let p): return p
                default: return nil
                }
            }
        }
        // Leaves: the rightmost x of the row tree (lowest y of the column tree), one per row centre.
        let rowPoints = points(rowTree), columnPoints = points(columnTree)
        let leafX = try XCTUnwrap(rowPoints.map(\.x).max()), leafY = try XCTUnwrap(columnPoints.map(\.y).max())
        XCTAssertLessThan(leafX, grid.minX)
        XCTAssertLessThan(leafY, grid.minY)
        let rowLeaves = Set(rowPoints.filter { abs($0.x - leafX) < 1e-9 }.map { (($0.y - grid.minY) / cell - 0.5).rounded() })
        let columnLeaves = Set(columnPoints.filter { abs($0.y - leafY) < 1e-9 }.map { (($0.x - grid.minX) / cell - 0.5).rounded() })
        XCTAssertEqual(rowLeaves, Set((0..<n).map(Double.init)))
        XCTAssertEqual(columnLeaves, Set((0..<n).map(Double.init)))
        for p in rowPoints where abs(p.x - leafX) < 1e-9 {
            let slot = (p.y - grid.minY) / cell - 0.5
            XCTAssertEqual(slot, slot.rounded(), accuracy: 1e-9, "leaves at row centres")
        }
        // The root (the highest merge) is drawn the tree's full depth from the leaves: 7 % of a
        // 500 pt figure, 35 pt.
        XCTAssertEqual(leafX - (try XCTUnwrap(rowPoints.map(\.x).min())), 35, accuracy: 1e-9)
        XCTAssertEqual(leafY - (try XCTUnwrap(columnPoints.map(\.y).min())), 35, accuracy: 1e-9)
        XCTAssertEqual(order.count, n)
        assertTextIsClear(scene)
        assertMarksInsidePage(scene)
    }

    // MARK: Cluster bands

    func testClusterBandsReplaceTickLabelsThatDoNotFit() throws {
        let n = 500
        let (heatmap, order) = Self.library(n)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let texts = scene.textMarks.map(\.text)
        XCTAssertFalse(texts.contains { $0.hasPrefix("task_") }, "no thinned-out task labels when bands are drawn")
        let (_, grid, _) = try XCTUnwrap(images(scene).first)
        let cell = grid.height / Double(n)
        // Row band: one run per cluster of 8 consecutive rows, its colour the cluster's.
        let rowBand = scene.untitledMarks.compactMap { mark -> (Rect, Color)? in
            if case .rect(let r, let s) = mark, case .color(let c)? = s.fill, c.alpha == 1,
               r.width == ClusterBands.thickness, r.maxX < grid.minX { return (r, c) }
            return nil
        }
        XCTAssertEqual(rowBand.count, (n + 7) / 8)
        for (k, (rect, color)) in rowBand.enumerated() {
            XCTAssertEqual(rect.minY, grid.minY + Double(8 * k) * cell, accuracy: 1e-9)
            XCTAssertEqual(color, Palette.tableau10.color(k))
            if k > 0 { XCTAssertNotEqual(color, rowBand[k - 1].1, "neighbouring clusters differ") }
        }
        // Numbers where they fit, never overlapping.
        XCTAssertTrue(texts.contains("1"), "numbered as the clusters table: label + 1")
        XCTAssertTrue(texts.contains("2"))
        XCTAssertFalse(texts.contains("0"), "no cluster 0")
        assertTextIsClear(scene)
        assertMarksInsidePage(scene)
        XCTAssertEqual(order.count, n)
        // Sizes at N = 500: the figure stays small in every format.
        for format in [OutputFormat.svg, .pdf, .png] {
            let bytes = try renderer.render(scene, format: format, figureID: "big")
            XCTAssertLessThan(bytes.count, 400_000, "\(format)")
        }
    }

    func testWithoutClustersLargeHeatmapsThinOutTheirLabels() {
        var (heatmap, _) = Self.library(200)
        heatmap.clusterLabels = nil
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        let labels = scene.textMarks.filter { $0.text.hasPrefix("task_") }
        XCTAssertGreaterThan(labels.count, 10)
        XCTAssertLessThan(labels.count, 200)
        assertTextIsClear(scene)
    }

    func testBandsAndTreeAreIgnoredForRectangularMatrices() {
        var heatmap = Heatmap(values: Array(repeating: Array(repeating: 1.0, count: 60), count: 50),
                              rowLabels: (0..<50).map { "r\($0)" }, columnLabels: (0..<60).map { "c\($0)" })
        heatmap.clusterLabels = Array(repeating: 0, count: 50)
        heatmap.dendrogram = Self.balancedTree(Array(0..<50), leafCount: 50)
        let scene = heatmap.scene(width: FigureWidth.doubleColumn)
        XCTAssertFalse(scene.untitledMarks.contains { mark in
            if case .path(let path, _) = mark { return path.elements.count >= 4 * 49 }
            return false
        }, "no tree")
        XCTAssertEqual(images(scene).first?.0.width, 60)
        XCTAssertEqual(images(scene).first?.0.height, 50)
    }

    // MARK: Snapshots

    func testLargeHeatmapSnapshots() throws {
        let (heatmap, _) = Self.library(72, seed: 5)
        let scene = heatmap.scene(width: FigureWidth.singleColumn)
        let svg = try renderer.render(scene, format: .svg, figureID: "snap-large-heatmap")
        try assertTextSnapshot(String(decoding: svg, as: UTF8.self), named: "large-heatmap.svg")
        try assertPNGSnapshot(renderer.render(scene, format: .png, figureID: "snap"), named: "large-heatmap.png")
    }
}
