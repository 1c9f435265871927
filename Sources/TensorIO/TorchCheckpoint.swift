#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics

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
/// pickle is interpreted by a small machine (`PickleMachine`) that knows only the opcodes a state
/// dict needs and builds values from an allow-list of globals (`collections.OrderedDict`,
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

    /// The view's elements in row-major order, each `dtype.byteSize` little-endian bytes as stored
    /// (any dtype, integers and bools included): the bytes a safetensors file holds for the tensor.
    /// Strided views are gathered element by element; bounds were checked at load.
    public func rawBytes(_ name: String) throws(ToolError) -> [UInt8] {
        guard let position = index[name] else {
            throw .invalidData(file: path, location: name, problem: "no such tensor")
        }
        let view = views[position]
        guard let base = file.bytes.baseAddress, let entry = storages[view.storageKey] else {
            throw .internalError("\(path): \(name): storage \(view.storageKey) is not mapped")
        }
        let size = view.dtype.byteSize, count = view.elementCount
        var out = [UInt8](repeating: 0, count: count * size)
        let start = UnsafeRawPointer(base + entry.lowerBound)
        out.withUnsafeMutableBytes { destination in
            guard count > 0, let target = destination.baseAddress else { return }
            if view.isContiguous {
                target.copyMemory(from: start + view.storageOffset * size, byteCount: count * size)
                return
            }
            var counter = [Int](repeating: 0, count: view.shape.count)
            var element = view.storageOffset
            for k in 0..<count {
                (target + k * size).copyMemory(from: start + element * size, byteCount: size)
                var dimension = view.shape.count - 1
                while dimension >= 0 {
                    counter[dimension] += 1
                    element += view.strides[dimension]
                    if counter[dimension] < view.shape[dimension] { break }
                    element -= view.strides[dimension] * view.shape[dimension]
                    counter[dimension] = 0
                    dimension -= 1
                }
            }
        }
        file.release(tensors[position].byteRange)
        return out
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
    /// 0x1950a86a20f9469cfc6c (10 bytes, little-endian).
    static let legacyPrefix: [UInt8] = [PickleOpcode.proto.rawValue, 0x02, PickleOpcode.long1.rawValue, 0x0a,
                                        0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    private static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ToolError)
        -> (folder: String, views: [TorchTensorView], storages: [String: Range<Int>])
    {
        if bytes.count >= legacyPrefix.count, Array(bytes[0..<legacyPrefix.count]) == legacyPrefix {
            throw .invalidData(file: path, location: nil, problem: "pre-1.6 \(conversionAdvice)")
        }
        if bytes.count >= 4, bytes[0] != 0x50 || bytes[1] != 0x4b {
            throw .invalidData(file: path, location: nil,
                               problem: "not a ZIP archive (a PyTorch .bin checkpoint written by torch.save since 1.6 is one); "
                                        + "if it is a \(conversionAdvice)")
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
                throw .invalidData(file: path, location: order.name,
                                   problem: "byte order is \"\(text.prefix(20))\"; only little-endian checkpoints are supported")
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
                                   problem: "storage \(storage.key) is read as \(storage.dtype.rawValue) here "
                                            + "but as \(known.dtype.rawValue) by another tensor")
            }
            let size = storage.dtype.byteSize
            let (needed, overflow) = storage.count.multipliedReportingOverflow(by: size)
            guard !overflow, needed <= entry.data.count else {
                throw .invalidData(file: path, location: name,
                                   problem: "storage \(storage.key) declares \(storage.count) \(storage.dtype.rawValue) elements "
                                            + "but \(entryName) holds \(entry.data.count) bytes")
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
                               problem: "view of size \(view.shape) with stride \(view.strides) has \(count) elements, "
                                        + "more than the file could describe (\(fileSize) bytes)")
        }
        if count == 0 {
            guard view.storageOffset <= storageCount else {
                throw .invalidData(file: path, location: view.name,
                                   problem: "storage offset \(view.storageOffset) lies past the end of storage \(view.storageKey) "
                                            + "(\(storageCount) elements)")
            }
            return
        }
        guard last < storageCount else {
            throw .invalidData(file: path, location: view.name,
                               problem: "view (offset \(view.storageOffset), size \(view.shape), stride \(view.strides)) "
                                        + "reaches element \(last) of storage \(view.storageKey), which holds \(storageCount) elements")
        }
    }
}
