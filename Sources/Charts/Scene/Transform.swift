/// A translation and a uniform scale: a point p of the inner coordinates lands on the page at
/// (p.x × scale + dx, p.y × scale + dy). Used by `Mark.group` to place one scene inside another.
public struct Transform: Hashable, Sendable {
    /// Page offset of the inner origin, in points.
    public var dx: Double
    public var dy: Double
    /// Factor applied to every inner length (geometry, line widths, font sizes). A scale that is
    /// not finite and positive makes the group draw nothing.
    public var scale: Double

    public init(dx: Double = 0, dy: Double = 0, scale: Double = 1) {
        self.dx = dx
        self.dy = dy
        self.scale = scale
    }

    public static let identity = Transform()

    /// True when the transform can be drawn: every component finite and the scale positive.
    public var isDrawable: Bool { dx.isFinite && dy.isFinite && scale.isFinite && scale > 0 }

    public func apply(_ p: Point) -> Point {
        Point(x: p.x * scale + dx, y: p.y * scale + dy)
    }

    public func apply(_ r: Rect) -> Rect {
        Rect(x: r.x * scale + dx, y: r.y * scale + dy, width: r.width * scale, height: r.height * scale)
    }

    /// `self` applied after `inner`: a point goes through `inner` first.
    public func concatenating(_ inner: Transform) -> Transform {
        Transform(dx: inner.dx * scale + dx, dy: inner.dy * scale + dy, scale: inner.scale * scale)
    }
}

extension TextMark {
    /// The mark as it appears on the page under `transform`: anchor moved and font size scaled.
    /// With hinting off, Pango's boxes scale linearly with the size, so measuring the result gives
    /// the drawn box (to a few thousandths of a point).
    public func transformed(by transform: Transform) -> TextMark {
        var copy = self
        copy.position = transform.apply(position)
        copy.style.size = style.size * transform.scale
        return copy
    }
}

extension Scene {
    /// This scene as one mark placed with its top-left corner at `origin`, uniformly scaled by
    /// `scale` and clipped to its own (scaled) frame; the background, if any, is drawn first.
    /// The text inside keeps the layout it was measured with: the renderer scales the drawing,
    /// it does not lay the text out again at another size.
    public func placed(at origin: Point, scale: Double = 1) -> Mark {
        let transform = Transform(dx: origin.x, dy: origin.y, scale: scale)
        let frame = Rect(x: 0, y: 0, width: size.width, height: size.height)
        var inner: [Mark] = []
        if let background { inner.append(.rect(frame, .fill(background))) }
        inner += marks
        return .clipped(transform.apply(frame), [.group(transform, inner)])
    }
}
