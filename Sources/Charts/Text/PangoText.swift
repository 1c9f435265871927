import CCairo
import Foundation
import CPango

/// The one place where a Pango layout is configured, so that measuring (for layout) and drawing
/// (in every output format) shape text identically.
///
/// Hinting is off, metric hinting is off and glyph positions are not rounded: advances are then
/// independent of the device (vector page or 2× bitmap) and of rotation, and one measurement
/// holds for SVG, PDF and PNG alike.
enum PangoText {
    /// A new layout for `cr`, holding `text` in `style`. The caller releases it with `g_object_unref`.
    static func makeLayout(for cr: OpaquePointer, text: String, style: TextStyle, alignment: HorizontalAnchor) -> OpaquePointer {
        let layout = pango_cairo_create_layout(cr)!
        let context = pango_layout_get_context(layout)!

        let options = cairo_font_options_create()!
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        pango_cairo_context_set_font_options(context, options)
        cairo_font_options_destroy(options)
        pango_context_set_round_glyph_positions(context, 0)
        pango_layout_context_changed(layout)

        let description = pango_font_description_new()!
        pango_font_description_set_family(description, style.fontFamily)
        pango_font_description_set_weight(description, style.weight == .bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_font_description_set_style(description, style.italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL)
        // Absolute size: user-space units are points, whatever the context's resolution.
        pango_font_description_set_absolute_size(description, style.size * Double(PANGO_SCALE))
        pango_layout_set_font_description(layout, description)
        pango_font_description_free(description)

        switch alignment {
        case .start: pango_layout_set_alignment(layout, PANGO_ALIGN_LEFT)
        case .middle: pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER)
        case .end: pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT)
        }
        pango_layout_set_text(layout, cairoText(text), -1)
        return layout
    }

    /// `text` as Cairo accepts it: without noncharacters (U+FFFE, U+FFFF, U+FDD0…U+FDEF, the last
    /// two of each plane), which Cairo's UTF-8 check refuses in PDF text and metadata (the whole
    /// PDF would fail), and without NUL, which would end the C string early.
    static func cairoText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.isNoncharacterCodePoint || $0 == "\0" }) else { return text }
        var out = ""
        out.unicodeScalars.append(contentsOf: text.unicodeScalars.filter { !$0.properties.isNoncharacterCodePoint && $0 != "\0" })
        return out
    }

    /// The logical size and first baseline of a configured layout, in points.
    static func metrics(of layout: OpaquePointer) -> TextMetrics {
        var logical = PangoRectangle()
        pango_layout_get_extents(layout, nil, &logical)
        let scale = Double(PANGO_SCALE)
        return TextMetrics(
            width: Double(logical.width) / scale,
            height: Double(logical.height) / scale,
            baseline: Double(pango_layout_get_baseline(layout)) / scale)
    }

    /// Each line of a configured layout, in order: its text (from the layout's own copy, so
    /// `cairoText` filtering and Pango's paragraph breaks are taken into account), its logical left
    /// edge and width, and its baseline from the top of the layout, in points.
    static func lines(of layout: OpaquePointer) -> [TextLine] {
        guard let textPointer = pango_layout_get_text(layout) else { return [] }
        let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(textPointer).assumingMemoryBound(to: UInt8.self),
                                              count: strlen(textPointer)))
        let scale = Double(PANGO_SCALE)
        var result: [TextLine] = []
        let iter = pango_layout_get_iter(layout)!
        defer { pango_layout_iter_free(iter) }
        repeat {
            var logical = PangoRectangle()
            pango_layout_iter_get_line_extents(iter, nil, &logical)
            let baseline = Double(pango_layout_iter_get_baseline(iter)) / scale
            var text = ""
            if let line = pango_layout_iter_get_line_readonly(iter) {
                let start = min(max(Int(line.pointee.start_index), 0), bytes.count)
                let end = min(max(start + Int(line.pointee.length), start), bytes.count)
                text = String(decoding: bytes[start..<end], as: UTF8.self)
            }
            result.append(TextLine(text: text, x: Double(logical.x) / scale, width: Double(logical.width) / scale, baseline: baseline))
        } while pango_layout_iter_next_line(iter) != 0
        return result
    }
}

/// One laid-out line of a text, in points relative to the top-left corner of the layout.
struct TextLine: Hashable, Sendable {
    var text: String
    /// The logical left edge (after alignment within the layout).
    var x: Double
    var width: Double
    /// From the top of the layout down to this line's baseline.
    var baseline: Double
}
