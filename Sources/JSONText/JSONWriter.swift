/// Writes `JSONValue`s as stable, readable text: objects keep their key order, two-space
/// indentation, and arrays of scalars (matrix rows, label lists) stay on one line so an N×N
/// matrix reads as N lines. Doubles use Swift's shortest round-trip form, so reading the file
/// back gives the same bits.
public enum JSONWriter {
    public static func string(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        out.append("\n")
        return out
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: return false
        default: return true
        }
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        switch value {
        case .null: out.append("null")
        case .bool(let flag): out.append(flag ? "true" : "false")
        case .int(let number): out.append(String(number))
        case .double(let number): out.append(number.isFinite ? "\(number)" : "null")
        case .string(let text): writeString(text, into: &out)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            if items.allSatisfy(isScalar) {
                out.append("[")
                for (offset, item) in items.enumerated() {
                    if offset > 0 { out.append(", ") }
                    write(item, indent: indent, into: &out)
                }
                out.append("]")
                return
            }
            let pad = String(repeating: " ", count: indent + 2)
            out.append("[\n")
            for (offset, item) in items.enumerated() {
                out.append(pad)
                write(item, indent: indent + 2, into: &out)
                out.append(offset + 1 < items.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "]")
        case .object(let pairs):
            if pairs.isEmpty { out.append("{}"); return }
            let pad = String(repeating: " ", count: indent + 2)
            out.append("{\n")
            for (offset, pair) in pairs.enumerated() {
                out.append(pad)
                writeString(pair.0, into: &out)
                out.append(": ")
                write(pair.1, indent: indent + 2, into: &out)
                out.append(offset + 1 < pairs.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "}")
        }
    }

    /// Escapes quotes, backslashes and control characters; everything else is written as UTF-8.
    public static func writeString(_ text: String, into out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}
