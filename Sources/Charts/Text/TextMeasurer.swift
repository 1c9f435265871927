import CCairo
import CPango
import Foundation

/// The logical box of a laid-out text, in points.
public struct TextMetrics: Hashable, Sendable {
    public var width: Double
    public var height: Double
    /// From the top of the box down to the first line's baseline.
    public var baseline: Double

    public init(width: Double, height: Double, baseline: Double) {
        self.width = width
        self.height = height
        self.baseline = baseline
    }
}

/// Measures text with Pango exactly as the renderer will draw it. Every chart builder lays out
/// with these numbers, once, and the same scene is then drawn to every format.
///
/// Thread-safe: calls are serialised by a lock, and results are cached by (text, style).
public final class TextMeasurer: @unchecked Sendable {
    /// The measurer chart builders use by default.
    public static let shared = TextMeasurer()

    private let lock = NSLock()
    private let surface: OpaquePointer
    private let cr: OpaquePointer
    private var cache: [Key: TextMetrics] = [:]
    private var lineCache: [LineKey: [TextLine]] = [:]

    private struct LineKey: Hashable {
        let text: String
        let style: TextStyle
        let alignment: HorizontalAnchor
    }

    private struct Key: Hashable {
        let text: String
        let style: TextStyle
    }

    public init() {
        surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)
        cr = cairo_create(surface)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// The logical box of `text` in `style`. The empty string has zero width and one line's height.
    public func measure(_ text: String, style: TextStyle) -> TextMetrics {
        let key = Key(text: text, style: style)
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[key] { return known }
        let layout = PangoText.makeLayout(for: cr, text: text, style: style, alignment: .start)
        let metrics = PangoText.metrics(of: layout)
        g_object_unref(UnsafeMutableRawPointer(layout))
        cache[key] = metrics
        return metrics
    }

    /// The lines of `text` laid out exactly as the renderer draws it with `alignment` (the mark's
    /// horizontal anchor): for writers that place each line themselves (the SVG writer).
    func lines(_ text: String, style: TextStyle, alignment: HorizontalAnchor) -> [TextLine] {
        let key = LineKey(text: text, style: style, alignment: alignment)
        lock.lock()
        defer { lock.unlock() }
        if let known = lineCache[key] { return known }
        let layout = PangoText.makeLayout(for: cr, text: text, style: style, alignment: alignment)
        let lines = PangoText.lines(of: layout)
        g_object_unref(UnsafeMutableRawPointer(layout))
        lineCache[key] = lines
        return lines
    }

    /// The page-space box of a text mark (rotation included).
    public func bounds(of mark: TextMark) -> Rect {
        mark.bounds(for: measure(mark.text, style: mark.style))
    }

    /// `text` itself when it is at most `maxWidth` points wide, otherwise its longest prefix of whole
    /// characters (grapheme clusters) followed by "…" that fits; "…" alone when nothing fits.
    public func truncate(_ text: String, style: TextStyle, maxWidth: Double) -> String {
        if measure(text, style: style).width <= maxWidth { return text }
        let characters = Array(text)
        var low = 0, high = characters.count  // the fitting prefix length lies in low..<high
        while high - low > 1 {
            let mid = (low + high) / 2
            let candidate = String(characters[..<mid]).trimmingCharacters(in: .whitespaces) + "…"
            if measure(candidate, style: style).width <= maxWidth { low = mid } else { high = mid }
        }
        return String(characters[..<low]).trimmingCharacters(in: .whitespaces) + "…"
    }

    /// The largest size, in steps of 0.25 pt between `minimum` and `style.size`, at which `text`
    /// fits in `maxWidth` × `maxHeight`; nil when even `minimum` does not fit.
    public func fittingSize(_ text: String, style: TextStyle, maxWidth: Double, maxHeight: Double, minimum: Double) -> Double? {
        var size = style.size
        while size >= minimum - 1e-9 {
            let m = measure(text, style: style.with(size: size))
            if m.width <= maxWidth && m.height <= maxHeight { return size }
            size -= 0.25
        }
        return nil
    }
}
