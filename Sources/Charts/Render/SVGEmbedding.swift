import Foundation

/// Putting rendered SVG figures into HTML pages.
public enum SVGEmbedding {
    /// The `<svg>` element of an SVG file from `CairoRenderer`, without the XML declaration, ready to
    /// inline into an HTML5 page. Its ids already carry the figure id given to the renderer, so
    /// figures rendered with different ids can share one page.
    public static func inlineMarkup(_ svg: Data) -> String {
        var text = String(decoding: svg, as: UTF8.self)
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") {
            text = String(text[end.upperBound...])
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
