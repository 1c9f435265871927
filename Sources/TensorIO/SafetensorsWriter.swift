#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics
import Foundation
import JSONText

/// One tensor to write: its name, element type, shape and element bytes (little-endian, row-major).
public struct TensorRecord: Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]
    public var bytes: [UInt8]

    /// A tensor from bytes already in `dtype`'s encoding (a verbatim copy of another file's tensor).
    public init(name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A tensor of row-major `values` stored as `dtype` (F64, F32, F16 or BF16), each rounded to the
    /// nearest value of the type, ties to even. Refuses non-finite values and values that overflow
    /// the type, naming `file`, the tensor and the element.
    public init(name: String, dtype: TensorDType, shape: [Int], values: [Double], file: String) throws(ToolError) {
        guard dtype.isReadableAsFloat else {
            throw .internalError("\(name): cannot encode numbers as \(dtype.rawValue)")
        }
        var bytes = [UInt8](repeating: 0, count: values.count * dtype.byteSize)
        for (index, value) in values.enumerated() {
            guard value.isFinite else {
                throw .invalidData(file: file, location: name, problem: "element \(index) (of \(values.count)) is \(value); weights must be finite")
            }
            let rounded = dtype.nearest(value)
            guard rounded.isFinite else {
                throw .invalidData(file: file, location: name,
                                   problem: "element \(index) (of \(values.count)) is \(value), "
                                            + "beyond the range of \(dtype.rawValue) (largest finite \(dtype.largestFinite))")
            }
            dtype.store(value, at: index, in: &bytes)
        }
        self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
    }
}

/// A tensor's name, element type and shape, without its bytes (see `SafetensorsWriter.layout`).
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]

    public init(name: String, dtype: TensorDType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// Where everything goes in a safetensors file: `header` (the 8-byte length and the JSON header)
/// comes first, then the bytes of tensor `order[0]`, `order[1]`, … (indices into the specs given
/// to `SafetensorsWriter.layout`), `byteCounts[i]` bytes for spec i, `dataLength` bytes in all.
public struct SafetensorsLayout: Sendable, Equatable {
    public var header: [UInt8]
    public var order: [Int]
    public var byteCounts: [Int]
    public var dataLength: Int
    /// The size of the whole file in bytes.
    public var fileSize: Int { header.count + dataLength }
}

/// Writes safetensors files the way the reference library does: an 8-byte little-endian header
/// length, a compact JSON header (`__metadata__` first, then the tensors with their keys sorted by
/// name, each `{"dtype", "shape", "data_offsets"}`) padded with spaces to a multiple of 8 bytes, then
/// the tensor bytes, contiguous from offset 0 with no gap. The data are laid out by element size,
/// largest first, then by name (for a file of one element size, simply in name order), so that every
/// tensor starts at a multiple of its element size, as the reference writer ensures: PyTorch refuses
/// to view misaligned bytes as a wider type.
public enum SafetensorsWriter {
    /// The file's bytes. `file` names the destination in error messages.
    public static func data(_ tensors: [TensorRecord], metadata: [String: String] = ["format": "pt"],
                            file: String) throws(ToolError) -> Data {
        for tensor in tensors {
            let expected = try byteCount(of: TensorSpec(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape), file: file)
            guard expected == tensor.bytes.count else {
                throw .internalError("\(file): \(tensor.name): \(tensor.bytes.count) bytes for shape \(tensor.shape) of \(tensor.dtype.rawValue)")
            }
        }
        let layout = try layout(tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, metadata: metadata, file: file)
        var out = Data(capacity: layout.fileSize)
        out.append(contentsOf: layout.header)
        for index in layout.order { out.append(contentsOf: tensors[index].bytes) }
        return out
    }

    /// The header of a file of `specs` (its first `header.count` bytes: the 8-byte length and the
    /// padded JSON) and the order in which the tensors' bytes follow it, so that a caller can
    /// stream each tensor's bytes straight from where they are instead of building the file in
    /// memory. Refuses empty, reserved or repeated names and invalid shapes (internal errors).
    public static func layout(_ specs: [TensorSpec], metadata: [String: String] = ["format": "pt"],
                              file: String) throws(ToolError) -> SafetensorsLayout {
        var seen = Set<String>()
        var byteCounts: [Int] = []
        for spec in specs {
            guard !spec.name.isEmpty, spec.name != "__metadata__", seen.insert(spec.name).inserted else {
                throw .internalError("\(file): tensor name \"\(spec.name)\" is empty, reserved or given twice")
            }
            byteCounts.append(try byteCount(of: spec, file: file))
        }
        // Data order: element size descending, then name; offsets follow that order.
        let order = specs.indices.sorted { lhs, rhs in
            let (a, b) = (specs[lhs], specs[rhs])
            if a.dtype.byteSize != b.dtype.byteSize { return a.dtype.byteSize > b.dtype.byteSize }
            return Self.precedes(a.name, b.name)
        }
        var offsets = [Int](repeating: 0, count: specs.count)
        var offset = 0
        for index in order {
            offsets[index] = offset
            offset += byteCounts[index]
        }
        // Header order: __metadata__, then names sorted.
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted(by: precedes).map { key in
                quoted(key) + ":" + quoted(metadata[key]!)
            }.joined(separator: ",")
            header += "}"
            first = false
        }
        for index in specs.indices.sorted(by: { precedes(specs[$0].name, specs[$1].name) }) {
            let spec = specs[index]
            if !first { header += "," }
            first = false
            header += quoted(spec.name) + ":{\"dtype\":" + quoted(spec.dtype.rawValue)
            header += ",\"shape\":[" + spec.shape.map(String.init).joined(separator: ",") + "]"
            header += ",\"data_offsets\":[\(offsets[index]),\(offsets[index] + byteCounts[index])]}"
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        let length = UInt64(headerBytes.count)
        let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
        return SafetensorsLayout(header: prefix + headerBytes, order: order, byteCounts: byteCounts, dataLength: offset)
    }

    /// Bytes of a tensor of `spec`'s shape and type; refuses negative or overflowing shapes.
    static func byteCount(of spec: TensorSpec, file: String) throws(ToolError) -> Int {
        var count = 1
        for dimension in spec.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else {
                throw .internalError("\(file): \(spec.name): invalid shape \(spec.shape)")
            }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: spec.dtype.byteSize)
        guard !overflow else { throw .internalError("\(file): \(spec.name): invalid shape \(spec.shape)") }
        return bytes
    }

    /// Writes the file atomically: into a temporary file beside `path`, renamed into place.
    public static func write(_ tensors: [TensorRecord], metadata: [String: String] = ["format": "pt"],
                             to path: String) throws(ToolError) {
        let bytes = try data(tensors, metadata: metadata, file: path)
        do {
            try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, problem: (error as NSError).localizedDescription)
        }
    }

    /// Byte-wise (UTF-8) order, as the reference implementation sorts names.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func quoted(_ text: String) -> String {
        var out = ""
        JSONWriter.writeString(text, into: &out)
        return out
    }
}

extension TensorDType {
    /// The value of this floating-point type nearest to `value`, ties to even: the value a tensor
    /// of this type holds after `TensorRecord` encodes `value` (infinite when it overflows).
    /// F16 and BF16 are rounded once from the exact Double (through a round-to-odd float32 step,
    /// which makes the two-step rounding exact), not through a rounded float32.
    public func nearest(_ value: Double) -> Double {
        switch self {
        case .f64: return value
        case .f32: return Double(Float(value))
        case .f16: return Double(Float16(bitPattern: Self.halfBits(value)))
        case .bf16: return Double(Float(bitPattern: UInt32(Self.bfloat16Bits(value)) << 16))
        default: preconditionFailure("nearest: \(rawValue) is not a floating-point type")
        }
    }

    /// The largest finite value of a floating-point type.
    public var largestFinite: Double {
        switch self {
        case .f64: return Double.greatestFiniteMagnitude
        case .f32: return Double(Float.greatestFiniteMagnitude)
        case .f16: return 65504
        case .bf16: return Double(Float(bitPattern: 0x7F7F_0000))
        default: return .nan
        }
    }

    /// Writes `value`, rounded to this type, as element `index` of little-endian `bytes`.
    func store(_ value: Double, at index: Int, in bytes: inout [UInt8]) {
        func put<T: FixedWidthInteger>(_ bits: T) {
            var little = bits.littleEndian
            withUnsafeBytes(of: &little) { raw in
                for k in 0..<raw.count { bytes[index * raw.count + k] = raw[k] }
            }
        }
        switch self {
        case .f64: put(value.bitPattern)
        case .f32: put(Float(value).bitPattern)
        case .f16: put(Self.halfBits(value))
        case .bf16: put(Self.bfloat16Bits(value))
        default: preconditionFailure("store: \(rawValue) is not a floating-point type")
        }
    }

    /// `value` rounded to float32 by round-to-odd: truncated toward zero, with the last bit set
    /// when inexact. Rounding that result to a format with at least two fewer significand bits
    /// (F16: 11, BF16: 8, float32: 24) gives the correctly rounded value of `value`.
    static func floatRoundedToOdd(_ value: Double) -> Float {
        var single = Float(value)
        if value.isNaN || Double(single) == value { return single }
        if abs(Double(single)) > abs(value) { single = single > 0 ? single.nextDown : single.nextUp }
        return Float(bitPattern: single.bitPattern | 1)
    }

    /// IEEE binary16 bits of `value`, round to nearest even.
    static func halfBits(_ value: Double) -> UInt16 {
        Float16(floatRoundedToOdd(value)).bitPattern
    }

    /// bfloat16 bits (the upper half of a float32) of `value`, round to nearest even.
    static func bfloat16Bits(_ value: Double) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = floatRoundedToOdd(value).bitPattern
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}

extension SafetensorsFile {
    /// The stored bytes of tensor `name`, verbatim (any dtype), read from the file.
    public func rawBytes(_ name: String) throws(ToolError) -> [UInt8] {
        guard let tensor = info(name) else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw .missingInput(path: path, problem: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var prefix = [UInt8](repeating: 0, count: 8)
        guard readFully(descriptor, into: &prefix, at: 0) else {
            throw .missingInput(path: path, problem: "read error (the file changed while tvgeo was reading it?)")
        }
        var headerLength = 0
        for k in 0..<8 { headerLength |= Int(prefix[k]) << (8 * k) }
        var bytes = [UInt8](repeating: 0, count: tensor.byteRange.count)
        guard readFully(descriptor, into: &bytes, at: 8 + headerLength + tensor.byteRange.lowerBound) else {
            throw .missingInput(path: path, problem: "read error in tensor \(name) (the file changed while tvgeo was reading it?)")
        }
        return bytes
    }

    private func readFully(_ descriptor: Int32, into buffer: inout [UInt8], at offset: Int) -> Bool {
        var done = 0
        let total = buffer.count
        return buffer.withUnsafeMutableBytes { raw -> Bool in
            while done < total {
                let count = pread(descriptor, raw.baseAddress! + done, total - done, off_t(offset + done))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                done += count
            }
            return true
        }
    }
}
