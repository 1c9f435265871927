#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics

/// A file of named tensors that tvgeo can read as `Double`: a safetensors file or a PyTorch
/// checkpoint. `tensors` lists name, dtype and shape; values are converted on demand.
public protocol TensorSource: AnyObject, Sendable {
    var path: String { get }
    /// Tensors in file order.
    var tensors: [TensorInfo] { get }
    func info(_ name: String) -> TensorInfo?
    /// The tensor's elements as `Double`, row-major; refuses non-float dtypes and non-finite values.
    func doubles(_ name: String) throws(ToolError) -> [Double]
    /// Converts the tensor straight into `destination` (exactly its elements); `.columnMajor` needs 2-D.
    func copyMatrix(_ name: String, into destination: UnsafeMutableBufferPointer<Double>,
                    layout: SafetensorsFile.DestinationLayout) throws(ToolError)
}

extension SafetensorsFile: TensorSource {}

/// One tensor of a PyTorch checkpoint: a strided view of a storage (an archive entry `data/<key>`).
public struct TorchTensorView: Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]
    /// Strides in elements, one per dimension.
    public var strides: [Int]
    /// The storage's key (`data/<key>` in the archive); tensors sharing a storage share the key.
    public var storageKey: String
    /// First element of the view, in elements from the start of the storage.
    public var storageOffset: Int

    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether the view is the row-major contiguous layout of its shape.
    public var isContiguous: Bool {
        var expected = 1
        for dimension in shape.indices.reversed() where shape[dimension] != 1 {
            if strides[dimension] != expected { return false }
            expected *= shape[dimension]
        }
        return true
    }
}

/// A PyTorch checkpoint (`torch.save` since 1.6: a ZIP archive of `<folder>/data.pkl`, a pickle,
/// and `<folder>/data/<key>`, raw little-endian storages), read without executing anything: the
/// pickle is interpreted by a small machine that knows only the opcodes a state dict needs and
/// builds values from an allow-list of globals (`collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`, the float, integer and
/// bool storage types and `torch.<dtype>`); anything else is refused with an error naming it.
/// The pickle must produce a dict of tensors (a state dict). The file is mapped; tensor bytes are
/// read only when a tensor is asked for, gathered by its strides (views, slices, transposes and
/// shared storages all work) after every element the view touches was checked to lie in its storage.
public final class TorchCheckpoint: TensorSource, @unchecked Sendable {
    public static let conversionAdvice =
        "legacy torch.save format; re-save with torch.save(..., _use_new_zipfile_serialization=True) or convert to safetensors"
    /// The largest `data.pkl` accepted.
    public static let maxPickleBytes = 256 << 20

    public let path: String
    /// Tensors in the order of the state dict. `byteRange` is the span of bytes, as absolute
    /// offsets in the file, from the first to the last element the view touches (a strided view
    /// reads only some of them).
    public let tensors: [TensorInfo]
    /// The strided views behind `tensors`, same order.
    public let views: [TorchTensorView]
    /// The archive's top-level folder (the one holding `data.pkl`).
    public let archiveFolder: String
    private let index: [String: Int]
    /// Storage key → byte range of its data entry in the file.
    private let storages: [String: Range<Int>]
    private let file: MappedFile

    public init(path: String) throws(ToolError) {
        self.path = path
        let file = try MappedFile(path: path, expected: "a PyTorch .bin checkpoint")
        guard file.count > 0 else {
            throw .invalidData(file: path, location: nil, problem: "file is empty; expected a torch.save ZIP archive")
        }
        let parsed = try Self.parse(file.bytes, path: path)
        self.archiveFolder = parsed.folder
        self.views = parsed.views
        self.storages = parsed.storages
        self.tensors = parsed.views.map { view in
            let entry = parsed.storages[view.storageKey]!
            let size = view.dtype.byteSize
            let last = Self.lastElement(view) ?? view.storageOffset - 1
            return TensorInfo(name: view.name, dtype: view.dtype, shape: view.shape,
                              byteRange: (entry.lowerBound + view.storageOffset * size)..<(entry.lowerBound + (last + 1) * size))
        }
        self.file = file
        var index: [String: Int] = [:]
        for (position, view) in views.enumerated() { index[view.name] = position }
        self.index = index
    }

    public func info(_ name: String) -> TensorInfo? {
        index[name].map { tensors[$0] }
    }

    public func view(_ name: String) -> TorchTensorView? {
        index[name].map { views[$0] }
    }

    public func doubles(_ name: String) throws(ToolError) -> [Double] {
        guard let position = index[name] else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        var values = [Double](repeating: 0, count: views[position].elementCount)
        try values.withUnsafeMutableBufferPointer { buffer throws(ToolError) in
            try copy(position, into: buffer, layout: .asStored)
        }
        return values
    }

    public func copyMatrix(_ name: String, into destination: UnsafeMutableBufferPointer<Double>,
                           layout: SafetensorsFile.DestinationLayout) throws(ToolError) {
        guard let position = index[name] else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        try copy(position, into: destination, layout: layout)
    }

    private func copy(_ position: Int, into out: UnsafeMutableBufferPointer<Double>,
                      layout: SafetensorsFile.DestinationLayout) throws(ToolError) {
        let view = views[position]
        guard view.dtype.isReadableAsFloat, let base = file.bytes.baseAddress, let entry = storages[view.storageKey] else {
            throw .invalidData(file: path, location: view.name,
                               problem: "dtype \(view.dtype.rawValue) is not a floating-point type tvgeo reads (F64, F32, F16, BF16)")
        }
        let count = view.elementCount
        precondition(out.count == count, "copyMatrix: destination holds \(out.count) values, tensor \(count)")
        precondition(layout == .asStored || view.shape.count == 2)
        let start = base + entry.lowerBound
        switch view.dtype {
        case .f64: Self.gather(F64Element.self, from: start, view: view, into: out, layout: layout)
        case .f32: Self.gather(F32Element.self, from: start, view: view, into: out, layout: layout)
        case .f16: Self.gather(F16Element.self, from: start, view: view, into: out, layout: layout)
        case .bf16: Self.gather(BF16Element.self, from: start, view: view, into: out, layout: layout)
        default: break
        }
        file.release(tensors[position].byteRange)
        if let bad = out.firstIndex(where: { !$0.isFinite }) {
            let rows = view.shape.first ?? 1, cols = view.shape.count == 2 ? view.shape[1] : 1
            let element = layout == .asStored ? bad : (bad % rows) * cols + bad / rows
            throw .invalidData(file: path, location: view.name,
                               problem: "element \(element) (of \(count)) is \(out[bad]); weights must be finite")
        }
    }

    /// Reads the view's elements in row-major order of its shape (or column-major for
    /// `.columnMajor`), following its strides from its storage offset. Bounds were checked at load.
    private static func gather<Element: StoredElement>(_: Element.Type, from start: UnsafeRawPointer,
                                                       view: TorchTensorView,
                                                       into out: UnsafeMutableBufferPointer<Double>,
                                                       layout: SafetensorsFile.DestinationLayout) {
        let count = out.count
        guard count > 0 else { return }
        let offset = view.storageOffset
        if layout == .columnMajor {
            let rows = view.shape[0], cols = view.shape[1]
            let rowStride = view.strides[0], colStride = view.strides[1]
            for i in 0..<rows {
                for c in 0..<cols { out[c * rows + i] = Element.value(at: offset + i * rowStride + c * colStride, in: start) }
            }
            return
        }
        if view.isContiguous {
            for k in 0..<count { out[k] = Element.value(at: offset + k, in: start) }
            return
        }
        let shape = view.shape, strides = view.strides
        var counter = [Int](repeating: 0, count: shape.count)
        var position = offset
        for k in 0..<count {
            out[k] = Element.value(at: position, in: start)
            var dimension = shape.count - 1
            while dimension >= 0 {
                counter[dimension] += 1
                position += strides[dimension]
                if counter[dimension] < shape[dimension] { break }
                position -= strides[dimension] * shape[dimension]
                counter[dimension] = 0
                dimension -= 1
            }
        }
    }

    /// The storage index of the view's last element, or nil for an empty view.
    static func lastElement(_ view: TorchTensorView) -> Int? {
        var last = view.storageOffset
        for (size, stride) in zip(view.shape, view.strides) {
            if size == 0 { return nil }
            last += (size - 1) * stride
        }
        return last
    }

    // MARK: - Archive layout

    /// The legacy (pre-1.6) format is a bare pickle stream: PROTO 2, then LONG1 of the magic number
    /// 0x1950a86a20f9469cfc6c.
    static let legacyPrefix: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    private static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ToolError)
        -> (folder: String, views: [TorchTensorView], storages: [String: Range<Int>])
    {
        if bytes.count >= legacyPrefix.count, Array(bytes[0..<legacyPrefix.count]) == legacyPrefix {
            throw .invalidData(file: path, location: nil, problem: "pre-1.6 \(conversionAdvice)")
        }
        if bytes.count >= 4, bytes[0] != 0x50 || bytes[1] != 0x4b {
            throw .invalidData(file: path, location: nil,
                               problem: "not a ZIP archive (a PyTorch .bin checkpoint written by torch.save since 1.6 is one); if it is a \(conversionAdvice)")
        }
        let archive = try ZipArchive(bytes: bytes, path: path)
        let pickles = archive.entries.filter { entry in
            entry.name.hasSuffix("/data.pkl") && entry.name.split(separator: "/", omittingEmptySubsequences: false).count == 2
        }
        guard let pickle = pickles.first else {
            throw .invalidData(file: path, location: "zip archive",
                               problem: "no <folder>/data.pkl entry; this ZIP archive is not a torch.save checkpoint")
        }
        guard pickles.count == 1 else {
            throw .invalidData(file: path, location: "zip archive",
                               problem: "\(pickles.count) data.pkl entries (\(pickles.map(\.name).joined(separator: ", "))); expected one")
        }
        let folder = String(pickle.name.dropLast("/data.pkl".count))
        if let order = archive.entry(folder + "/byteorder") {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[order.data]), as: UTF8.self)
            guard text == "little" else {
                throw .invalidData(file: path, location: order.name, problem: "byte order is \"\(text.prefix(20))\"; only little-endian checkpoints are supported")
            }
        }
        guard pickle.data.count <= maxPickleBytes else {
            throw .invalidData(file: path, location: pickle.name, problem: "\(pickle.data.count) bytes exceed the \(maxPickleBytes)-byte limit")
        }
        var machine = PickleMachine(bytes: UnsafeRawBufferPointer(rebasing: bytes[pickle.data]), path: path, entry: pickle.name)
        let result = try machine.run()
        guard case .dict(let dictionary) = result else {
            throw .invalidData(file: path, location: pickle.name,
                               problem: "the pickle holds \(result.kind), not a dict of tensors (a state dict)")
        }
        var views: [TorchTensorView] = []
        var storages: [String: (range: Range<Int>, dtype: TensorDType)] = [:]
        var seen: Set<String> = []
        for (key, value) in dictionary.pairs {
            guard case .string(let name) = key else {
                throw .invalidData(file: path, location: pickle.name, problem: "state dict key is \(key.kind), not a string")
            }
            guard seen.insert(name).inserted else {
                throw .invalidData(file: path, location: name, problem: "the state dict holds this name twice")
            }
            guard case .tensor(let tensor) = value else {
                throw .invalidData(file: path, location: name, problem: "value is \(value.kind), not a tensor")
            }
            let storage = tensor.storage
            let entryName = folder + "/data/" + storage.key
            guard let entry = archive.entry(entryName) else {
                throw .invalidData(file: path, location: name, problem: "its storage \(storage.key) has no archive entry \(entryName)")
            }
            if let known = storages[storage.key], known.dtype != storage.dtype {
                throw .invalidData(file: path, location: name,
                                   problem: "storage \(storage.key) is read as \(storage.dtype.rawValue) here but as \(known.dtype.rawValue) by another tensor")
            }
            let size = storage.dtype.byteSize
            let (needed, overflow) = storage.count.multipliedReportingOverflow(by: size)
            guard !overflow, needed <= entry.data.count else {
                throw .invalidData(file: path, location: name,
                                   problem: "storage \(storage.key) declares \(storage.count) \(storage.dtype.rawValue) elements but \(entryName) holds \(entry.data.count) bytes")
            }
            let view = TorchTensorView(name: name, dtype: storage.dtype, shape: tensor.shape, strides: tensor.strides,
                                       storageKey: storage.key, storageOffset: tensor.offset)
            try checkBounds(view, storageCount: storage.count, fileSize: bytes.count, path: path)
            storages[storage.key] = (entry.data, storage.dtype)
            views.append(view)
        }
        return (folder, views, storages.mapValues(\.range))
    }

    /// Every element the view touches lies inside its storage; sizes, strides and the offset are
    /// non-negative and nothing overflows.
    private static func checkBounds(_ view: TorchTensorView, storageCount: Int, fileSize: Int, path: String) throws(ToolError) {
        guard view.shape.count == view.strides.count else {
            throw .invalidData(file: path, location: view.name, problem: "size \(view.shape) and stride \(view.strides) differ in length")
        }
        guard view.shape.allSatisfy({ $0 >= 0 }), view.strides.allSatisfy({ $0 >= 0 }), view.storageOffset >= 0 else {
            throw .invalidData(file: path, location: view.name,
                               problem: "negative size, stride or offset (size \(view.shape), stride \(view.strides), offset \(view.storageOffset))")
        }
        var count = 1
        var last = view.storageOffset
        for (size, stride) in zip(view.shape, view.strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            let (span, spanOverflow) = max(size - 1, 0).multipliedReportingOverflow(by: stride)
            let (sum, sumOverflow) = last.addingReportingOverflow(span)
            guard !overflow, !spanOverflow, !sumOverflow else {
                throw .invalidData(file: path, location: view.name, problem: "size \(view.shape) with stride \(view.strides) overflows")
            }
            count = product
            last = sum
        }
        // Only a broadcast (stride-0) view can hold more elements than its storage; cap it at the
        // file's size so that no hostile shape makes the reader allocate without bound.
        guard count <= max(storageCount, fileSize) else {
            throw .invalidData(file: path, location: view.name,
                               problem: "view of size \(view.shape) with stride \(view.strides) has \(count) elements, more than the file could describe (\(fileSize) bytes)")
        }
        if count == 0 {
            guard view.storageOffset <= storageCount else {
                throw .invalidData(file: path, location: view.name,
                                   problem: "storage offset \(view.storageOffset) lies past the end of storage \(view.storageKey) (\(storageCount) elements)")
            }
            return
        }
        guard last < storageCount else {
            throw .invalidData(file: path, location: view.name,
                               problem: "view (offset \(view.storageOffset), size \(view.shape), stride \(view.strides)) reaches element \(last) of storage \(view.storageKey), which holds \(storageCount) elements")
        }
    }
}

// MARK: - The restricted pickle machine

/// A storage reference made by BINPERSID: `('storage', type, key, location, numel)`.
struct PickledStorage {
    var key: String
    var dtype: TensorDType
    var count: Int
}

/// What `_rebuild_tensor_v2` was called with.
struct PickledTensor {
    var storage: PickledStorage
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// Mutable containers keep pickle's reference semantics (SETITEM on a memoised dict). A container
/// is frozen once it is placed inside another value: pickle fills containers before using them, and
/// refusing later changes keeps the cached depths exact and makes cycles impossible.
final class PickledDict {
    var pairs: [(PickleValue, PickleValue)] = []
    var depth = 1
    var frozen = false
    /// Made by `collections.OrderedDict()` (the only type BUILD is accepted on).
    let isOrderedDict: Bool
    init(isOrderedDict: Bool) { self.isOrderedDict = isOrderedDict }
}

final class PickledList {
    var items: [PickleValue] = []
    var depth = 1
    var frozen = false
}

/// The only callables and type tags the machine knows. Resolving any other global is an error.
enum AllowedGlobal: Equatable {
    case orderedDict, rebuildTensorV2, rebuildParameter
    /// `torch.FloatStorage` etc. or `torch.float32` etc.: a type tag, never called.
    case elementType(TensorDType)

    static func resolve(module: String, name: String) -> AllowedGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", let type): return elementTypes[type].map { .elementType($0) }
        default: return nil
        }
    }

    static let elementTypes: [String: TensorDType] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
        "float32": .f32, "float": .f32, "float64": .f64, "double": .f64, "float16": .f16, "half": .f16,
        "bfloat16": .bf16, "int64": .i64, "long": .i64, "int32": .i32, "int": .i32, "int16": .i16,
        "short": .i16, "int8": .i8, "uint8": .u8, "bool": .bool,
    ]
}

indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple([PickleValue], depth: Int)
    case list(PickledList)
    case dict(PickledDict)
    case global(AllowedGlobal, String)
    case storage(PickledStorage)
    case tensor(PickledTensor)

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .tuple(let items, _): return "a tuple of \(items.count)"
        case .list: return "a list"
        case .dict: return "a dict"
        case .global(_, let name): return name
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }

    /// Marks a container as placed inside another value.
    func freeze() {
        switch self {
        case .list(let list): list.frozen = true
        case .dict(let dict): dict.frozen = true
        default: break
        }
    }

    /// Nesting depth, bounded so that no value is deep enough to overflow the stack when freed.
    var depth: Int {
        switch self {
        case .tuple(_, let depth): return depth
        case .list(let list): return list.depth
        case .dict(let dict): return dict.depth
        default: return 0
        }
    }
}

/// Interprets a pickle with a fixed opcode set and allow-listed globals. It never calls anything:
/// REDUCE on an allowed global builds a value (an empty dict, a tensor description).
struct PickleMachine {
    static let maxStack = 1 << 20
    static let maxMarks = 1 << 16
    static let maxMemo = 1 << 22
    static let maxStringBytes = 16 << 20
    static let maxDepth = 64
    static let maxOpcodes = 1 << 28
    static let maxDimensions = 64

    let bytes: UnsafeRawBufferPointer
    let path: String
    let entry: String
    private var position = 0
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, path: String, entry: String) {
        self.bytes = bytes
        self.path = path
        self.entry = entry
    }

    private func fail(_ problem: String) -> ToolError {
        .invalidData(file: path, location: entry, problem: "byte \(opcodeStart): \(problem)")
    }

    private mutating func take(_ count: Int) throws(ToolError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("the pickle ends inside an opcode's argument (truncated?)")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func unsigned(_ count: Int) throws(ToolError) -> UInt64 {
        let raw = try take(count)
        var value: UInt64 = 0
        for (shift, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    private mutating func text(_ count: Int) throws(ToolError) -> String {
        guard count <= Self.maxStringBytes else {
            throw fail("a string of \(count) bytes exceeds the \(Self.maxStringBytes)-byte limit")
        }
        guard let string = String(validating: try take(count), as: UTF8.self) else {
            throw fail("a string is not valid UTF-8")
        }
        return string
    }

    private mutating func line() throws(ToolError) -> String {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A {
            end += 1
            if end - position > 1024 { throw fail("GLOBAL name longer than 1024 bytes") }
        }
        guard end < bytes.count else { throw fail("the pickle ends inside a GLOBAL name (truncated?)") }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
        position = end + 1
        guard let string = String(validating: raw, as: UTF8.self) else { throw fail("GLOBAL name is not valid UTF-8") }
        return string
    }

    private mutating func push(_ value: PickleValue) throws(ToolError) {
        guard stack.count < Self.maxStack else { throw fail("the stack exceeds \(Self.maxStack) values") }
        guard value.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        stack.append(value)
    }

    private mutating func pop() throws(ToolError) -> PickleValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw fail("\(Self.name(of: bytes[opcodeStart])) pops from an empty stack")
        }
        return value
    }

    private mutating func popMark() throws(ToolError) -> [PickleValue] {
        guard let mark = marks.popLast() else {
            throw fail("\(Self.name(of: bytes[opcodeStart])) without a MARK")
        }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func top() throws(ToolError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else {
            throw fail("\(Self.name(of: bytes[opcodeStart])) needs a value on the stack")
        }
        return value
    }

    private mutating func memoize(_ index: Int) throws(ToolError) {
        let value = try top()
        guard memo[index] != nil || memo.count < Self.maxMemo else { throw fail("the memo exceeds \(Self.maxMemo) entries") }
        memo[index] = value
    }

    private mutating func recall(_ index: Int) throws(ToolError) {
        guard let value = memo[index] else { throw fail("memo entry \(index) was never stored") }
        try push(value)
    }

    private static func tuple(_ items: [PickleValue]) -> PickleValue {
        for item in items { item.freeze() }
        return .tuple(items, depth: 1 + (items.map(\.depth).max() ?? 0))
    }

    /// Runs to STOP and returns the pickled value.
    mutating func run() throws(ToolError) -> PickleValue {
        var executed = 0
        while true {
            guard position < bytes.count else { throw fail("the pickle ends without STOP (truncated?)") }
            executed += 1
            guard executed <= Self.maxOpcodes else { throw fail("more than \(Self.maxOpcodes) opcodes") }
            opcodeStart = position
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x80: // PROTO
                let version = try unsigned(1)
                guard version >= 2, version <= 5 else { throw fail("pickle protocol \(version) is not supported") }
            case 0x95: // FRAME: a read-ahead hint; the frame's opcodes follow inline.
                let length = try unsigned(8)
                guard length <= UInt64(bytes.count - position) else { throw fail("FRAME of \(length) bytes runs past the end (truncated?)") }
            case 0x7D: try push(.dict(PickledDict(isOrderedDict: false))) // EMPTY_DICT
            case 0x5D: try push(.list(PickledList())) // EMPTY_LIST
            case 0x29: try push(Self.tuple([])) // EMPTY_TUPLE
            case 0x28: // MARK
                guard marks.count < Self.maxMarks else { throw fail("more than \(Self.maxMarks) open MARKs") }
                marks.append(stack.count)
            case 0x58: try push(.string(try text(Int(try unsigned(4))))) // BINUNICODE
            case 0x8C: try push(.string(try text(Int(try unsigned(1))))) // SHORT_BINUNICODE
            case 0x4A: try push(.int(Int(Int32(bitPattern: UInt32(try unsigned(4)))))) // BININT
            case 0x4B: try push(.int(Int(try unsigned(1)))) // BININT1
            case 0x4D: try push(.int(Int(try unsigned(2)))) // BININT2
            case 0x8A: // LONG1: little-endian two's complement of n bytes
                let count = Int(try unsigned(1))
                guard count <= 8 else { throw fail("LONG1 of \(count) bytes does not fit in 64 bits") }
                var value = try unsigned(count)
                if count > 0, count < 8, value & (1 << (8 * UInt64(count) - 1)) != 0 {
                    value |= ~0 << (8 * UInt64(count))
                }
                try push(.int(Int(bitPattern: UInt(value))))
            case 0x47: // BINFLOAT: big-endian IEEE double
                let raw = try take(8)
                var bits: UInt64 = 0
                for byte in raw { bits = bits << 8 | UInt64(byte) }
                try push(.float(Double(bitPattern: bits)))
            case 0x88: try push(.bool(true)) // NEWTRUE
            case 0x89: try push(.bool(false)) // NEWFALSE
            case 0x4E: try push(.none) // NONE
            case 0x74: try push(Self.tuple(try popMark())) // TUPLE
            case 0x85: try push(Self.tuple([try pop()])) // TUPLE1
            case 0x86: // TUPLE2
                let second = try pop(), first = try pop()
                try push(Self.tuple([first, second]))
            case 0x87: // TUPLE3
                let third = try pop(), second = try pop(), first = try pop()
                try push(Self.tuple([first, second, third]))
            case 0x63: // GLOBAL
                let module = try line(), name = try line()
                try push(try global(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let moduleText) = module, case .string(let nameText) = name else {
                    throw fail("STACK_GLOBAL needs two strings, got \(module.kind) and \(name.kind)")
                }
                try push(try global(module: moduleText, name: nameText))
            case 0x52: // REDUCE
                let arguments = try pop(), callable = try pop()
                try push(try reduce(callable, arguments))
            case 0x62: // BUILD: only an OrderedDict's (ignored) state
                let state = try pop()
                guard case .dict(let target) = try top(), target.isOrderedDict else {
                    throw fail("BUILD on \(try top().kind) is not allowed (only on an OrderedDict)")
                }
                switch state {
                case .none, .dict: break
                case .tuple(let items, _) where items.isEmpty: break
                default: throw fail("BUILD with \(state.kind) as the state of an OrderedDict is not allowed")
                }
            case 0x51: // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x73: // SETITEM
                let value = try pop(), key = try pop()
                try insert([key, value])
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number (\(items.count)) of keys and values") }
                try insert(items)
            case 0x61: // APPEND
                let value = try pop()
                try append([value])
            case 0x65: try append(try popMark()) // APPENDS
            case 0x71: try memoize(Int(try unsigned(1))) // BINPUT
            case 0x72: try memoize(Int(try unsigned(4))) // LONG_BINPUT
            case 0x68: try recall(Int(try unsigned(1))) // BINGET
            case 0x6A: try recall(Int(try unsigned(4))) // LONG_BINGET
            case 0x94: try memoize(memo.count) // MEMOIZE
            case 0x2E: // STOP
                guard marks.isEmpty, stack.count == 1, let value = stack.last else {
                    throw fail("STOP with \(stack.count) values on the stack and \(marks.count) open MARKs; expected one value")
                }
                return value
            default:
                throw fail("opcode 0x\(String(opcode, radix: 16, uppercase: true)) (\(Self.name(of: opcode))) is not allowed in a checkpoint")
            }
        }
    }

    private func global(module: String, name: String) throws(ToolError) -> PickleValue {
        guard let allowed = AllowedGlobal.resolve(module: module, name: name) else {
            throw fail("global \(module).\(name) is not allowed; a checkpoint may only use collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch storage and dtype types (nothing is executed)")
        }
        return .global(allowed, "\(module).\(name)")
    }

    private mutating func insert(_ items: [PickleValue]) throws(ToolError) {
        guard case .dict(let dict) = try top() else {
            throw fail("\(Self.name(of: bytes[opcodeStart])) on \(try top().kind), not a dict")
        }
        guard !dict.frozen else { throw fail("\(Self.name(of: bytes[opcodeStart])) changes a dict that is already inside another value") }
        for item in items {
            if case .dict(let inner) = item, inner === dict { throw fail("a dict may not contain itself") }
            item.freeze()
        }
        var index = 0
        while index < items.count {
            dict.pairs.append((items[index], items[index + 1]))
            dict.depth = max(dict.depth, 1 + max(items[index].depth, items[index + 1].depth))
            index += 2
        }
        guard dict.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
    }

    private mutating func append(_ items: [PickleValue]) throws(ToolError) {
        guard case .list(let list) = try top() else {
            throw fail("\(Self.name(of: bytes[opcodeStart])) on \(try top().kind), not a list")
        }
        guard !list.frozen else { throw fail("\(Self.name(of: bytes[opcodeStart])) changes a list that is already inside another value") }
        for item in items {
            if case .list(let inner) = item, inner === list { throw fail("a list may not contain itself") }
            item.freeze()
            list.items.append(item)
            list.depth = max(list.depth, 1 + item.depth)
        }
        guard list.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
    }

    /// `('storage', type, key, location, numel)`: a reference to the entry `data/<key>`.
    private func persistentLoad(_ identifier: PickleValue) throws(ToolError) -> PickleValue {
        guard case .tuple(let items, _) = identifier, items.count == 5, case .string("storage") = items[0] else {
            throw fail("persistent id \(identifier.kind) is not ('storage', type, key, location, numel)")
        }
        guard case .global(.elementType(let dtype), _) = items[1] else {
            throw fail("persistent id names storage type \(items[1].kind), not a torch storage or dtype")
        }
        guard case .string(let key) = items[2], !key.isEmpty, !key.contains("/"), key != ".", key != ".." else {
            throw fail("persistent id has storage key \(items[2].kind), not a plain name")
        }
        guard case .string = items[3], case .int(let count) = items[4], count >= 0 else {
            throw fail("persistent id for storage \(key) has no location string or a bad element count")
        }
        return .storage(PickledStorage(key: key, dtype: dtype, count: count))
    }

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(ToolError) -> PickleValue {
        guard case .global(let function, let name) = callable else {
            throw fail("REDUCE calls \(callable.kind), which is not an allowed global")
        }
        guard case .tuple(let args, _) = arguments else {
            throw fail("REDUCE of \(name) with \(arguments.kind) instead of an argument tuple")
        }
        switch function {
        case .orderedDict:
            guard args.isEmpty else { throw fail("collections.OrderedDict is only accepted with no arguments") }
            return .dict(PickledDict(isOrderedDict: true))
        case .rebuildTensorV2:
            guard args.count == 6 || args.count == 7 else {
                throw fail("torch._utils._rebuild_tensor_v2 with \(args.count) arguments; expected 6 or 7")
            }
            guard case .storage(let storage) = args[0] else { throw fail("_rebuild_tensor_v2: the storage is \(args[0].kind)") }
            guard case .int(let offset) = args[1] else { throw fail("_rebuild_tensor_v2: the storage offset is \(args[1].kind)") }
            let shape = try integers(args[2], what: "size"), strides = try integers(args[3], what: "stride")
            guard case .bool = args[4] else { throw fail("_rebuild_tensor_v2: requires_grad is \(args[4].kind)") }
            guard case .dict = args[5] else { throw fail("_rebuild_tensor_v2: backward_hooks is \(args[5].kind), not an OrderedDict") }
            return .tensor(PickledTensor(storage: storage, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter:
            guard args.count == 3, case .tensor = args[0], case .bool = args[1], case .dict = args[2] else {
                throw fail("torch._utils._rebuild_parameter needs (tensor, requires_grad, backward_hooks)")
            }
            return args[0]
        case .elementType:
            throw fail("\(name) is a type tag and may not be called")
        }
    }

    private func integers(_ value: PickleValue, what: String) throws(ToolError) -> [Int] {
        guard case .tuple(let items, _) = value, items.count <= Self.maxDimensions else {
            throw fail("_rebuild_tensor_v2: the \(what) is \(value.kind), not a tuple of at most \(Self.maxDimensions) integers")
        }
        var result: [Int] = []
        for item in items {
            guard case .int(let number) = item else { throw fail("_rebuild_tensor_v2: the \(what) holds \(item.kind)") }
            result.append(number)
        }
        return result
    }

    /// Opcode names of every pickle protocol (0–5), for error messages.
    static func name(of opcode: UInt8) -> String {
        switch opcode {
        case 0x28: return "MARK"
        case 0x2E: return "STOP"
        case 0x30: return "POP"
        case 0x31: return "POP_MARK"
        case 0x32: return "DUP"
        case 0x46: return "FLOAT"
        case 0x49: return "INT"
        case 0x4A: return "BININT"
        case 0x4B: return "BININT1"
        case 0x4C: return "LONG"
        case 0x4D: return "BININT2"
        case 0x4E: return "NONE"
        case 0x50: return "PERSID"
        case 0x51: return "BINPERSID"
        case 0x52: return "REDUCE"
        case 0x53: return "STRING"
        case 0x54: return "BINSTRING"
        case 0x55: return "SHORT_BINSTRING"
        case 0x56: return "UNICODE"
        case 0x58: return "BINUNICODE"
        case 0x61: return "APPEND"
        case 0x62: return "BUILD"
        case 0x63: return "GLOBAL"
        case 0x64: return "DICT"
        case 0x7D: return "EMPTY_DICT"
        case 0x65: return "APPENDS"
        case 0x67: return "GET"
        case 0x68: return "BINGET"
        case 0x69: return "INST"
        case 0x6A: return "LONG_BINGET"
        case 0x6C: return "LIST"
        case 0x5D: return "EMPTY_LIST"
        case 0x6F: return "OBJ"
        case 0x70: return "PUT"
        case 0x71: return "BINPUT"
        case 0x72: return "LONG_BINPUT"
        case 0x73: return "SETITEM"
        case 0x74: return "TUPLE"
        case 0x29: return "EMPTY_TUPLE"
        case 0x75: return "SETITEMS"
        case 0x47: return "BINFLOAT"
        case 0x80: return "PROTO"
        case 0x81: return "NEWOBJ"
        case 0x82: return "EXT1"
        case 0x83: return "EXT2"
        case 0x84: return "EXT4"
        case 0x85: return "TUPLE1"
        case 0x86: return "TUPLE2"
        case 0x87: return "TUPLE3"
        case 0x88: return "NEWTRUE"
        case 0x89: return "NEWFALSE"
        case 0x8A: return "LONG1"
        case 0x8B: return "LONG4"
        case 0x42: return "BINBYTES"
        case 0x43: return "SHORT_BINBYTES"
        case 0x8C: return "SHORT_BINUNICODE"
        case 0x8D: return "BINUNICODE8"
        case 0x8E: return "BINBYTES8"
        case 0x8F: return "EMPTY_SET"
        case 0x90: return "ADDITEMS"
        case 0x91: return "FROZENSET"
        case 0x92: return "NEWOBJ_EX"
        case 0x93: return "STACK_GLOBAL"
        case 0x94: return "MEMOIZE"
        case 0x95: return "FRAME"
        case 0x96: return "BYTEARRAY8"
        case 0x97: return "NEXT_BUFFER"
        case 0x98: return "READONLY_BUFFER"
        default: return "unknown opcode"
        }
    }
}
