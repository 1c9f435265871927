import Foundation

/// Greedy placement of point labels so that they overlap neither each other, nor any point
/// marker, nor other obstacles, and stay inside a bounding rectangle.
///
/// Each label tries positions in a fixed order of preference: right of its point, then the
/// diagonals, left, above and below, all touching the marker; then rings further out (these get a
/// leader line back to the point). The first position free of conflicts wins; when none is free,
/// the one with the least overlap is taken and reported. Labels in crowded areas are placed first.
/// The result is deterministic.
///
/// With `omitsUnplaceable` (many points), a label that has no free position next to its point is
/// left out (nil) instead of overlapping; labels are then placed from the least crowded point on,
/// which labels the most points, and only `required` labels may use the rings and overlap. Required
/// labels (highlighted points) are always placed, before the others.
///
/// Cost: the markers and placed labels sit in a uniform grid (cells as large as the largest label),
/// so a candidate is checked against its neighbours only: about O(N · candidates) for N labels
/// spread over the plot, not O(N² · candidates).
public struct LabelPlacer: Sendable {
    /// A label to place next to its point.
    public struct Request: Hashable, Sendable {
        public var anchor: Point
        public var size: Size
        /// Radius of the point's marker; the label keeps `gap` beyond it.
        public var markerRadius: Double
        /// Placed first and always (even overlapping), whatever `omitsUnplaceable` says.
        public var required: Bool

        public init(anchor: Point, size: Size, markerRadius: Double, required: Bool = false) {
            self.anchor = anchor
            self.size = size
            self.markerRadius = markerRadius
            self.required = required
        }
    }

    public struct Placement: Hashable, Sendable {
        /// The label's box.
        public var rect: Rect
        /// True when the label sits away from its point and needs a leader line.
        public var needsLeader: Bool
        /// Area (pt²) still overlapping something or outside the bounds; 0 for a clean placement.
        public var conflict: Double
    }

    public var bounds: Rect
    /// Boxes that labels must avoid besides the markers (legends, other text).
    public var obstacles: [Rect]
    /// Free space kept between a label and anything else, in points.
    public var gap: Double
    /// Leave out labels that cannot be placed cleanly next to their point (see the type's notes).
    public var omitsUnplaceable: Bool

    public init(bounds: Rect, obstacles: [Rect] = [], gap: Double = 1.5, omitsUnplaceable: Bool = false) {
        self.bounds = bounds
        self.obstacles = obstacles
        self.gap = gap
        self.omitsUnplaceable = omitsUnplaceable
    }

    /// One placement per request, in the order of `requests`; every one is non-nil unless
    /// `omitsUnplaceable`.
    public func placeOptional(_ requests: [Request]) -> [Placement?] {
        guard !requests.isEmpty else { return [] }
        let markers = requests.map { r in
            Rect(x: r.anchor.x - r.markerRadius, y: r.anchor.y - r.markerRadius,
                 width: 2 * r.markerRadius, height: 2 * r.markerRadius)
        }
        let largest = requests.map { max($0.size.width, $0.size.height) + 2 * ($0.markerRadius + gap) }.max() ?? 1
        var index = RectGrid(origin: Point(x: bounds.minX, y: bounds.minY), cell: max(largest, 4))
        for (i, marker) in markers.enumerated() { index.insert(marker, id: i) }
        var placedRects: [Rect] = []
        var result = [Placement?](repeating: nil, count: requests.count)
        for i in order(requests) {
            let request = requests[i]
            let adjacentOnly = omitsUnplaceable && !request.required
            var best: (rect: Rect, leader: Bool, conflict: Double)?
            for candidate in candidates(for: request, adjacentOnly: adjacentOnly) {
                let conflict = conflictArea(candidate.rect, markers: markers, placed: placedRects, index: index)
                if conflict == 0 {
                    best = (candidate.rect, candidate.leader, 0)
                    break
                }
                // Prefer less conflict; among near-equal conflicts, the earlier (closer) candidate.
                if best == nil || conflict < best!.conflict - 1e-9 {
                    best = (candidate.rect, candidate.leader, conflict)
                }
            }
            guard let chosen = best, chosen.conflict == 0 || !adjacentOnly else { continue }
            // Placed labels get ids after the markers' so both live in one grid.
            index.insert(chosen.rect, id: markers.count + placedRects.count)
            placedRects.append(chosen.rect)
            result[i] = Placement(rect: chosen.rect, needsLeader: chosen.leader, conflict: chosen.conflict)
        }
        return result
    }

    /// One placement per request, in the order of `requests` (every label placed, `omitsUnplaceable` ignored).
    public func place(_ requests: [Request]) -> [Placement] {
        var placer = self
        placer.omitsUnplaceable = false
        return placer.placeOptional(requests).map { $0! }
    }

    /// Area overlapping markers, obstacles and placed labels (each grown by `gap`), plus area outside
    /// the bounds (weighted double). Neighbours are summed in id order (markers, then labels in the
    /// order placed), so the sum does not depend on the grid.
    private func conflictArea(_ rect: Rect, markers: [Rect], placed: [Rect], index: RectGrid) -> Double {
        let grown = rect.insetBy(dx: -gap, dy: -gap)
        var area = 0.0
        let near = index.ids(near: grown)
        var k = 0
        while k < near.count && near[k] < markers.count {
            let other = markers[near[k]]
            if grown.intersects(other) { area += grown.overlapArea(with: other) }
            k += 1
        }
        for other in obstacles where grown.intersects(other) { area += grown.overlapArea(with: other) }
        while k < near.count {
            let other = placed[near[k] - markers.count]
            if grown.intersects(other) { area += grown.overlapArea(with: other) }
            k += 1
        }
        if !bounds.contains(rect) { area += 2 * (rect.area - rect.overlapArea(with: bounds)) + 1 }
        return area
    }

    private func candidates(for r: Request, adjacentOnly: Bool) -> [(rect: Rect, leader: Bool)] {
        let w = r.size.width, h = r.size.height
        let a = r.anchor
        let d = r.markerRadius + gap
        let diagonal = d * 0.75
        var list: [(Rect, Bool)] = [
            (Rect(x: a.x + d, y: a.y - h / 2, width: w, height: h), false),                 // right
            (Rect(x: a.x + diagonal, y: a.y - diagonal - h, width: w, height: h), false),   // upper right
            (Rect(x: a.x + diagonal, y: a.y + diagonal, width: w, height: h), false),       // lower right
            (Rect(x: a.x - d - w, y: a.y - h / 2, width: w, height: h), false),             // left
            (Rect(x: a.x - diagonal - w, y: a.y - diagonal - h, width: w, height: h), false), // upper left
            (Rect(x: a.x - diagonal - w, y: a.y + diagonal, width: w, height: h), false),   // lower left
            (Rect(x: a.x - w / 2, y: a.y - d - h, width: w, height: h), false),             // above
            (Rect(x: a.x - w / 2, y: a.y + d, width: w, height: h), false),                 // below
        ]
        guard !adjacentOnly else { return list }
        // Rings further out, 16 directions each, starting to the right and turning anticlockwise.
        for ring in 1...4 {
            let distance = d + Double(ring) * max(h, 6)
            for k in 0..<16 {
                let angle = Double(k) * Double.pi / 8
                let ux = cos(angle), uy = -sin(angle)
                let cx = a.x + ux * distance + ux * w / 2
                let cy = a.y + uy * distance + uy * h / 2
                list.append((Rect(x: cx - w / 2, y: cy - h / 2, width: w, height: h), true))
            }
        }
        return list
    }

    /// Required labels first; then by how many other points lie nearby, most first (least first
    /// with `omitsUnplaceable`), ties by index.
    private func order(_ requests: [Request]) -> [Int] {
        let reaches = requests.map { 2.5 * max($0.size.width, $0.size.height) }
        var grid = RectGrid(origin: Point(x: bounds.minX, y: bounds.minY), cell: max(reaches.max() ?? 1, 1))
        for (i, r) in requests.enumerated() { grid.insert(Rect(x: r.anchor.x, y: r.anchor.y, width: 0, height: 0), id: i) }
        let counts = requests.indices.map { i -> Int in
            let a = requests[i].anchor, reach = reaches[i]
            let box = Rect(x: a.x - reach, y: a.y - reach, width: 2 * reach, height: 2 * reach)
            return grid.ids(near: box).filter { j in
                j != i && hypot(requests[j].anchor.x - a.x, requests[j].anchor.y - a.y) < reach
            }.count
        }
        let leastFirst = omitsUnplaceable
        return requests.indices.sorted { i, j in
            if requests[i].required != requests[j].required { return requests[i].required }
            if counts[i] != counts[j] { return leastFirst ? counts[i] < counts[j] : counts[i] > counts[j] }
            return i < j
        }
    }
}

/// Rectangles bucketed in square cells, to find the ones near a box without scanning all.
struct RectGrid {
    let origin: Point
    let cell: Double
    private var buckets: [Int64: [Int]] = [:]

    init(origin: Point, cell: Double) {
        self.origin = origin
        self.cell = cell
    }

    private func cellRange(_ rect: Rect) -> (ClosedRange<Int>, ClosedRange<Int>)? {
        guard rect.minX.isFinite, rect.minY.isFinite, rect.maxX.isFinite, rect.maxY.isFinite else { return nil }
        func c(_ v: Double, _ o: Double) -> Int { Int(max(min(((v - o) / cell).rounded(.down), 1e6), -1e6)) }
        return (c(rect.minX, origin.x)...c(rect.maxX, origin.x), c(rect.minY, origin.y)...c(rect.maxY, origin.y))
    }

    private static func key(_ x: Int, _ y: Int) -> Int64 { Int64(x) << 32 ^ Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: y))) }

    mutating func insert(_ rect: Rect, id: Int) {
        guard let (xs, ys) = cellRange(rect) else { return }
        for x in xs { for y in ys { buckets[Self.key(x, y), default: []].append(id) } }
    }

    /// Ids of the rectangles sharing a cell with `rect`, ascending, without repeats.
    func ids(near rect: Rect) -> [Int] {
        guard let (xs, ys) = cellRange(rect) else { return [] }
        var found: [Int] = []
        for x in xs { for y in ys { found += buckets[Self.key(x, y)] ?? [] } }
        found.sort()
        var unique: [Int] = []
        unique.reserveCapacity(found.count)
        for id in found where unique.last != id { unique.append(id) }
        return unique
    }
}
