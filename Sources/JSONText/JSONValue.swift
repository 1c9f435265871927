/// A JSON document as a value. Objects keep their key order (so written files are stable and
/// read files can be reported in their own order); numbers keep whether they were written as
/// integers, because safetensors offsets and shapes must be integers, not merely integral.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A literal without fraction or exponent that fits in `Int`.
    case int(Int)
    /// Any other number. Non-finite values are written as `null`.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value for `key` in an object (the first one; the parser refuses duplicates).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first(where: { $0.0 == key })?.1
    }

    public var objectPairs: [(String, JSONValue)]? {
        if case .object(let pairs) = self { return pairs }
        return nil
    }
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }
    /// Integers and doubles alike, as `Double`.
    public var numberValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A number, or `null` when the value is NaN or infinite (JSON has no such numbers).
    public static func number(_ value: Double) -> JSONValue {
        value.isFinite ? .double(value) : .null
    }
}
