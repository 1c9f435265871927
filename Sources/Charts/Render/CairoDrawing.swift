import CCairo
import CPango
import Foundation

/// Turns marks into Cairo calls. Nothing here knows about charts.
enum CairoDrawing {
    static func draw(_ scene: Scene, on cr: OpaquePointer) {
        if let background = scene.background {
            setSource(background, on: cr)
            cairo_rectangle(cr, 0, 0, scene.size.width, scene.size.height)
            cairo_fill(cr)
        }
        for mark in scene.marks { draw(mark, on: cr) }
    }

    static func draw(_ mark: Mark, on cr: OpaquePointer) {
        switch mark {
        case .rect(let rect, let style):
            drawShape(style, on: cr) { cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height) }
        case .path(let path, let style):
            guard !path.isEmpty else { return }
            drawShape(style, on: cr) { addPath(path, to: cr) }
        case .text(let text):
            drawText(text, on: cr)
        case .clipped(let rect, let marks):
            cairo_save(cr)
            cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
            cairo_clip(cr)
            for inner in marks { draw(inner, on: cr) }
            cairo_restore(cr)
        case .titled(_, let marks):
            for inner in marks { draw(inner, on: cr) }
        case .group(let transform, let marks):
            // A zero or non-finite scale would leave Cairo with a singular matrix (an error state).
            guard transform.isDrawable else { return }
            cairo_save(cr)
            cairo_translate(cr, transform.dx, transform.dy)
            cairo_scale(cr, transform.scale, transform.scale)
            for inner in marks { draw(inner, on: cr) }
            cairo_restore(cr)
        case .image(let image, let rect, let interpolation):
            drawImage(image, in: rect, interpolation: interpolation, on: cr)
        }
    }

    /// The bitmap stretched over `rect` through a surface pattern: with NEAREST every pixel stays a
    /// crisp rectangle in a PNG, and Cairo writes the PDF image with `/Interpolate false`.
    private static func drawImage(_ image: RasterImage, in rect: Rect, interpolation: ImageInterpolation, on cr: OpaquePointer) {
        guard rect.x.isFinite, rect.y.isFinite, rect.width.isFinite, rect.height.isFinite,
              rect.width != 0, rect.height != 0, let surface = image.makeSurface() else { return }
        defer { cairo_surface_destroy(surface) }
        let pattern = cairo_pattern_create_for_surface(surface)!
        defer { cairo_pattern_destroy(pattern) }
        cairo_pattern_set_filter(pattern, interpolation == .nearest ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD)
        // In image coordinates (one unit per pixel). EXTEND_NONE (the default): with PAD, Cairo's
        // PDF writer would resample the image to the drawn size instead of embedding its pixels.
        cairo_save(cr)
        cairo_translate(cr, rect.x, rect.y)
        cairo_scale(cr, rect.width / Double(image.width), rect.height / Double(image.height))
        cairo_set_source(cr, pattern)
        cairo_rectangle(cr, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(cr)
        cairo_restore(cr)
    }

    private static func drawShape(_ style: Style, on cr: OpaquePointer, addOutline: () -> Void) {
        if let fill = style.fill {
            addOutline()
            fillCurrentPath(with: fill, on: cr)
        }
        if let stroke = style.stroke, style.lineWidth > 0, style.lineWidth.isFinite {
            addOutline()
            setSource(stroke, on: cr)
            applyLine(width: style.lineWidth, dash: style.dash, cap: style.lineCap, join: style.lineJoin, on: cr)
            cairo_stroke(cr)
        }
    }

    /// Fills and consumes the current path.
    private static func fillCurrentPath(with paint: Paint, on cr: OpaquePointer) {
        switch paint {
        case .color(let color):
            setSource(color, on: cr)
            cairo_fill(cr)
        case .linearGradient(let start, let end, let stops):
            let pattern = cairo_pattern_create_linear(start.x, start.y, end.x, end.y)!
            for stop in stops {
                let c = stop.color
                cairo_pattern_add_color_stop_rgba(pattern, min(max(stop.offset, 0), 1), c.red, c.green, c.blue, c.alpha)
            }
            cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
            cairo_set_source(cr, pattern)
            cairo_fill(cr)
            cairo_pattern_destroy(pattern)
        case .hatch(let background, let line, let spacing, let lineWidth):
            var x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0
            cairo_fill_extents(cr, &x0, &y0, &x1, &y1)
            cairo_save(cr)
            setSource(background, on: cr)
            cairo_fill_preserve(cr)
            cairo_clip(cr)
            let step = max(spacing, 0.5)
            // Lines x − y = c rising to the right (y grows downwards), spaced `step` apart
            // horizontally and anchored to multiples of `step` so that neighbours line up.
            let span = (x1 - x0) + (y1 - y0)
            var c = ((x0 - y1) / step).rounded(.down) * step
            let last = x1 - y0 + step
            var guardCount = 0
            while c <= last && guardCount < 10_000 && span > 0 {
                cairo_move_to(cr, y1 + c, y1)
                cairo_line_to(cr, y0 + c, y0)
                c += step
                guardCount += 1
            }
            setSource(line, on: cr)
            applyLine(width: lineWidth, dash: [], cap: .butt, join: .miter, on: cr)
            cairo_stroke(cr)
            cairo_restore(cr)
        }
    }

    private static func addPath(_ path: Path, to cr: OpaquePointer) {
        for element in path.elements {
            switch element {
            case .move(let p): cairo_move_to(cr, p.x, p.y)
            case .line(let p): cairo_line_to(cr, p.x, p.y)
            case .curve(let a, let b, let p): cairo_curve_to(cr, a.x, a.y, b.x, b.y, p.x, p.y)
            case .close: cairo_close_path(cr)
            }
        }
    }

    private static func applyLine(width: Double, dash: [Double], cap: LineCap, join: LineJoin, on cr: OpaquePointer) {
        cairo_set_line_width(cr, width)
        let usable = dash.filter { $0.isFinite && $0 >= 0 }
        if usable.isEmpty || usable.allSatisfy({ $0 == 0 }) {
            cairo_set_dash(cr, nil, 0, 0)
        } else {
            usable.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
        }
        switch cap {
        case .butt: cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        case .round: cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
        case .square: cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE)
        }
        switch join {
        case .miter: cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER)
        case .round: cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        case .bevel: cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL)
        }
    }

    private static func setSource(_ color: Color, on cr: OpaquePointer) {
        if color.alpha >= 1 {
            cairo_set_source_rgb(cr, color.red, color.green, color.blue)
        } else {
            cairo_set_source_rgba(cr, color.red, color.green, color.blue, color.alpha)
        }
    }

    private static func drawText(_ mark: TextMark, on cr: OpaquePointer) {
        guard !mark.text.isEmpty, mark.style.size > 0, mark.style.size.isFinite,
              mark.position.x.isFinite, mark.position.y.isFinite else { return }
        cairo_save(cr)
        cairo_translate(cr, mark.position.x, mark.position.y)
        if mark.rotation != 0 && mark.rotation.isFinite {
            cairo_rotate(cr, -mark.rotation * Double.pi / 180)
        }
        let layout = PangoText.makeLayout(for: cr, text: mark.text, style: mark.style, alignment: mark.horizontal)
        let offset = mark.boxOffset(for: PangoText.metrics(of: layout))
        cairo_move_to(cr, offset.x, offset.y)
        setSource(mark.style.color, on: cr)
        pango_cairo_show_layout(cr, layout)
        g_object_unref(UnsafeMutableRawPointer(layout))
        cairo_restore(cr)
    }
}
