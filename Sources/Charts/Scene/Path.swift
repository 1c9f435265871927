import Foundation

/// A vector outline made of straight and cubic Bézier segments, in points.
public struct Path: Hashable, Sendable {
    public enum Element: Hashable, Sendable {
        case move(Point)
        case line(Point)
        /// A cubic Bézier to `to`, with control points `control1` and `control2`.
        case curve(control1: Point, control2: Point, to: Point)
        case close
    }

    public var elements: [Element]

    public init(_ elements: [Element] = []) {
        self.elements = elements
    }

    public var isEmpty: Bool { elements.isEmpty }

    public mutating func move(to p: Point) { elements.append(.move(p)) }
    public mutating func line(to p: Point) { elements.append(.line(p)) }
    public mutating func curve(to p: Point, control1: Point, control2: Point) {
        elements.append(.curve(control1: control1, control2: control2, to: p))
    }
    public mutating func close() { elements.append(.close) }

    /// Appends every element of `other`.
    public mutating func append(_ other: Path) { elements += other.elements }

    /// A straight segment.
    public static func line(from a: Point, to b: Point) -> Path {
        Path([.move(a), .line(b)])
    }

    /// An open polyline through `points`; empty for no points.
    public static func polyline(_ points: [Point]) -> Path {
        guard let first = points.first else { return Path() }
        return Path([.move(first)] + points.dropFirst().map { .line($0) })
    }

    /// A closed polygon through `points`; empty for fewer than 3 points.
    public static func polygon(_ points: [Point]) -> Path {
        guard points.count >= 3 else { return Path() }
        var path = polyline(points)
        path.close()
        return path
    }

    public static func rect(_ r: Rect) -> Path {
        polygon([
            Point(x: r.minX, y: r.minY), Point(x: r.maxX, y: r.minY),
            Point(x: r.maxX, y: r.maxY), Point(x: r.minX, y: r.maxY),
        ])
    }

    /// A circle drawn as four Bézier quarter arcs.
    public static func circle(center c: Point, radius r: Double) -> Path {
        let k = 0.5522847498307936 * r
        var p = Path()
        p.move(to: Point(x: c.x + r, y: c.y))
        p.curve(to: Point(x: c.x, y: c.y + r), control1: Point(x: c.x + r, y: c.y + k), control2: Point(x: c.x + k, y: c.y + r))
        p.curve(to: Point(x: c.x - r, y: c.y), control1: Point(x: c.x - k, y: c.y + r), control2: Point(x: c.x - r, y: c.y + k))
        p.curve(to: Point(x: c.x, y: c.y - r), control1: Point(x: c.x - r, y: c.y - k), control2: Point(x: c.x - k, y: c.y - r))
        p.curve(to: Point(x: c.x + r, y: c.y), control1: Point(x: c.x + k, y: c.y - r), control2: Point(x: c.x + r, y: c.y - k))
        p.close()
        return p
    }

    /// The bounding box of every point and control point; nil for an empty path.
    public var bounds: Rect? {
        var points: [Point] = []
        for element in elements {
            switch element {
            case .move(let p), .line(let p): points.append(p)
            case .curve(let a, let b, let p): points += [a, b, p]
            case .close: break
            }
        }
        return Rect(enclosing: points)
    }
}

/// Marker shapes for points; each fits a circle of the given radius.
public enum MarkerShape: String, CaseIterable, Hashable, Sendable {
    case circle, square, triangle, diamond, invertedTriangle

    /// The outline of the marker centred at `center` (radius in points).
    public func path(center c: Point, radius r: Double) -> Path {
        switch self {
        case .circle:
            return .circle(center: c, radius: r)
        case .square:
            let s = r * 0.86
            return .rect(Rect(x: c.x - s, y: c.y - s, width: 2 * s, height: 2 * s))
        case .triangle:
            let h = r * 1.1
            return .polygon([Point(x: c.x, y: c.y - h), Point(x: c.x + h * 0.95, y: c.y + h * 0.65), Point(x: c.x - h * 0.95, y: c.y + h * 0.65)])
        case .invertedTriangle:
            let h = r * 1.1
            return .polygon([Point(x: c.x, y: c.y + h), Point(x: c.x + h * 0.95, y: c.y - h * 0.65), Point(x: c.x - h * 0.95, y: c.y - h * 0.65)])
        case .diamond:
            let h = r * 1.2
            return .polygon([Point(x: c.x, y: c.y - h), Point(x: c.x + h * 0.8, y: c.y), Point(x: c.x, y: c.y + h), Point(x: c.x - h * 0.8, y: c.y)])
        }
    }
}
