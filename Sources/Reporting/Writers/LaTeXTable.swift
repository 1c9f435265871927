import Charts

/// A `TableData` as a booktabs `tabular`, ready to `\input` inside the user's own `table`
/// environment (title and caption are written as comments above it).
///
/// Every cell and header is escaped: TeX's special characters become text (`\input{x}` prints as
/// text and runs nothing), and the symbols tvgeo itself writes (ρ, δ, —, −, ·, …) become LaTeX
/// commands so that pdflatex compiles the tables of ASCII task names; other non-ASCII text is kept
/// as UTF-8 (compile with LuaLaTeX or XeLaTeX for, e.g., CJK task names). A line break or tab becomes
/// a space; other control characters (TeX refuses them) and noncharacters (U+FFFE, …) are dropped. The first cell of a line
/// never starts with `[` or `*`: after `\\` or `\midrule` LaTeX would read them as an optional
/// argument or a star (a task `[0pt]` would vanish, `[x]` would stop pdflatex), so `{}` goes first.
///
/// Headers named in `mathHeaders` (metric ids) print as math symbols (`$d_{G,B}$`), and in the
/// cells a hyphen starting a number ("-0.22", "[-0.48, 0.05]") prints as a minus sign.
public enum LaTeXTable {
    /// `mathHeaders` maps a header text to LaTeX math without `$` (written as is, so it must come
    /// from tvgeo, never from the inputs); a header that is a key, or ends in " · " and a key,
    /// shows the math in place of the key. Other header text is escaped.
    public static func text(_ table: TableData, mathHeaders: [String: String] = [:]) -> String {
        var lines: [String] = []
        if let title = table.title { lines.append("% " + comment(title)) }
        if let caption = table.caption { lines.append("% " + comment(caption)) }
        lines.append("% Requires \\usepackage{booktabs}. Written by tvgeo.")
        let columns = (0..<table.columnCount).map { column -> String in
            switch table.alignment(ofColumn: column) {
            case .leading: return "l"
            case .center: return "c"
            case .trailing: return "r"
            }
        }
        lines.append("\\begin{tabular}{l\(columns.joined())}")
        lines.append("\\toprule")
        let header = [table.cornerHeader] + (0..<table.columnCount).map { $0 < table.columnHeaders.count ? table.columnHeaders[$0] : "" }
        func headerText(_ text: String) -> String { Self.header(text, mathHeaders: mathHeaders) }
        lines.append(lineStart(header.map(headerText)).joined(separator: " & ") + " \\\\")
        lines.append("\\midrule")
        for row in table.rows {
            let cells = (0..<table.columnCount).map { index -> String in
                guard index < row.cells.count else { return "" }
                let cell = row.cells[index]
                var text = numericMinus(escape(cell.text))
                if cell.emphasis.contains(.bold) { text = "\\textbf{\(text)}" }
                if cell.emphasis.contains(.italic) { text = "\\textit{\(text)}" }
                return text
            }
            lines.append(lineStart([headerText(row.header)] + cells).joined(separator: " & ") + " \\\\")
        }
        lines.append("\\bottomrule")
        lines.append("\\end{tabular}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A header cell: the math of `mathHeaders[text]` in `$…$`, or the escaped prefix, a centred
    /// dot and the math when `text` ends in " · " and a key; otherwise `escape(text)`.
    static func header(_ text: String, mathHeaders: [String: String]) -> String {
        if let math = mathHeaders[text] { return "$" + math + "$" }
        if let dot = text.range(of: " · ", options: .backwards), let math = mathHeaders[String(text[dot.upperBound...])] {
            return escape(String(text[..<dot.lowerBound])) + " \\ensuremath{\\cdot} $" + math + "$"
        }
        return escape(text)
    }

    /// Escaped cell text with each hyphen that starts a number (a digit or ".digit" follows, and
    /// no letter, digit or `\` comes before) as a math minus `$-$`: "-0.22" and "[-0.48, 0.05]"
    /// but not "run-1" or "--".
    static func numericMinus(_ escaped: String) -> String {
        guard escaped.utf8.contains(UInt8(ascii: "-")) else { return escaped }
        if escaped.utf8.allSatisfy({ $0 < 0x80 }) { return asciiNumericMinus(escaped) }
        let characters = Array(escaped)
        var out = ""
        for (i, c) in characters.enumerated() {
            guard c == "-" else { out.append(c); continue }
            let before = i > 0 ? characters[i - 1] : nil
            let next = i + 1 < characters.count ? characters[i + 1] : nil
            let afterNext = i + 2 < characters.count ? characters[i + 2] : nil
            let startsNumber = next?.isASCIIDigit == true || (next == "." && afterNext?.isASCIIDigit == true)
            let standsAlone = before.map { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "\\" || $0 == "}") } ?? true
            out += startsNumber && standsAlone ? "$-$" : "-"
        }
        return out
    }

    /// `numericMinus` of ASCII text, on its bytes (the same rule; an ASCII letter or digit is what
    /// `isLetter`/`isNumber` accept there).
    private static func asciiNumericMinus(_ escaped: String) -> String {
        let bytes = Array(escaped.utf8)
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { (0x30...0x39).contains($0) } ?? false }
        func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for (i, byte) in bytes.enumerated() {
            guard byte == UInt8(ascii: "-") else { out.append(byte); continue }
            let next = i + 1 < bytes.count ? bytes[i + 1] : nil
            let afterNext = i + 2 < bytes.count ? bytes[i + 2] : nil
            let startsNumber = isDigit(next) || (next == UInt8(ascii: ".") && isDigit(afterNext))
            let standsAlone = i == 0 || !(isAlphanumeric(bytes[i - 1]) || "-\\}".utf8.contains(bytes[i - 1]))
            if startsNumber && standsAlone { out += Array("$-$".utf8) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Text that LaTeX prints as written: its special characters as commands, a line break or tab
    /// as a space, other control characters (C0, DEL, C1) and noncharacters dropped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            // ASCII (every number and most names; "\r\n" is one Character with the value of "\n"):
            // a table lookup, no Unicode property query (tables of hundreds of tasks call this per cell).
            if let ascii = character.asciiValue {
                switch ascii {
                case 0x20...0x7E:
                    if let replacement = asciiReplacements[Int(ascii) - 0x20] { out += replacement } else { out.append(character) }
                case 0x09...0x0D: out += " "   // tab, and the newlines LF, VT, FF, CR
                default: break                  // other C0 controls and DEL: dropped
                }
                continue
            }
            if let replacement = replacements[character] {
                out += replacement
            } else if character.isNewline || character == "\t" {
                out += " "
            } else if !isDropped(character) {
                out.append(character)
            }
        }
        return out
    }

    /// The escaped cells of one line of the tabular, the first made safe to follow `\\` or
    /// `\midrule`: `{}` in front when, after spaces, it starts with `[` or `*`.
    static func lineStart(_ cells: [String]) -> [String] {
        guard let first = cells.first, let lead = first.first(where: { $0 != " " }), lead == "[" || lead == "*" else { return cells }
        return ["{}" + first] + cells.dropFirst()
    }

    /// A comment line: no line break can end the comment early; what `escape` drops is dropped.
    static func comment(_ text: String) -> String {
        String(text.compactMap { $0.isNewline || $0 == "\t" ? " " : isDropped($0) ? nil : $0 })
    }

    /// A control character (general category Cc; TeX stops at most of them) or a noncharacter
    /// (U+FFFE, U+FFFF, U+FDD0…U+FDEF, the last two of each plane), which no text holds.
    private static func isDropped(_ character: Character) -> Bool {
        character.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control || $0.properties.isNoncharacterCodePoint }
    }

    /// `replacements` of the printable ASCII characters U+0020…U+007E, indexed by value − 0x20.
    private static let asciiReplacements: [String?] = (0x20...0x7E).map { replacements[Character(Unicode.Scalar(UInt8($0)))] }

    private static let replacements: [Character: String] = [
        "\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&", "#": "\\#", "_": "\\_",
        "%": "\\%", "^": "\\textasciicircum{}", "~": "\\textasciitilde{}", "<": "\\textless{}", ">": "\\textgreater{}",
        "|": "\\textbar{}", "\"": "\\textquotedbl{}",
        "—": "---", "–": "--", "−": "\\ensuremath{-}", "·": "\\ensuremath{\\cdot}", "×": "\\ensuremath{\\times}",
        "±": "\\ensuremath{\\pm}", "≤": "\\ensuremath{\\le}", "≥": "\\ensuremath{\\ge}", "‖": "\\ensuremath{\\|}",
        "ρ": "\\ensuremath{\\rho}", "δ": "\\ensuremath{\\delta}", "θ": "\\ensuremath{\\theta}", "τ": "\\ensuremath{\\tau}",
        "Δ": "\\ensuremath{\\Delta}", "α": "\\ensuremath{\\alpha}", "σ": "\\ensuremath{\\sigma}", "…": "\\ldots{}",
        "\u{00A0}": "~",
    ]
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
