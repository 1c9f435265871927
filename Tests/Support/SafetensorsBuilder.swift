import Foundation
import JSONText

/// Builds safetensors bytes for tests: valid files (the way the reference library writes them:
/// keys sorted, offsets contiguous from 0) and, through `raw`, any malformed variant.
public struct SafetensorsBuilder {
    public enum DType: String { case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64" }

    public struct Entry {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]
    }

    public private(set) var entries: [Entry] = []
    public var metadata: [(String, String)] = [("format", "pt")]

    public init() {}

    /// Adds a tensor whose `values` are in row-major order.
    public mutating func add(_ name: String, dtype: DType = .f32, shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: Self.encode(values, as: dtype)))
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        var offset = 0
        var header: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            header.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) })))
        }
        var data: [UInt8] = []
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            header.append((entry.name, .object([
                ("dtype", .string(entry.dtype.rawValue)),
                ("shape", .array(entry.shape.map(JSONValue.int))),
                ("data_offsets", .array([.int(offset), .int(offset + entry.bytes.count)])),
            ])))
            offset += entry.bytes.count
            data += entry.bytes
        }
        return Self.raw(header: Self.compact(.object(header)), data: data)
    }

    /// A file from a header text and a data section, with a correct length prefix unless
    /// `declaredLength` overrides it.
    public static func raw(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        // The reference writer pads the header with spaces to a multiple of 8.
        while (headerBytes.count % 8) != 0 { headerBytes.append(0x20) }
        let length = declaredLength ?? UInt64(headerBytes.count)
        var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
        out += headerBytes
        out += data
        return out
    }

    public static func compact(_ value: JSONValue) -> String {
        switch value {
        case .object(let pairs):
            return "{" + pairs.map { pair in
                var key = ""
                JSONWriter.writeString(pair.0, into: &key)
                return key + ":" + compact(pair.1)
            }.joined(separator: ",") + "}"
        case .array(let items):
            return "[" + items.map(compact).joined(separator: ",") + "]"
        default:
            return JSONWriter.string(value).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    public static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ bits: T) {
            withUnsafeBytes(of: bits.littleEndian) { out.append(contentsOf: $0) }
        }
        for value in values {
            switch dtype {
            case .f64: append(value.bitPattern)
            case .f32: append(Float(value).bitPattern)
            case .f16: append(Float16(value).bitPattern)
            case .bf16: append(bfloat16Bits(Float(value)))
            case .i64: append(Int64(value))
            }
        }
        return out
    }

    /// Float → bfloat16 with round-to-nearest-even (what torch does).
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return 0x7FC0 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    /// The value a Double becomes after a round trip through `dtype`.
    public static func roundTrip(_ value: Double, _ dtype: DType) -> Double {
        switch dtype {
        case .f64: return value
        case .f32: return Double(Float(value))
        case .f16: return Double(Float16(value))
        case .bf16: return Double(Float(bitPattern: UInt32(bfloat16Bits(Float(value))) << 16))
        case .i64: return Double(Int64(value))
        }
    }
}
