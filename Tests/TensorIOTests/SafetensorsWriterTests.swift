import Diagnostics
import Foundation
import JSONText
import TensorIO
import TVGeoTestSupport
import XCTest

final class SafetensorsWriterTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("writer") }
    override func tearDown() { directory.remove() }

    func write(_ tensors: [TensorRecord], metadata: [String: String] = ["format": "pt"],
               name: String = "out.safetensors") throws -> (SafetensorsFile, [UInt8]) {
        let path = directory.path + "/" + name
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (try SafetensorsFile(path: path), bytes)
    }

    /// The header as written: its length, its text and the parsed object.
    func header(_ bytes: [UInt8]) throws -> (length: Int, text: String, value: JSONValue) {
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let text = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        return (length, text, try JSONParser.parse(text))
    }

    func testEveryDtypeRoundTripsThroughTheReader() throws {
        var random = SeededRandom(seed: 7)
        let values = [0, -0.0, 1, -2.5, 65504, 1e-7, 6.1e-5, 3.0e-8, 1234.5678, -0.1] + random.gaussians(14)
        var tensors: [TensorRecord] = []
        for dtype in TensorDType.allCases {
            if dtype.isReadableAsFloat {
                tensors.append(try TensorRecord(name: "float.\(dtype.rawValue)", dtype: dtype, shape: [2, 3, 4], values: values, file: "test"))
            } else {
                let bytes = (0..<(12 * dtype.byteSize)).map { _ in UInt8.random(in: 0...255, using: &random) }
                tensors.append(TensorRecord(name: "raw.\(dtype.rawValue)", dtype: dtype, shape: [3, 4], bytes: bytes))
            }
        }
        let (file, _) = try write(tensors.shuffled(using: &random))
        XCTAssertEqual(file.tensors.count, TensorDType.allCases.count)
        for tensor in tensors {
            let info = try XCTUnwrap(file.info(tensor.name))
            XCTAssertEqual(info.dtype, tensor.dtype)
            XCTAssertEqual(info.shape, tensor.shape)
            XCTAssertEqual(try file.rawBytes(tensor.name), tensor.bytes, tensor.name)
            XCTAssertEqual(info.byteRange.lowerBound % tensor.dtype.byteSize, 0, "\(tensor.name) is aligned to its element size")
            if tensor.dtype.isReadableAsFloat {
                let read = try file.doubles(tensor.name)
                XCTAssertEqual(read, values.map(tensor.dtype.nearest), tensor.name)
                // The test builder's independent encoders agree (no value here is a double-rounding case).
                let builderType = SafetensorsBuilder.DType(rawValue: tensor.dtype.rawValue)!
                XCTAssertEqual(read, values.map { SafetensorsBuilder.roundTrip($0, builderType) }, tensor.name)
            }
        }
        XCTAssertEqual(try file.doubles("float.F64"), values)
    }

    func testHeaderIsTheReferenceLayout() throws {
        var tensors: [TensorRecord] = []
        for name in ["b.weight", "a.lora_B.weight", "a.lora_A.weight", "Z", "classifier.bias"] {
            tensors.append(try TensorRecord(name: name, dtype: .f32, shape: [3, 1], values: [1, 2, 3], file: "test"))
        }
        let (file, bytes) = try write(tensors, metadata: ["format": "pt", "note": "kept"])
        let (length, text, value) = try header(bytes)
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual((8 + length) % 8, 0)
        let trimmed = text.replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        XCTAssertTrue(trimmed.hasSuffix("}"))
        XCTAssertLessThan(text.count - trimmed.count, 8, "padded with fewer than 8 spaces")
        XCTAssertFalse(trimmed.contains(" "), "compact JSON")
        let keys = try XCTUnwrap(value.objectPairs).map(\.0)
        XCTAssertEqual(keys, ["__metadata__", "Z", "a.lora_A.weight", "a.lora_B.weight", "b.weight", "classifier.bias"])
        XCTAssertEqual(value["__metadata__"], .object([("format", .string("pt")), ("note", .string("kept"))]))
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "kept"])
        XCTAssertEqual(try XCTUnwrap(value["Z"]?.objectPairs).map(\.0), ["dtype", "shape", "data_offsets"])
        // One element size: offsets are contiguous in key order, from 0 to the end of the file.
        var expected = 0
        for key in keys.dropFirst() {
            let offsets = try XCTUnwrap(value[key]?["data_offsets"]?.arrayValue).compactMap(\.intValue)
            XCTAssertEqual(offsets, [expected, expected + 12], key)
            expected += 12
        }
        XCTAssertEqual(8 + length + expected, bytes.count)
        XCTAssertEqual(file.tensors.map(\.name), keys.dropFirst().map { $0 })
    }

    func testMixedElementSizesStayAlignedAndTileTheData() throws {
        let tensors = [
            TensorRecord(name: "a_u8", dtype: .u8, shape: [3], bytes: [1, 2, 3]),
            try TensorRecord(name: "b_f16", dtype: .f16, shape: [3], values: [1, 2, 3], file: "test"),
            try TensorRecord(name: "c_f32", dtype: .f32, shape: [1], values: [1], file: "test"),
            try TensorRecord(name: "d_f64", dtype: .f64, shape: [1], values: [1], file: "test"),
        ]
        let (file, bytes) = try write(tensors, metadata: [:])
        let (_, _, value) = try header(bytes)
        XCTAssertEqual(try XCTUnwrap(value.objectPairs).map(\.0), ["a_u8", "b_f16", "c_f32", "d_f64"], "no __metadata__ when there is none")
        let ranges = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.byteRange) })
        XCTAssertEqual(ranges["d_f64"], 0..<8)
        XCTAssertEqual(ranges["c_f32"], 8..<12)
        XCTAssertEqual(ranges["b_f16"], 12..<18)
        XCTAssertEqual(ranges["a_u8"], 18..<21)
    }

    /// A file streamed from its layout (header, then each tensor's bytes in `order`) is the file
    /// `data` builds, so a sidecar written piece by piece reads like any other.
    func testLayoutStreamsTheSameBytesAsData() throws {
        let tensors = [
            try TensorRecord(name: "z/mean", dtype: .f64, shape: [2, 2], values: [1, 2, 3, 4], file: "test"),
            try TensorRecord(name: "a/x", dtype: .f32, shape: [3], values: [5, 6, 7], file: "test"),
            try TensorRecord(name: "b/y", dtype: .f64, shape: [2, 1, 1], values: [8, 9], file: "test"),
        ]
        let metadata = ["schema": "s", "tasks": "[\"a\"]"]
        let layout = try SafetensorsWriter.layout(tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) },
                                                  metadata: metadata, file: "test")
        XCTAssertEqual(layout.order, [2, 0, 1], "F64 first by name (b/y, z/mean), then F32")
        XCTAssertEqual(layout.byteCounts, [32, 12, 16])
        let streamed = layout.header + layout.order.flatMap { tensors[$0].bytes }
        XCTAssertEqual(streamed.count, layout.fileSize)
        XCTAssertEqual(Data(streamed), try SafetensorsWriter.data(tensors, metadata: metadata, file: "test"))
        XCTAssertThrowsError(try SafetensorsWriter.layout([TensorSpec(name: "a", dtype: .f64, shape: [1]),
                                                           TensorSpec(name: "a", dtype: .f64, shape: [1])], file: "test"))
    }

    func testNamesAreWrittenExactly() throws {
        let names = ["base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.default.weight",
                     "quote\"and\\slash", "ünïcode.λ", "tab\tname"]
        let tensors = try names.map { try TensorRecord(name: $0, dtype: .bf16, shape: [2], values: [0.5, -4], file: "test") }
        let (file, _) = try write(tensors)
        XCTAssertEqual(Set(file.tensors.map(\.name)), Set(names))
        for name in names { XCTAssertEqual(try file.doubles(name), [0.5, -4]) }
        XCTAssertThrowsError(try SafetensorsWriter.data(tensors + [tensors[0]], file: "x")) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 70)
        }
        XCTAssertThrowsError(try SafetensorsWriter.data([TensorRecord(name: "short", dtype: .f32, shape: [2], bytes: [0, 0, 0, 0])], file: "x"))
    }

    func testHalfAndBFloat16RoundOnceToNearestEven() throws {
        let cases: [(TensorDType, Double, Double)] = [
            (.bf16, 1 + 0x1p-8, 1),                          // tie → even
            (.bf16, 1 + 3 * 0x1p-8, 1 + 0x1p-6),             // tie → even (up)
            (.bf16, 1 + 0x1p-8 + 0x1p-40, 1 + 0x1p-7),       // above the tie: rounding through float32 first would give 1
            (.bf16, -(1 + 0x1p-8 + 0x1p-40), -(1 + 0x1p-7)),
            (.bf16, 0x1p-134, 0),                            // half the smallest subnormal → 0 (even)
            (.bf16, 0x1p-134 + 0x1p-160, 0x1p-133),
            (.f16, 1 + 0x1p-11, 1),
            (.f16, 1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-10),
            (.f16, 0x1p-25, 0),
            (.f16, 0x1p-25 + 0x1p-50, 0x1p-24),
            (.f16, 65519, 65504),
            (.f32, 1 + 0x1p-24, 1),
            (.f32, 1 + 0x1p-24 + 0x1p-50, 1 + 0x1p-23),
        ]
        for (dtype, value, expected) in cases {
            XCTAssertEqual(dtype.nearest(value), expected, "\(dtype.rawValue) \(value)")
            let record = try TensorRecord(name: "t", dtype: dtype, shape: [1], values: [value], file: "test")
            let (file, _) = try write([record], name: "case.safetensors")
            XCTAssertEqual(try file.doubles("t"), [expected], "\(dtype.rawValue) \(value)")
        }
        XCTAssertEqual(TensorDType.bf16.nearest(3.4e38), .infinity)
    }

    func testValuesBeyondTheTypeOrNotFiniteAreRefusedNamingTheElement() {
        for (dtype, value) in [(TensorDType.f16, 65520.0), (.bf16, 3.4e38), (.f32, 1e39), (.f64, Double.nan), (.f32, -Double.infinity)] {
            XCTAssertThrowsError(try TensorRecord(name: "lora_B", dtype: dtype, shape: [2], values: [1, value],
                                                  file: "out/adapter_model.safetensors")) { error in
                XCTAssertEqual((error as? ToolError)?.exitCode, 65)
                let message = (error as? ToolError)?.message ?? ""
                XCTAssertTrue(message.hasPrefix("out/adapter_model.safetensors: lora_B: element 1"), message)
            }
        }
    }

    func testAtomicWriteLeavesNoTemporaryFilesAndReportsUnwritablePaths() throws {
        let record = try TensorRecord(name: "x", dtype: .f64, shape: [1], values: [1], file: "test")
        _ = try write([record], name: "first.safetensors")
        _ = try write([record], name: "first.safetensors")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["first.safetensors"])
        XCTAssertThrowsError(try SafetensorsWriter.write([record], to: directory.path + "/no/such/folder/x.safetensors")) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
        }
    }

    func testRawBytesOfARealFileAreTheStoredBytes() throws {
        let path = repositoryRoot + "/examples/minilm-glue8/adapters/cola/adapter_model.safetensors"
        let file = try SafetensorsFile(path: path)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = (0..<8).reduce(0) { $0 | Int(whole[$1]) << (8 * $1) }
        for tensor in file.tensors {
            let raw = try file.rawBytes(tensor.name)
            XCTAssertEqual(raw, Array(whole[(8 + length + tensor.byteRange.lowerBound)..<(8 + length + tensor.byteRange.upperBound)]))
        }
        XCTAssertThrowsError(try file.rawBytes("nope"))
    }
}
