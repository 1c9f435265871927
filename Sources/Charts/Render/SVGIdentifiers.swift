/// Rewrites the ids inside one SVG document so that they are unique per figure and independent
/// of Cairo's process-wide counters.
///
/// Cairo names glyphs `glyph0-1`, clips `clip1`, and groups `surface42`, where the last number comes
/// from a counter shared by the whole process. Every `id="…"` is renamed, in order of first
/// appearance, to `<figureID>-<letters><n>` (n counted per leading-letters kind, from 1), and every
/// reference (`href="#…"`, `url(#…)`) follows. The same scene thus gives the same bytes in any
/// process, and two figures with different ids never clash when inlined into one page.
enum SVGIdentifiers {
    static func isValidFigureID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c == "_" }
        func rest(_ c: Unicode.Scalar) -> Bool { letter(c) || (c >= "0" && c <= "9") || c == "-" || c == "." }
        return letter(first) && id.unicodeScalars.allSatisfy(rest)
    }

    static func prefixed(_ svg: String, figureID: String) -> String {
        let bytes = Array(svg.utf8)
        // Pass 1: collect the ids in order and name them.
        var renamed: [String: String] = [:]
        var counters: [String: Int] = [:]
        for token in tokens(in: bytes, after: Array(" id=\"".utf8), until: UInt8(ascii: "\"")) {
            let old = String(decoding: bytes[token], as: UTF8.self)
            guard renamed[old] == nil else { continue }
            let kind = String(old.prefix { $0.isLetter })
            let n = (counters[kind] ?? 0) + 1
            counters[kind] = n
            renamed[old] = "\(figureID)-\(kind.isEmpty ? "id" : kind)\(n)"
        }
        // Pass 2: replace definitions and references.
        let patterns: [([UInt8], UInt8)] = [
            (Array(" id=\"".utf8), UInt8(ascii: "\"")),
            (Array("href=\"#".utf8), UInt8(ascii: "\"")),
            (Array("url(#".utf8), UInt8(ascii: ")")),
        ]
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + renamed.count * (figureID.utf8.count + 2) * 3)
        var i = 0
        outer: while i < bytes.count {
            for (opener, closer) in patterns where matches(bytes, at: i, opener) {
                let start = i + opener.count
                var end = start
                while end < bytes.count && bytes[end] != closer { end += 1 }
                let old = String(decoding: bytes[start..<end], as: UTF8.self)
                output += opener
                output += Array((renamed[old] ?? old).utf8)
                i = end
                continue outer
            }
            output.append(bytes[i])
            i += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Inserts `<title>` right after the opening `<svg …>` tag.
    static func insertingTitle(_ title: String, into svg: String) -> String {
        guard let svgStart = svg.range(of: "<svg"), let close = svg[svgStart.upperBound...].firstIndex(of: ">") else { return svg }
        let after = svg.index(after: close)
        return String(svg[..<after]) + "\n<title>" + escapeXML(title) + "</title>" + String(svg[after...])
    }

    /// `text` as XML character data: `&`, `<`, `>` and `"` as entities; the characters XML 1.0
    /// forbids (C0 controls other than tab and line feed, U+FFFE, U+FFFF) dropped, so the file
    /// stays well-formed whatever a module or task name holds.
    static func escapeXML(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                if c.value < 0x20 && c != "\n" && c != "\t" { continue }
                if c.value == 0xFFFE || c.value == 0xFFFF { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func matches(_ bytes: [UInt8], at i: Int, _ pattern: [UInt8]) -> Bool {
        guard i + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[i + k] != pattern[k] { return false }
        return true
    }

    private static func tokens(in bytes: [UInt8], after opener: [UInt8], until closer: UInt8) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = 0
        while i < bytes.count {
            if matches(bytes, at: i, opener) {
                let start = i + opener.count
                var end = start
                while end < bytes.count && bytes[end] != closer { end += 1 }
                result.append(start..<end)
                i = end
            } else {
                i += 1
            }
        }
        return result
    }
}
