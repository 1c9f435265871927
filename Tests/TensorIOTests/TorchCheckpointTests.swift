import Diagnostics
import Foundation
import JSONText
@testable import TensorIO
import TVGeoTestSupport
import XCTest

/// PyTorch `.bin` checkpoints: the fixtures of `scripts/make_bin_fixtures.py` (values in
/// `expected.json`), hand-built archives and pickles for every refusal, and the real MiniLM
/// adapters against their safetensors twins.
final class TorchCheckpointTests: XCTestCase {
    let fixtures = repositoryRoot + "/Tests/Fixtures/bin"

    // MARK: Helpers

    /// The error thrown by opening `path`, or a failure if it opens.
    func openError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> ToolError? {
        do {
            _ = try TorchCheckpoint(path: path)
            XCTFail("\(path) opened but should have been refused", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func assertRefused(_ path: String, code: Int32 = 65, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        guard let error = openError(path, file: file, line: line) else { return }
        XCTAssertEqual(error.exitCode, code, error.message, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    func temporaryFile(_ bytes: [UInt8], name: String = "checkpoint.bin") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A ZIP archive of stored entries (CRCs left zero: the reader does not check them).
    static func zip(_ entries: [(String, [UInt8])], method: UInt16 = 0, zip64: Bool = false) -> [UInt8] {
        func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
        func le64(_ value: Int) -> [UInt8] { (0..<8).map { UInt8(value >> (8 * $0) & 0xFF) } }
        var out: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in entries {
            let offset = out.count
            let nameBytes = Array(name.utf8)
            let local = le16(20) + le16(0) + le16(Int(method)) + le16(0) + le16(0) + le32(0) + le32(data.count) + le32(data.count)
                + le16(nameBytes.count) + le16(0)
            out += le32(0x0403_4b50) + local + nameBytes + data
            if zip64 {
                // Sizes and offset only in the ZIP64 extra field.
                let extra = le16(1) + le16(24) + le64(data.count) + le64(data.count) + le64(offset)
                directory += le32(0x0201_4b50) + le16(45) + le16(45) + le16(0) + le16(Int(method)) + le16(0) + le16(0) + le32(0)
                    + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(nameBytes.count) + le16(extra.count)
                    + le16(0) + le16(0) + le16(0) + le32(0) + le32(0xFFFF_FFFF) + nameBytes + extra
            } else {
                directory += le32(0x0201_4b50) + le16(20) + local + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
            }
        }
        let directoryOffset = out.count
        out += directory
        if zip64 {
            let record = out.count
            out += le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
                + le64(entries.count) + le64(entries.count) + le64(directory.count) + le64(directoryOffset)
            out += le32(0x0706_4b50) + le32(0) + le64(record) + le32(1)
            out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF)
                + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(0)
        } else {
            out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
                + le32(directory.count) + le32(directoryOffset) + le16(0)
        }
        return out
    }

    /// Pickle bytes, protocol 2, written opcode by opcode.
    struct Pickle {
        var bytes: [UInt8] = [0x80, 0x02]
        mutating func op(_ codes: UInt8...) { bytes += codes }
        mutating func string(_ text: String) {
            let utf8 = Array(text.utf8)
            bytes += [0x58] + (0..<4).map { UInt8(utf8.count >> (8 * $0) & 0xFF) } + utf8
        }
        mutating func int(_ value: Int) { bytes += [0x4A] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        mutating func ints(_ values: [Int]) {
            op(0x28)
            for value in values { int(value) }
            op(0x74)
        }

        /// `{name: _rebuild_tensor_v2(storage(key), offset, size, stride, False, OrderedDict())}`.
        static func stateDict(_ tensors: [(name: String, storage: (String, String), key: String, numel: Int, offset: Int,
                                           size: [Int], stride: [Int])]) -> [UInt8] {
            var pickle = Pickle()
            pickle.op(0x7D, 0x28) // EMPTY_DICT MARK
            for tensor in tensors {
                pickle.string(tensor.name)
                pickle.global("torch._utils", "_rebuild_tensor_v2")
                pickle.op(0x28, 0x28) // MARK (args) MARK (persistent id)
                pickle.string("storage")
                pickle.global(tensor.storage.0, tensor.storage.1)
                pickle.string(tensor.key)
                pickle.string("cpu")
                pickle.int(tensor.numel)
                pickle.op(0x74, 0x51) // TUPLE BINPERSID
                pickle.int(tensor.offset)
                pickle.ints(tensor.size)
                pickle.ints(tensor.stride)
                pickle.op(0x89) // NEWFALSE
                pickle.global("collections", "OrderedDict")
                pickle.op(0x29, 0x52, 0x74, 0x52) // EMPTY_TUPLE REDUCE TUPLE REDUCE
            }
            pickle.op(0x75, 0x2E) // SETITEMS STOP
            return pickle.bytes
        }
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(value.bitPattern >> (8 * UInt32($0)) & 0xFF) } }
    }

    func archive(pickle: [UInt8], storages: [String: [UInt8]] = [:], folder: String = "model", byteOrder: String = "little") throws -> String {
        var entries = [(folder + "/data.pkl", pickle), (folder + "/byteorder", Array(byteOrder.utf8))]
        for key in storages.keys.sorted() { entries.append((folder + "/data/" + key, storages[key]!)) }
        entries.append((folder + "/version", Array("3\n".utf8)))
        return try temporaryFile(Self.zip(entries))
    }

    func expectedFixtures() throws -> [(String, JSONValue)] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/expected.json"))
        return try XCTUnwrap(try JSONParser.parse(Array(bytes)).objectPairs)
    }

    // MARK: Fixtures written by torch.save

    func testFixturesMatchTheValuesTorchWrote() throws {
        let expected = try expectedFixtures()
        XCTAssertEqual(Set(expected.map(\.0)), ["shared", "transposed", "offset", "f16", "bf16", "f64", "module", "parameter", "proto4"])
        for (fixture, tensors) in expected {
            let checkpoint = try TorchCheckpoint(path: "\(fixtures)/\(fixture).bin")
            XCTAssertEqual(checkpoint.archiveFolder, fixture)
            let pairs = try XCTUnwrap(tensors.objectPairs)
            XCTAssertEqual(Set(checkpoint.tensors.map(\.name)), Set(pairs.map(\.0)), fixture)
            for (name, description) in pairs {
                let info = try XCTUnwrap(checkpoint.info(name), "\(fixture): \(name)")
                XCTAssertEqual(info.dtype.rawValue, description["dtype"]?.stringValue, "\(fixture): \(name)")
                XCTAssertEqual(info.shape, description["shape"]?.arrayValue?.compactMap(\.intValue), "\(fixture): \(name)")
                let values = try XCTUnwrap(description["values"]?.arrayValue?.compactMap(\.numberValue))
                XCTAssertEqual(try checkpoint.doubles(name), values, "\(fixture): \(name)")
                if info.shape.count == 2 {
                    let rows = info.shape[0], cols = info.shape[1]
                    var columnMajor = [Double](repeating: .nan, count: values.count)
                    try columnMajor.withUnsafeMutableBufferPointer { buffer in
                        try checkpoint.copyMatrix(name, into: buffer, layout: .columnMajor)
                    }
                    for i in 0..<rows {
                        for c in 0..<cols { XCTAssertEqual(columnMajor[c * rows + i], values[i * cols + c], "\(fixture): \(name)[\(i), \(c)]") }
                    }
                }
            }
        }
    }

    func testViewsSharingOneStorage() throws {
        let checkpoint = try TorchCheckpoint(path: fixtures + "/shared.bin")
        let weight = try XCTUnwrap(checkpoint.view("weight")), row = try XCTUnwrap(checkpoint.view("row"))
        let again = try XCTUnwrap(checkpoint.view("again"))
        XCTAssertEqual(weight.storageKey, row.storageKey)
        XCTAssertEqual(weight.storageKey, again.storageKey)
        XCTAssertEqual(row.storageOffset, 4)
        XCTAssertEqual(try checkpoint.doubles("row"), Array(try checkpoint.doubles("weight")[4..<8]))
    }

    func testTransposedAndSlicedViews() throws {
        let transposed = try TorchCheckpoint(path: fixtures + "/transposed.bin")
        let view = try XCTUnwrap(transposed.view("t"))
        XCTAssertEqual(view.shape, [4, 3])
        XCTAssertEqual(view.strides, [1, 4])
        XCTAssertFalse(view.isContiguous)
        let sliced = try TorchCheckpoint(path: fixtures + "/offset.bin")
        let block = try XCTUnwrap(sliced.view("block"))
        XCTAssertEqual(block.storageOffset, 7)
        XCTAssertEqual(block.strides, [5, 1])
        XCTAssertEqual(sliced.view("slice")?.storageOffset, 3)
    }

    func testRawBytesAreTheViewsElementsAsSafetensorsStoresThem() throws {
        // Every fixture (strided, offset, shared, F16, BF16, F64): the bytes of its values in its dtype.
        for (fixture, _) in try expectedFixtures() {
            let checkpoint = try TorchCheckpoint(path: "\(fixtures)/\(fixture).bin")
            for tensor in checkpoint.tensors {
                let encoded = try TensorRecord(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                               values: try checkpoint.doubles(tensor.name), file: fixture).bytes
                XCTAssertEqual(try checkpoint.rawBytes(tensor.name), encoded, "\(fixture): \(tensor.name)")
            }
        }
        // Integers are copied too: a 2 × 2 view with stride (1, 3) at offset 1 of six int64 values.
        let pickle = Pickle.stateDict([("m", ("torch", "LongStorage"), "k", 6, 1, [2, 2], [1, 3])])
        let int64s: (([Int64]) -> [UInt8]) = { $0.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * Int64($0))) } } }
        let checkpoint = try TorchCheckpoint(path: try archive(pickle: pickle, storages: ["k": int64s([10, 11, 12, 13, 14, -15])]))
        XCTAssertEqual(checkpoint.info("m")?.dtype, .i64)
        XCTAssertEqual(try checkpoint.rawBytes("m"), int64s([11, 14, 12, -15]))
        XCTAssertThrowsError(try checkpoint.rawBytes("missing"))
    }

    /// Bool and uint8 storages are read with their dtype and copied byte for byte; they are not
    /// floating-point weights, so reading them as numbers is refused naming the tensor.
    func testBoolAndByteStoragesKeepTheirBytes() throws {
        let pickle = Pickle.stateDict([("mask", ("torch", "BoolStorage"), "b", 4, 0, [2, 2], [2, 1]),
                                       ("ids", ("torch", "ByteStorage"), "u", 3, 0, [3], [1])])
        let checkpoint = try TorchCheckpoint(path: try archive(pickle: pickle, storages: ["b": [1, 0, 0, 1], "u": [7, 255, 0]]))
        XCTAssertEqual(checkpoint.info("mask")?.dtype, .bool)
        XCTAssertEqual(checkpoint.info("mask")?.shape, [2, 2])
        XCTAssertEqual(try checkpoint.rawBytes("mask"), [1, 0, 0, 1])
        XCTAssertEqual(checkpoint.info("ids")?.dtype, .u8)
        XCTAssertEqual(try checkpoint.rawBytes("ids"), [7, 255, 0])
        XCTAssertThrowsError(try checkpoint.doubles("mask")) { error in
            XCTAssertTrue("\(error)".contains("mask"), "\(error)")
        }
    }

    /// A big-endian checkpoint (torch.save on a big-endian machine) is refused by name, never
    /// read with its bytes swapped.
    func testBigEndianCheckpointsAreRefused() throws {
        let pickle = Pickle.stateDict([("w", ("torch", "FloatStorage"), "k", 1, 0, [1], [1])])
        let path = try archive(pickle: pickle, storages: ["k": [0, 0, 0x80, 0x3F]], byteOrder: "big")
        XCTAssertThrowsError(try TorchCheckpoint(path: path)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            XCTAssertTrue("\(error)".contains("byte order is \"big\"; only little-endian checkpoints are supported"), "\(error)")
        }
    }

    func testTorchSourceProtocolCoversBothFormats() throws {
        let sources: [any TensorSource] = [try TorchCheckpoint(path: fixtures + "/f64.bin")]
        XCTAssertEqual(sources[0].tensors.map(\.name).sorted(), ["d", "scalar"])
        XCTAssertEqual(try sources[0].doubles("scalar"), [2.5])
    }

    // MARK: Refusals

    func testMaliciousPickleIsRefusedAndNothingRuns() throws {
        let marker = "/tmp/tvgeo-pwned"
        unlink(marker)
        assertRefused(fixtures + "/malicious.bin", "malicious.bin", "malicious/data.pkl", "posix.system", "not allowed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(marker) exists: something was executed")
    }

    func testOtherGlobalsAreRefusedByName() throws {
        var pickle = Pickle()
        pickle.string("builtins")
        pickle.string("eval")
        pickle.op(0x93) // STACK_GLOBAL
        assertRefused(try archive(pickle: pickle.bytes), "builtins.eval")
        var system = Pickle()
        system.global("os", "system")
        assertRefused(try archive(pickle: system.bytes), "os.system")
        // A storage type may not be called.
        var call = Pickle()
        call.global("torch", "FloatStorage")
        call.op(0x29, 0x52, 0x2E)
        assertRefused(try archive(pickle: call.bytes), "torch.FloatStorage", "may not be called")
    }

    func testOpcodesOutsideTheSetAreRefusedWithTheirName() throws {
        for (code, name) in [(UInt8(0x81), "NEWOBJ"), (0x69, "INST"), (0x6F, "OBJ"), (0x92, "NEWOBJ_EX"), (0x50, "PERSID"),
                             (0x32, "DUP"), (0xFF, "unknown opcode")] {
            var pickle = Pickle()
            pickle.op(0x4E, code)
            assertRefused(try archive(pickle: pickle.bytes), "opcode 0x\(String(code, radix: 16, uppercase: true)) (\(name))")
        }
    }

    func testLegacyAndNonZipFiles() throws {
        assertRefused(fixtures + "/legacy.bin",
                      "legacy torch.save format; re-save with torch.save(..., _use_new_zipfile_serialization=True) or convert to safetensors")
        assertRefused(try temporaryFile(Array("hello, world".utf8)), "not a ZIP archive", "convert to safetensors")
        assertRefused(try temporaryFile([]), "empty")
        assertRefused("/nonexistent/adapter_model.bin", code: 66, "no such file")
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/shared.bin")))
        assertRefused(fixtures + "/truncated.bin", "truncated")
        let path = try temporaryFile([])
        for length in 1..<whole.count {
            try Data(whole[0..<length]).write(to: URL(fileURLWithPath: path))
            guard let error = openError(path) else { return }
            XCTAssertEqual(error.exitCode, 65, "\(length): \(error.message)")
        }
        // Every prefix of a pickle inside a well-formed archive.
        let pickle = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 4, 0, [2, 2], [2, 1])])
        for length in 0..<(pickle.count - 1) {
            let error = openError(try archive(pickle: Array(pickle[0..<length]), storages: ["0": Self.floats([1, 2, 3, 4])]))
            XCTAssertEqual(error?.exitCode, 65, "\(length): \(error?.message ?? "")")
        }
    }

    func testStoragesAndViewsAreBoundsChecked() throws {
        let data = Self.floats([1, 2, 3, 4, 5, 6])
        // numel × element size beyond the entry.
        let tooMany = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 7, 0, [7], [1])])
        assertRefused(try archive(pickle: tooMany, storages: ["0": data]), "w: storage 0 declares 7 F32 elements but model/data/0 holds 24 bytes")
        // A view reaching past numel, by offset or by stride.
        let offset = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 6, 3, [2, 2], [2, 1])])
        assertRefused(try archive(pickle: offset, storages: ["0": data]), "reaches element 6 of storage 0, which holds 6 elements")
        let stride = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 6, 0, [3], [3])])
        assertRefused(try archive(pickle: stride, storages: ["0": data]), "reaches element 6")
        let negative = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 6, 0, [3], [-1])])
        assertRefused(try archive(pickle: negative, storages: ["0": data]), "negative")
        let missing = Pickle.stateDict([("w", ("torch", "FloatStorage"), "9", 6, 0, [3], [1])])
        assertRefused(try archive(pickle: missing, storages: ["0": data]), "no archive entry model/data/9")
        let escape = Pickle.stateDict([("w", ("torch", "FloatStorage"), "../0", 6, 0, [3], [1])])
        assertRefused(try archive(pickle: escape, storages: ["0": data]), "not a plain name")
    }

    func testBroadcastViewsAreCapped() throws {
        let data = Self.floats([7])
        let broadcast = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 1, 0, [2, 3], [0, 0])])
        XCTAssertEqual(try TorchCheckpoint(path: try archive(pickle: broadcast, storages: ["0": data])).doubles("w"), [7, 7, 7, 7, 7, 7])
        let huge = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 1, 0, [1 << 30, 1 << 30], [0, 0])])
        assertRefused(try archive(pickle: huge, storages: ["0": data]), "more than the file could describe")
    }

    /// Random byte changes anywhere in a real fixture: every outcome is a value or a ToolError, never a crash.
    func testCorruptedFixturesNeverCrash() throws {
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/offset.bin")))
        let path = try temporaryFile([])
        var random = SeededRandom(seed: 20261127)
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            guard let checkpoint = try? TorchCheckpoint(path: path) else { continue }
            for tensor in checkpoint.tensors { _ = try? checkpoint.doubles(tensor.name) }
        }
    }

    func testDtypeGlobalsAndAStridedGatherFromAHandWrittenPickle() throws {
        // torch.float32 as the storage type (newer torch), a custom folder name, a 2 × 2 view with
        // stride (1, 3) at offset 1 of a 6-element storage: elements 1, 4 / 2, 5.
        let pickle = Pickle.stateDict([("m", ("torch", "float32"), "k", 6, 1, [2, 2], [1, 3]),
                                       ("all", ("torch", "FloatStorage"), "k", 6, 0, [6], [1])])
        let path = try archive(pickle: pickle, storages: ["k": Self.floats([0, 1, 2, 3, 4, 5])], folder: "some_name")
        let checkpoint = try TorchCheckpoint(path: path)
        XCTAssertEqual(checkpoint.archiveFolder, "some_name")
        XCTAssertEqual(checkpoint.tensors.map(\.name), ["m", "all"])
        XCTAssertEqual(try checkpoint.doubles("m"), [1, 4, 2, 5])
        var columnMajor = [Double](repeating: 0, count: 4)
        try columnMajor.withUnsafeMutableBufferPointer { try checkpoint.copyMatrix("m", into: $0, layout: .columnMajor) }
        XCTAssertEqual(columnMajor, [1, 2, 4, 5])
        XCTAssertEqual(try checkpoint.doubles("all"), [0, 1, 2, 3, 4, 5])
    }

    func testZip64RecordsAreRead() throws {
        let pickle = Pickle.stateDict([("w", ("torch", "DoubleStorage"), "0", 2, 0, [2], [1])])
        let values: [Double] = [0.5, -3]
        let data = values.flatMap { value in (0..<8).map { UInt8(value.bitPattern >> (8 * UInt64($0)) & 0xFF) } }
        let bytes = Self.zip([("z/data.pkl", pickle), ("z/data/0", data)], zip64: true)
        let checkpoint = try TorchCheckpoint(path: try temporaryFile(bytes))
        XCTAssertEqual(try checkpoint.doubles("w"), values)
        // A ZIP64 end record pointing past the file is refused, not followed.
        var broken = bytes
        let locator = broken.count - 22 - 20
        broken[locator + 8] = 0xF0
        broken[locator + 12] = 0x7F
        assertRefused(try temporaryFile(broken), "ZIP64 end-of-central-directory offset")
    }

    func testNonFiniteValuesAreRefusedNamingTheElement() throws {
        let pickle = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 3, 0, [3], [1])])
        let checkpoint = try TorchCheckpoint(path: try archive(pickle: pickle, storages: ["0": Self.floats([1, .nan, 3])]))
        XCTAssertThrowsError(try checkpoint.doubles("w")) { error in
            let message = (error as? ToolError)?.message ?? ""
            XCTAssertTrue(message.contains("checkpoint.bin: w: element 1 (of 3) is nan; weights must be finite"), message)
        }
    }

    func testCompressedEntriesAndBadStructureAreRefused() throws {
        let pickle = Pickle.stateDict([("w", ("torch", "FloatStorage"), "0", 1, 0, [1], [1])])
        let compressed = Self.zip([("m/data.pkl", pickle), ("m/data/0", Self.floats([1]))], method: 8)
        assertRefused(try temporaryFile(compressed), "m/data.pkl: entry is compressed (ZIP method 8)")
        assertRefused(try temporaryFile(Self.zip([("m/other.txt", [1, 2, 3])])), "no <folder>/data.pkl entry")
        // Not a dict at the top; non-tensor values; deep nesting.
        var list = Pickle()
        list.op(0x5D, 0x2E)
        assertRefused(try archive(pickle: list.bytes), "a list, not a dict of tensors")
        var notTensor = Pickle()
        notTensor.op(0x7D)
        notTensor.string("step")
        notTensor.int(3)
        notTensor.op(0x73, 0x2E)
        assertRefused(try archive(pickle: notTensor.bytes), "step: value is an int, not a tensor")
        var deep = Pickle()
        deep.op(0x29)
        for _ in 0..<100 { deep.op(0x85) }
        deep.op(0x2E)
        assertRefused(try archive(pickle: deep.bytes), "nest deeper than 64")
        var unbalanced = Pickle()
        unbalanced.op(0x28, 0x85)
        assertRefused(try archive(pickle: unbalanced.bytes), "TUPLE1 pops from an empty stack")
        // Containers cannot be changed once inside another value, nor hold themselves.
        var late = Pickle()
        late.op(0x7D, 0x94, 0x85, 0x68, 0, 0x4E, 0x4E, 0x73, 0x2E) // EMPTY_DICT MEMOIZE TUPLE1 BINGET 0 NONE NONE SETITEM
        assertRefused(try archive(pickle: late.bytes), "SETITEM changes a dict that is already inside another value")
        var selfish = Pickle()
        selfish.op(0x5D, 0x94, 0x68, 0, 0x61, 0x2E) // EMPTY_LIST MEMOIZE BINGET 0 APPEND
        assertRefused(try archive(pickle: selfish.bytes), "a list may not contain itself")
        var build = Pickle()
        build.op(0x7D, 0x4E, 0x62, 0x2E) // BUILD on a plain dict
        assertRefused(try archive(pickle: build.bytes), "BUILD on a dict is not allowed")
        var memo = Pickle()
        memo.op(0x68, 7)
        assertRefused(try archive(pickle: memo.bytes), "memo entry 7 was never stored")
    }

    // MARK: Real adapters

    func testRealBinAdaptersEqualTheirSafetensorsTwins() throws {
        let data = realDataPath
        for task in ["emotion", "sst2"] {
            let bin = try TorchCheckpoint(path: "\(data)/minilm-glue8-bin/\(task)/adapter_model.bin")
            let safetensors = try SafetensorsFile(path: "\(repositoryRoot)/examples/minilm-glue8/adapters/\(task)/adapter_model.safetensors")
            XCTAssertEqual(bin.tensors.map(\.name).sorted(), safetensors.tensors.map(\.name).sorted(), task)
            XCTAssertFalse(bin.tensors.isEmpty)
            for tensor in safetensors.tensors {
                let info = try XCTUnwrap(bin.info(tensor.name), "\(task): \(tensor.name)")
                XCTAssertEqual(info.dtype, tensor.dtype, "\(task): \(tensor.name)")
                XCTAssertEqual(info.shape, tensor.shape, "\(task): \(tensor.name)")
                XCTAssertEqual(try bin.doubles(tensor.name), try safetensors.doubles(tensor.name), "\(task): \(tensor.name)")
                if tensor.shape.count == 2 {
                    var fromBin = [Double](repeating: 0, count: tensor.elementCount), fromSafetensors = fromBin
                    try fromBin.withUnsafeMutableBufferPointer { try bin.copyMatrix(tensor.name, into: $0, layout: .columnMajor) }
                    try fromSafetensors.withUnsafeMutableBufferPointer { try safetensors.copyMatrix(tensor.name, into: $0, layout: .columnMajor) }
                    XCTAssertEqual(fromBin, fromSafetensors, "\(task): \(tensor.name)")
                }
            }
        }
    }
}
