import Diagnostics
import TensorIO
import TVGeoTestSupport
import XCTest

final class SafetensorsTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("safetensors") }
    override func tearDown() { directory.remove() }

    func open(_ bytes: [UInt8], file: String = "model.safetensors") throws -> SafetensorsFile {
        try SafetensorsFile(path: directory.write(file, bytes: bytes))
    }

    /// Asserts that the bytes are refused as invalid data whose message contains `fragment`.
    func assertInvalid(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try open(bytes), file: file, line: line) { error in
            guard case .invalidData(let path, _, _) = error as? ToolError else {
                return XCTFail("expected invalid data, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(path.hasSuffix("model.safetensors"), file: file, line: line)
            XCTAssertTrue((error as! ToolError).message.contains(fragment), "\((error as! ToolError).message) lacks \(fragment)",
                          file: file, line: line)
            XCTAssertEqual((error as! ToolError).exitCode, 65, file: file, line: line)
        }
    }

    func validFile() -> [UInt8] {
        var builder = SafetensorsBuilder()
        builder.add("a", dtype: .f32, shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        builder.add("b", dtype: .f64, shape: [3], values: [0.1, -0.2, 1e-300])
        return builder.bytes()
    }

    func testReadsEveryFloatTypeInRowMajorOrder() throws {
        let values = [0.0, 1.5, -2.25, 65504, 6.103515625e-05, 3.0e-7, -0.1, 1234.5678]
        var builder = SafetensorsBuilder()
        for dtype in [SafetensorsBuilder.DType.f64, .f32, .f16, .bf16] {
            builder.add("t_\(dtype.rawValue)", dtype: dtype, shape: [2, 4], values: values)
        }
        let file = try open(builder.bytes())
        XCTAssertEqual(file.metadata["format"], "pt")
        for dtype in [SafetensorsBuilder.DType.f64, .f32, .f16, .bf16] {
            let read = try file.doubles("t_\(dtype.rawValue)")
            XCTAssertEqual(read, values.map { SafetensorsBuilder.roundTrip($0, dtype) }, "\(dtype)")
            XCTAssertEqual(file.info("t_\(dtype.rawValue)")?.shape, [2, 4])
        }
    }

    func testCopiesMatricesColumnMajorOrAsStored() throws {
        var builder = SafetensorsBuilder()
        builder.add("m", dtype: .bf16, shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        builder.add("bad", dtype: .f32, shape: [2, 3], values: [1, 2, 3, 4, .nan, 6])
        let file = try open(builder.bytes())
        var out = [Double](repeating: 0, count: 6)
        try out.withUnsafeMutableBufferPointer { try file.copyMatrix("m", into: $0, layout: .columnMajor) }
        XCTAssertEqual(out, [1, 4, 2, 5, 3, 6])
        try out.withUnsafeMutableBufferPointer { try file.copyMatrix("m", into: $0, layout: .asStored) }
        XCTAssertEqual(out, [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer { try file.copyMatrix("bad", into: $0, layout: .columnMajor) }) { error in
            XCTAssertTrue("\(error)".contains("element 4 (of 6)"), "the file's index, not the destination's: \(error)")
        }
    }

    func testHalfPrecisionSpecialValues() throws {
        var builder = SafetensorsBuilder()
        builder.add("h", dtype: .f16, shape: [3], values: [5.960464477539063e-08, -0.0, 0.333251953125])
        XCTAssertEqual(try open(builder.bytes()).doubles("h"), [5.960464477539063e-08, -0.0, 0.333251953125])
    }

    func testRefusesNonFiniteWeightsNamingTheTensor() throws {
        for bad in [Double.nan, .infinity, -.infinity] {
            var builder = SafetensorsBuilder()
            builder.add("layer.lora_A.weight", dtype: .f32, shape: [2], values: [1, bad])
            let file = try open(builder.bytes())
            XCTAssertThrowsError(try file.doubles("layer.lora_A.weight")) { error in
                XCTAssertEqual((error as? ToolError)?.exitCode, 65)
                XCTAssertTrue("\(error)".contains("layer.lora_A.weight") && "\(error)".contains("element 1"), "\(error)")
            }
        }
    }

    func testTruncationAtEveryRegionIsRefused() {
        let bytes = validFile()
        let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
        for cut in [0, 4, 7, 8, 20, headerEnd - 1, headerEnd, headerEnd + 5, bytes.count - 1] {
            XCTAssertThrowsError(try open(Array(bytes.prefix(cut))), "cut at \(cut)") { error in
                XCTAssertEqual((error as? ToolError)?.exitCode, 65, "cut at \(cut): \(error)")
            }
        }
    }

    func testHeaderLengthBeyondFileOrLimit() {
        assertInvalid(SafetensorsBuilder.raw(header: "{}", data: [], declaredLength: 1_000), "exceeds the file size")
        assertInvalid(SafetensorsBuilder.raw(header: "{}", data: [], declaredLength: UInt64.max), "exceeds the 100000000-byte limit")
    }

    func testInvalidHeaderText() {
        assertInvalid(SafetensorsBuilder.raw(header: "{\"a\": ", data: []), "invalid JSON")
        var bytes = SafetensorsBuilder.raw(header: "{\"\u{E9}\":1}", data: [])
        bytes[10] = 0xFF  // break the UTF-8 of the key
        assertInvalid(bytes, "UTF-8")
        assertInvalid(SafetensorsBuilder.raw(header: "[1, 2]", data: []), "not a JSON object")
    }

    func entry(_ dtype: String = "F32", shape: String = "[2]", offsets: String = "[0, 8]", extra: String = "") -> String {
        "{\"t\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": \(offsets)\(extra)}}"
    }

    func testEntryFieldsAreChecked() {
        let data = [UInt8](repeating: 0, count: 8)
        assertInvalid(SafetensorsBuilder.raw(header: "{\"t\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", data: data), "dtype")
        assertInvalid(SafetensorsBuilder.raw(header: "{\"t\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", data: data), "shape")
        assertInvalid(SafetensorsBuilder.raw(header: "{\"t\": {\"dtype\": \"F32\", \"shape\": [2]}}", data: data), "data_offsets")
        assertInvalid(SafetensorsBuilder.raw(header: entry(extra: ", \"x\": 1"), data: data), "unexpected key \"x\"")
        assertInvalid(SafetensorsBuilder.raw(header: entry("F12"), data: data), "unknown dtype \"F12\"")
        assertInvalid(SafetensorsBuilder.raw(header: entry(shape: "[-2]"), data: data), "non-negative integer")
        assertInvalid(SafetensorsBuilder.raw(header: entry(shape: "[2.0]"), data: data), "non-negative integer")
        assertInvalid(SafetensorsBuilder.raw(header: entry(shape: "[4294967296, 4294967296, 4294967296]"), data: data),
                      "more bytes than the data section")
        assertInvalid(SafetensorsBuilder.raw(header: entry(shape: "[3]"), data: data), "needs 12 bytes but data_offsets span 8")
        assertInvalid(SafetensorsBuilder.raw(header: entry(offsets: "[0, 16]"), data: data), "outside the data section")
        assertInvalid(SafetensorsBuilder.raw(header: entry(offsets: "[8, 0]"), data: data), "outside the data section")
        assertInvalid(SafetensorsBuilder.raw(header: entry(offsets: "[0]"), data: data), "two integers")
        assertInvalid(SafetensorsBuilder.raw(header: "{\"__metadata__\": {\"a\": 1}}", data: []), "metadata values must be strings")
    }

    func testOffsetsMustTileTheDataSection() {
        let overlap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                      + "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}"
        assertInvalid(SafetensorsBuilder.raw(header: overlap, data: [UInt8](repeating: 0, count: 12)), "overlap")
        let gap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
                  + "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}"
        assertInvalid(SafetensorsBuilder.raw(header: gap, data: [UInt8](repeating: 0, count: 12)), "belong to no tensor")
        assertInvalid(SafetensorsBuilder.raw(header: entry(), data: [UInt8](repeating: 0, count: 12)),
                      "tensors cover 8 bytes but the data section holds 12")
    }

    func testMissingFileAndDirectoryAreMissingInput() {
        XCTAssertThrowsError(try SafetensorsFile(path: directory.path + "/absent.safetensors")) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66)
            XCTAssertTrue("\(error)".contains("absent.safetensors: no such file"), "\(error)")
        }
        XCTAssertThrowsError(try SafetensorsFile(path: directory.path)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66)
            XCTAssertTrue("\(error)".contains("is a directory"), "\(error)")
        }
    }

    func testPathsThatCannotBeReadAreMissingInput() throws {
        let file = directory.write("plain.safetensors", bytes: validFile())
        XCTAssertThrowsError(try SafetensorsFile(path: file + "/child.safetensors")) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66, "\(error)")
        }
        // A FIFO must be refused, not opened (reading it would block forever).
        let fifo = directory.path + "/pipe.safetensors"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try SafetensorsFile(path: fifo)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66)
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testNonFloatTensorsAreValidatedButNotReadAsNumbers() throws {
        var builder = SafetensorsBuilder()
        builder.add("ids", dtype: .i64, shape: [3], values: [1, 2, 3])
        let file = try open(builder.bytes())
        XCTAssertEqual(file.info("ids")?.dtype, .i64)
        XCTAssertThrowsError(try file.doubles("ids")) { error in
            XCTAssertTrue("\(error)".contains("I64"), "\(error)")
        }
    }
}
