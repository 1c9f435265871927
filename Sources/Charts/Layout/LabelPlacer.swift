import Foundation

/// Greedy placement of point labels so that they overlap neither each other, nor any point
/// marker, nor other obstacles, and stay inside a bounding rectangle.
///
/// Each label tries positions in a fixed order of preference: right of its point, then the
/// diagonals, left, above and below, all touching the marker; then rings further out (these get a
/// leader line back to the point). The first position free of conflicts wins; when none is free,
/// the one with the least overlap is taken and reported. Labels in crowded areas are placed first.
/// The result is deterministic.
public struct LabelPlacer: Sendable {
    /// A label to place next to its point.
    public struct Request: Hashable, Sendable {
        public var anchor: Point
        public var size: Size
        /// Radius of the point's marker; the label keeps `gap` beyond it.
        public var markerRadius: Double

        public init(anchor: Point, size: Size, markerRadius: Double) {
            self.anchor = anchor
            self.size = size
            self.markerRadius = markerRadius
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

    public init(bounds: Rect, obstacles: [Rect] = [], gap: Double = 1.5) {
        self.bounds = bounds
        self.obstacles = obstacles
        self.gap = gap
    }

    /// One placement per request, in the order of `requests`.
    public func place(_ requests: [Request]) -> [Placement] {
        let markers = requests.map { r in
            Rect(x: r.anchor.x - r.markerRadius, y: r.anchor.y - r.markerRadius,
                 width: 2 * r.markerRadius, height: 2 * r.markerRadius)
        }
        let order = crowdingOrder(requests)
        var placed: [Rect] = []
        var result = [Placement?](repeating: nil, count: requests.count)
        for index in order {
            let request = requests[index]
            var best: (rect: Rect, leader: Bool, conflict: Double, rank: Int)?
            for (rank, candidate) in candidates(for: request).enumerated() {
                let conflict = conflictArea(candidate.rect, markers: markers, placed: placed)
                if conflict == 0 {
                    best = (candidate.rect, candidate.leader, 0, rank)
                    break
                }
                // Prefer less conflict; among near-equal conflicts, the earlier (closer) candidate.
                if best == nil || conflict < best!.conflict - 1e-9 {
                    best = (candidate.rect, candidate.leader, conflict, rank)
                }
            }
            let chosen = best!
            placed.append(chosen.rect)
            result[index] = Placement(rect: chosen.rect, needsLeader: chosen.leader, conflict: chosen.conflict)
        }
        return result.map { $0! }
    }

    /// Area overlapping markers, obstacles and placed labels (each grown by `gap`), plus area outside
    /// the bounds (weighted double).
    private func conflictArea(_ rect: Rect, markers: [Rect], placed: [Rect]) -> Double {
        let grown = rect.insetBy(dx: -gap, dy: -gap)
        var area = 0.0
        for other in markers where grown.intersects(other) { area += grown.overlapArea(with: other) }
        for other in obstacles where grown.intersects(other) { area += grown.overlapArea(with: other) }
        for other in placed where grown.intersects(other) { area += grown.overlapArea(with: other) }
        if !bounds.contains(rect) { area += 2 * (rect.area - rect.overlapArea(with: bounds)) + 1 }
        return area
    }

    private func candidates(for r: Request) -> [(rect: Rect, leader: Bool)] {
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

    /// Indices sorted by how many other points lie nearby (most first), ties by index.
    private func crowdingOrder(_ requests: [Request]) -> [Int] {
        let counts = requests.indices.map { i -> Int in
            let reach = 2.5 * max(requests[i].size.width, requests[i].size.height)
            return requests.indices.filter { j in
                j != i && hypot(requests[j].anchor.x - requests[i].anchor.x, requests[j].anchor.y - requests[i].anchor.y) < reach
            }.count
        }
        return requests.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
    }
}
