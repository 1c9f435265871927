/// The id scheme and escaping of the SVG that `SVGSceneWriter` writes.
///
/// Every id in a figure is `<figureID>-<kind><n>` (n counted per kind from 1, in order of
/// writing), so the same scene gives the same bytes in any process and two figures with different
/// ids never clash when inlined into one HTML page.
enum SVGIdentifiers {
    static func isValidFigureID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c == "_" }
        func rest(_ c: Unicode.Scalar) -> Bool { letter(c) || (c >= "0" && c <= "9") || c == "-" || c == "." }
        return letter(first) && id.unicodeScalars.allSatisfy(rest)
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
}
