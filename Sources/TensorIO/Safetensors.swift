#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics
import JSONText

/// The element types a safetensors header may name, with their sizes in bytes.
/// tvgeo reads F64, F32, F16 and BF16 as numbers; the others are validated and may be ignored.
public enum TensorDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// Whether `SafetensorsFile.doubles` can convert this type.
    public var isReadableAsFloat: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: return true
        default: return false
        }
    }
}

/// One entry of a safetensors header, validated: its bytes lie inside the data section.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]
    /// Byte range relative to the start of the data section.
    public var byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file (Hugging Face's format: an 8-byte little-endian header
/// length, a JSON header, then the raw tensor bytes). The header is validated in full before
/// any tensor is trusted; tensor bytes are read from the mapping on demand, never copied whole.
public final class SafetensorsFile: @unchecked Sendable {
    /// The largest header accepted, as in the reference implementation (100 MB).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    /// Tensors in header order.
    public let tensors: [TensorInfo]
    public let metadata: [String: String]
    private let index: [String: Int]
    private let file: MappedFile
    private let dataStart: Int

    /// Maps and validates `path`. Throws `.missingInput` when the file cannot be opened and
    /// `.invalidData` naming the tensor or header field that is wrong.
    public init(path: String) throws(ToolError) {
        self.path = path
        let file = try MappedFile(path: path, expected: "a .safetensors file")
        let size = file.count
        guard size >= 8, let bytes = file.bytes.baseAddress else {
            throw .invalidData(file: path, location: nil,
                               problem: "file is \(size) bytes; a safetensors file starts with an 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for offset in 0..<8 {
            headerLength |= UInt64(bytes.load(fromByteOffset: offset, as: UInt8.self)) << (8 * UInt64(offset))
        }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw .invalidData(file: path, location: "header",
                               problem: "header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        guard Int(headerLength) <= size - 8 else {
            throw .invalidData(file: path, location: "header",
                               problem: "header length \(headerLength) exceeds the file size (\(size) bytes; the file may be truncated)")
        }
        let headerBytes = UnsafeRawBufferPointer(start: bytes + 8, count: Int(headerLength))
        let parsed = try Self.parseHeader(headerBytes, dataLength: size - 8 - Int(headerLength), path: path)
        self.tensors = parsed.tensors
        self.metadata = parsed.metadata
        self.file = file
        self.dataStart = 8 + Int(headerLength)
        var index: [String: Int] = [:]
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        self.index = index
    }

    public func info(_ name: String) -> TensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The tensor's elements converted to `Double`, in the file's (row-major) order.
    /// Refuses non-float types and NaN or infinite values, naming the tensor and element.
    public func doubles(_ name: String) throws(ToolError) -> [Double] {
        guard let tensor = info(name) else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        var values = [Double](repeating: 0, count: tensor.elementCount)
        try values.withUnsafeMutableBufferPointer { buffer throws(ToolError) in
            try copy(tensor, into: buffer, layout: .asStored)
        }
        return values
    }

    /// Where `copyMatrix` puts the elements of a row-major rows × cols tensor.
    public enum DestinationLayout: Sendable {
        /// The same order as the file (row-major; for a matrix M this is Mᵀ column-major).
        case asStored
        /// Column-major rows × cols: the transpose of the file's order.
        case columnMajor
    }

    /// Converts the tensor `name` to `Double` straight into `destination` (which must hold
    /// exactly its elements), refusing non-float types and non-finite values, then releases the
    /// tensor's mapped pages. `.columnMajor` requires a 2-D tensor.
    public func copyMatrix(_ name: String, into destination: UnsafeMutableBufferPointer<Double>, layout: DestinationLayout) throws(ToolError) {
        guard let tensor = info(name) else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        try copy(tensor, into: destination, layout: layout)
    }

    private func copy(_ tensor: TensorInfo, into out: UnsafeMutableBufferPointer<Double>, layout: DestinationLayout) throws(ToolError) {
        guard tensor.dtype.isReadableAsFloat, let base = file.bytes.baseAddress else {
            throw .invalidData(file: path, location: tensor.name,
                               problem: "dtype \(tensor.dtype.rawValue) is not a floating-point type tvgeo reads (F64, F32, F16, BF16)")
        }
        let count = tensor.elementCount
        precondition(out.count == count, "copyMatrix: destination holds \(out.count) values, tensor \(count)")
        // Element k of the file goes to index(k): identity, or the transposition of a rows × cols matrix.
        let rows = tensor.shape.first ?? 1, cols = tensor.shape.count == 2 ? tensor.shape[1] : 1
        precondition(layout == .asStored || tensor.shape.count == 2)
        let start = base + dataStart + tensor.byteRange.lowerBound
        switch tensor.dtype {
        case .f64: Self.decode(F64Element.self, from: start, into: out, rows: rows, cols: cols, layout: layout)
        case .f32: Self.decode(F32Element.self, from: start, into: out, rows: rows, cols: cols, layout: layout)
        case .f16: Self.decode(F16Element.self, from: start, into: out, rows: rows, cols: cols, layout: layout)
        case .bf16: Self.decode(BF16Element.self, from: start, into: out, rows: rows, cols: cols, layout: layout)
        default: break
        }
        file.release((dataStart + tensor.byteRange.lowerBound)..<(dataStart + tensor.byteRange.upperBound))
        if let bad = out.firstIndex(where: { !$0.isFinite }) {
            let element = layout == .asStored ? bad : (bad % rows) * cols + bad / rows
            throw .invalidData(file: path, location: tensor.name,
                               problem: "element \(element) (of \(count)) is \(out[bad]); weights must be finite")
        }
    }

    /// Converts rows × cols stored elements; specialised per element type so that the inner
    /// loops carry no per-element branching.
    private static func decode<Element: StoredElement>(_: Element.Type, from start: UnsafeRawPointer,
                                                      into out: UnsafeMutableBufferPointer<Double>,
                                                      rows: Int, cols: Int, layout: DestinationLayout) {
        let count = out.count
        switch layout {
        case .asStored:
            for k in 0..<count { out[k] = Element.value(at: k, in: start) }
        case .columnMajor:
            for i in 0..<rows {
                for c in 0..<cols { out[c * rows + i] = Element.value(at: i * cols + c, in: start) }
            }
        }
    }

    private static func parseHeader(_ bytes: UnsafeRawBufferPointer, dataLength: Int, path: String) throws(ToolError)
        -> (tensors: [TensorInfo], metadata: [String: String])
    {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidData(file: path, location: "header", problem: error.description)
        }
        guard let entries = document.objectPairs else {
            throw .invalidData(file: path, location: "header", problem: "the header is not a JSON object")
        }
        var tensors: [TensorInfo] = []
        var metadata: [String: String] = [:]
        for (name, entry) in entries {
            if name == "__metadata__" {
                guard let pairs = entry.objectPairs else {
                    throw .invalidData(file: path, location: "__metadata__", problem: "must be an object of strings")
                }
                for (key, value) in pairs {
                    guard let text = value.stringValue else {
                        throw .invalidData(file: path, location: "__metadata__.\(key)", problem: "metadata values must be strings")
                    }
                    metadata[key] = text
                }
                continue
            }
            tensors.append(try parseEntry(name: name, entry: entry, dataLength: dataLength, path: path))
        }
        // The tensors must tile the data section exactly: no gap, no overlap, nothing after.
        let ordered = tensors.sorted { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        var expected = 0
        for (position, tensor) in ordered.enumerated() {
            if tensor.byteRange.lowerBound < expected {
                // The overlapped tensor is one that starts before this one (not a later one).
                let other = ordered[..<position].last { $0.byteRange.upperBound > tensor.byteRange.lowerBound }
                throw .invalidData(file: path, location: tensor.name,
                                   problem: "data_offsets \(tensor.byteRange.lowerBound)..<\(tensor.byteRange.upperBound) "
                                            + "overlap \(other.map { "tensor \($0.name)" } ?? "another tensor")")
            }
            if tensor.byteRange.lowerBound > expected {
                throw .invalidData(file: path, location: tensor.name,
                                   problem: "data_offsets start at \(tensor.byteRange.lowerBound) but the previous tensor ends at \(expected): "
                                            + "bytes \(expected)..<\(tensor.byteRange.lowerBound) belong to no tensor")
            }
            expected = tensor.byteRange.upperBound
        }
        if expected != dataLength {
            throw .invalidData(file: path, location: "header",
                               problem: "tensors cover \(expected) bytes but the data section holds \(dataLength)")
        }
        return (tensors, metadata)
    }

    private static func parseEntry(name: String, entry: JSONValue, dataLength: Int, path: String) throws(ToolError) -> TensorInfo {
        guard let fields = entry.objectPairs else {
            throw .invalidData(file: path, location: name, problem: "header entry is not an object")
        }
        for (key, _) in fields where !["dtype", "shape", "data_offsets"].contains(key) {
            throw .invalidData(file: path, location: name, problem: "unexpected key \"\(key)\" in the header entry")
        }
        guard let dtypeText = entry["dtype"]?.stringValue else {
            throw .invalidData(file: path, location: name, problem: "missing or non-string \"dtype\"")
        }
        guard let dtype = TensorDType(rawValue: dtypeText) else {
            throw .invalidData(file: path, location: name, problem: "unknown dtype \"\(dtypeText)\"")
        }
        guard let shapeValues = entry["shape"]?.arrayValue else {
            throw .invalidData(file: path, location: name, problem: "missing or non-array \"shape\"")
        }
        var shape: [Int] = []
        var count = 1
        for dimension in shapeValues {
            guard let size = dimension.intValue, size >= 0 else {
                throw .invalidData(file: path, location: name,
                                   problem: "shape \(describe(shapeValues)) has a dimension that is not a non-negative integer")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= dataLength else {
                throw .invalidData(file: path, location: name,
                                   problem: "shape \(describe(shapeValues)) needs more bytes than the data section holds (\(dataLength))")
            }
            count = product
            shape.append(size)
        }
        guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue else {
            throw .invalidData(file: path, location: name, problem: "\"data_offsets\" must be two integers [begin, end]")
        }
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw .invalidData(file: path, location: name,
                               problem: "data_offsets [\(begin), \(end)] fall outside the data section (\(dataLength) bytes)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw .invalidData(file: path, location: name,
                               problem: "shape \(shape) × \(dtype.rawValue) (\(dtype.byteSize) bytes) "
                                        + "needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets span \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    private static func describe(_ values: [JSONValue]) -> String {
        "[" + values.map { value -> String in
            switch value {
            case .int(let number): return String(number)
            case .double(let number): return "\(number)"
            case .string(let text): return "\"\(text)\""
            default: return "?"
            }
        }.joined(separator: ", ") + "]"
    }
}

/// How one stored element type becomes a Double (little-endian, possibly unaligned).
protocol StoredElement {
    static func value(at index: Int, in start: UnsafeRawPointer) -> Double
}

enum F64Element: StoredElement {
    @inline(__always) static func value(at index: Int, in start: UnsafeRawPointer) -> Double {
        Double(bitPattern: UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)))
    }
}

enum F32Element: StoredElement {
    @inline(__always) static func value(at index: Int, in start: UnsafeRawPointer) -> Double {
        Double(Float(bitPattern: UInt32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))))
    }
}

enum F16Element: StoredElement {
    @inline(__always) static func value(at index: Int, in start: UnsafeRawPointer) -> Double {
        halfToDouble(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
    }
}

/// bfloat16 is the upper half of a float32.
enum BF16Element: StoredElement {
    @inline(__always) static func value(at index: Int, in start: UnsafeRawPointer) -> Double {
        Double(Float(bitPattern: UInt32(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))) << 16))
    }
}

/// IEEE 754 binary16 to Double, including subnormals, infinities and NaN.
@inlinable
func halfToDouble(_ bits: UInt16) -> Double {
    let sign: Double = (bits & 0x8000) != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Double(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 0x1F: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
