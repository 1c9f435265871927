import Foundation

/// Putting rendered SVG figures into HTML pages.
public enum SVGEmbedding {
    /// The `<svg>` element of an SVG file from `CairoRenderer`, without the XML declaration, ready to
    /// inline into an HTML5 page. Its ids already carry the figure id given to the renderer, so
    /// figures rendered with different ids can share one page.
    public static func inlineMarkup(_ svg: Data) -> String {
        // Works on the bytes: a Foundation string trim of a large SVG costs more than the rendering.
        let bytes = [UInt8](svg)
        var start = 0
        if bytes.starts(with: Array("<?xml".utf8)) {
            var i = 5
            while i + 1 < bytes.count && !(bytes[i] == UInt8(ascii: "?") && bytes[i + 1] == UInt8(ascii: ">")) { i += 1 }
            start = min(i + 2, bytes.count)
        }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        while start < bytes.count && isSpace(bytes[start]) { start += 1 }
        var end = bytes.count
        while end > start && isSpace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
