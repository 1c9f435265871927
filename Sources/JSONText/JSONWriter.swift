import Dispatch
import Synchronization

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

    /// The same text as `string(_:)`, with the members of the outer two object levels rendered
    /// on all cores (formatting the numbers of a large `metrics.json` takes milliseconds).
    public static func stringInParallel(_ value: JSONValue) -> String {
        var cut: [Piece] = []
        split(value, indent: 0, depth: 0, into: &cut)
        let pieces = cut
        let jobs = pieces.indices.filter { if case .value = pieces[$0] { return true } else { return false } }
        let rendered = RenderedSlots(count: pieces.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { job in
            guard case .value(let item, let indent) = pieces[jobs[job]] else { return }
            var text = ""
            write(item, indent: indent, into: &text)
            rendered.store(text, at: jobs[job])
        }
        var out = ""
        for (index, piece) in pieces.enumerated() {
            switch piece {
            case .text(let text): out.append(text)
            case .value: out.append(rendered.text(at: index))
            }
        }
        out.append("\n")
        return out
    }

    /// Literal text, or a value still to be rendered at an indentation.
    private enum Piece: Sendable {
        case text(String)
        case value(JSONValue, Int)
    }

    /// Cuts a value into pieces that concatenate to `write(value, indent:)`: objects of the first
    /// two levels become their punctuation plus one piece per member value.
    private static func split(_ value: JSONValue, indent: Int, depth: Int, into pieces: inout [Piece]) {
        guard depth < 2, case .object(let pairs) = value, !pairs.isEmpty else {
            pieces.append(.value(value, indent))
            return
        }
        let pad = String(repeating: " ", count: indent + 2)
        pieces.append(.text("{\n"))
        for (offset, pair) in pairs.enumerated() {
            var key = pad
            writeString(pair.0, into: &key)
            key.append(": ")
            pieces.append(.text(key))
            split(pair.1, indent: indent + 2, depth: depth + 1, into: &pieces)
            pieces.append(.text(offset + 1 < pairs.count ? ",\n" : "\n"))
        }
        pieces.append(.text(String(repeating: " ", count: indent) + "}"))
    }

    /// Rendered pieces written by concurrent jobs into fixed slots.
    private final class RenderedSlots: Sendable {
        private let texts: Mutex<[String]>
        init(count: Int) { texts = Mutex(Array(repeating: "", count: count)) }
        func store(_ text: String, at index: Int) { texts.withLock { $0[index] = text } }
        func text(at index: Int) -> String { texts.withLock { $0[index] } }
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

