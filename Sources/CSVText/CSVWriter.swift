/// One field of a CSV record, by what it holds: text is made safe for spreadsheets, numbers are
/// written as numbers. Every CSV file tvgeo writes is made of these fields (`CSVWriter`).
public enum CSVField: Sendable, Equatable {
    /// Text: a task, module or file name, a path, a header or a label. Quoted (RFC 4180) when it
    /// holds a comma, a double quote or a line break; prefixed with `'` when it starts with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return, so that a spreadsheet shows it as text instead of
    /// running it as a formula (OWASP's advice against CSV injection).
    case text(String)
    /// A number tvgeo computed, in Swift's shortest exact form (`-0.5`, `1e-05`; `nan` and `inf` for
    /// non-finite values, so pass `.empty` for an undefined value). Never prefixed.
    case number(Double)
    /// An integer (a count). Never prefixed.
    case integer(Int)
    /// A number tvgeo formatted itself (`"-0.25"`, `"8"`, `"1.5e-3"`): written as it is when it is a
    /// plain decimal numeral (an optional `-`, digits, an optional fraction and exponent); any other
    /// text is written as `.text`, so nothing but a number escapes the formula prefix.
    case numeral(String)
    /// No value: an empty field.
    case empty
}

/// Writes CSV text: fields joined by commas, each record ended by "\n", UTF-8 (RFC 4180 quoting,
/// with Unix line ends).
public enum CSVWriter {
    /// The records, each followed by "\n".
    public static func text(_ records: [[CSVField]]) -> String {
        var out = ""
        for fields in records {
            out += record(fields)
            out += "\n"
        }
        return out
    }

    /// One record, without its line end.
    public static func record(_ fields: [CSVField]) -> String {
        fields.map(field).joined(separator: ",")
    }

    /// One field as it appears in the file.
    public static func field(_ field: CSVField) -> String {
        switch field {
        case .text(let text):
            return quoted(startsLikeAFormula(text) ? "'" + text : text)
        case .number(let value):
            return "\(value)"
        case .integer(let value):
            return "\(value)"
        case .numeral(let text):
            return isDecimalNumeral(text) ? text : Self.field(.text(text))
        case .empty:
            return ""
        }
    }

    /// Whether a spreadsheet would read the text as a formula (or strip a leading control
    /// character and then read one): it starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
    public static func startsLikeAFormula(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        return ["=", "+", "-", "@", "\t", "\r"].contains(first)
    }

    /// The text in double quotes, its quotes doubled, when it holds a comma, a double quote or a line
    /// break (CR, LF, or another Unicode line break: VT, FF, NEL, U+2028, U+2029); otherwise as it is.
    static func quoted(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains { scalar in
            switch scalar {
            case ",", "\"", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": return true
            default: return false
            }
        }
        guard needsQuotes else { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { out += "\"\"" } else { out.unicodeScalars.append(scalar) }
        }
        return out + "\""
    }

    /// `-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`, ASCII digits only.
    static func isDecimalNumeral(_ text: String) -> Bool {
        var rest = text.utf8[...]
        func skip(_ byte: Unicode.Scalar) -> Bool {
            guard rest.first == UInt8(ascii: byte) else { return false }
            rest = rest.dropFirst()
            return true
        }
        func digits() -> Bool {
            let count = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            rest = rest.dropFirst(count)
            return count > 0
        }
        _ = skip("-")
        guard digits() else { return false }
        if skip("."), !digits() { return false }
        if skip("e") || skip("E") {
            if !skip("-") { _ = skip("+") }
            guard digits() else { return false }
        }
        return rest.isEmpty
    }
}
