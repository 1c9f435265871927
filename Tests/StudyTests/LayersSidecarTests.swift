import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// `layers.safetensors` beside `metrics.json` (tvgeo.metrics/3) and `tvgeo export --json-layers`,
/// checked against the SciPy reference's per-layer matrices (Tests/Fixtures/golden/minilm-glue8.json,
/// the inline layout tvgeo wrote before), not against tvgeo's own numbers.
final class LayersSidecarTests: XCTestCase {
    struct Example {
        var analysis: StudyAnalysis
        var golden: JSONValue
        var folder: TemporaryDirectory
    }

    /// The embedded example analysed and written as `tvgeo analyze` writes it.
    func writeExample() throws -> Example {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/minilm-glue8.json"))
        let inputs = try XCTUnwrap(golden["inputs"]?.arrayValue).map { entry in
            AdapterArgument(task: entry["task"]!.stringValue!, path: repositoryRoot + "/" + entry["path"]!.stringValue!)
        }
        let analysis = try LoRAStudy.analyze(inputs)
        let folder = TemporaryDirectory("layers-sidecar")
        try OutputFolder.write(AnalysisFiles.files(for: analysis), to: folder.path + "/out")
        return Example(analysis: analysis, golden: golden, folder: folder)
    }

    func metrics(_ folder: String) throws -> JSONValue {
        try JSONParser.parse(try readWholeFile(folder + "/metrics.json"))
    }

    /// A reference matrix (rows of numbers or null) against computed values: close to 1e-9
    /// relative, NaN exactly where the reference has null.
    func assertMatches(_ reference: JSONValue, _ values: (Int, Int) -> Double, _ label: String) {
        for (i, row) in (reference.arrayValue ?? []).enumerated() {
            for (j, cell) in (row.arrayValue ?? []).enumerated() {
                let value = values(i, j)
                if let want = cell.numberValue {
                    XCTAssertTrue(isClose(value, want, relative: 1e-9, absolute: 1e-12), "\(label) [\(i),\(j)]: \(value) vs reference \(want)")
                } else {
                    XCTAssertTrue(value.isNaN, "\(label) [\(i),\(j)]: want undefined, got \(value)")
                }
            }
        }
    }

    func testSidecarHoldsTheReferencePerLayerMatricesAndMetricsJSONIndexesIt() throws {
        let example = try writeExample()
        defer { example.folder.remove() }
        let out = example.folder.path + "/out"
        let document = try metrics(out)
        XCTAssertEqual(document["schema"]?.stringValue, "tvgeo.metrics/3")
        let record = try LayersSidecar.Record(json: document["layers_file"], file: "metrics.json")
        XCTAssertEqual(record.path, "layers.safetensors")
        XCTAssertEqual(record.sha256, try SHA256.hex(ofFile: out + "/layers.safetensors"))
        XCTAssertEqual(record.bytes, try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out + "/layers.safetensors")[.size] as? Int))
        let file = try SafetensorsFile(path: out + "/layers.safetensors")
        let tasks = try XCTUnwrap(example.golden["tasks"]?.arrayValue)
        let count = tasks.count
        XCTAssertEqual(file.metadata["schema"], "tvgeo.layers/1")
        XCTAssertEqual(try JSONParser.parse(file.metadata["tasks"] ?? ""), .array(tasks))
        XCTAssertEqual(try JSONParser.parse(file.metadata["layer_ids"] ?? "")["value"], .array((0...5).map(JSONValue.int)))
        // Two tensors per metric and module, nothing else.
        XCTAssertEqual(file.tensors.count, 2 * DistanceMetric.allCases.count * 2)
        var checked = 0
        for metric in DistanceMetric.allCases {
            for module in ["query", "value"] {
                let reference = try XCTUnwrap(example.golden["distances"]?[metric.id]?[module], "\(metric.id) \(module)")
                let entry = try XCTUnwrap(document["distances"]?[metric.id]?[module])
                XCTAssertEqual(entry["layer_ids"], reference["layer_ids"])
                let layersName = try XCTUnwrap(entry["tensor"]?.stringValue), meanName = try XCTUnwrap(entry["mean_tensor"]?.stringValue)
                let layerCount = try XCTUnwrap(reference["layers"]?.arrayValue?.count)
                XCTAssertEqual(entry["shape"], .array([layerCount, count, count].map(JSONValue.int)))
                let info = try XCTUnwrap(file.info(layersName))
                XCTAssertEqual(info.dtype, .f64)
                XCTAssertEqual(info.shape, [layerCount, count, count])
                XCTAssertEqual(file.info(meanName)?.shape, [count, count])
                // Decoded here from the raw little-endian bytes, independently of the writer.
                let raw = try file.rawBytes(layersName)
                func element(_ index: Int) -> Double {
                    Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(raw[index * 8 + $1]) << (8 * UInt64($1)) })
                }
                for (k, layer) in try XCTUnwrap(reference["layers"]?.arrayValue).enumerated() {
                    assertMatches(layer, { element(k * count * count + $0 * count + $1) }, "\(metric.id) \(module) layer #\(k)")
                    checked += 1
                }
                let mean = try LayersSidecar.matrices(file, meanName, count: count)
                XCTAssertEqual(mean.count, 1)
                assertMatches(try XCTUnwrap(reference["mean"]), { mean[0][$0, $1] }, "\(metric.id) \(module) mean")
                // Bit for bit what the analysis holds.
                XCTAssertEqual(try LayersSidecar.matrices(file, layersName, count: count), example.analysis.distances[metric]?[module]?.layers)
            }
        }
        XCTAssertEqual(checked, DistanceMetric.allCases.count * 2 * 6)
    }

    /// The sidecar is produced piece by piece: the bytes written equal the digest taken before,
    /// and a stream that produces fewer bytes than it announced fails the whole folder.
    func testAStreamThatFallsShortLeavesNoOutput() throws {
        let folder = TemporaryDirectory("layers-stream")
        defer { folder.remove() }
        let short = OutputStreamSource(byteCount: 16) { sink in
            _ = [UInt8](repeating: 7, count: 8).withUnsafeBytes(sink)
        }
        XCTAssertThrowsError(try OutputFolder.write([OutputFile("a.txt", text: "a"), OutputFile("b.bin", stream: short)],
                                                    to: folder.path + "/out")) { error in
            guard case ToolError.cannotWrite(let path, let problem) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("/out/b.bin"), path)
            XCTAssertTrue(problem.contains("8 bytes produced, 16 announced"), problem)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/out"), "nothing half-written")
    }

    /// `tvgeo export --json-layers`: the tvgeo.metrics/2 layout (every matrix inline, as the
    /// reference writes it), the rest of metrics.json unchanged.
    func testExportWritesTheInlineLayoutWithTheReferenceValues() throws {
        let example = try writeExample()
        defer { example.folder.remove() }
        let out = example.folder.path + "/out"
        let target = out + "/" + LayersExport.defaultName
        let bytes = try LayersExport.write(folder: out, to: target, force: false)
        let text = try String(contentsOfFile: target, encoding: .utf8)
        XCTAssertEqual(text.utf8.count, bytes)
        let exported = try JSONParser.parse(text)
        XCTAssertEqual(exported["schema"]?.stringValue, "tvgeo.metrics/2")
        XCTAssertNil(exported["layers_file"])
        let count = example.analysis.tasks.count
        for metric in DistanceMetric.allCases {
            for module in ["query", "value"] {
                let reference = try XCTUnwrap(example.golden["distances"]?[metric.id]?[module])
                let entry = try XCTUnwrap(exported["distances"]?[metric.id]?[module])
                XCTAssertEqual(entry.objectPairs?.map(\.0), ["layer_ids", "layers", "mean"])
                XCTAssertEqual(entry["layer_ids"], reference["layer_ids"])
                let layers = try XCTUnwrap(entry["layers"]?.arrayValue)
                XCTAssertEqual(layers.count, reference["layers"]?.arrayValue?.count)
                for (k, layer) in layers.enumerated() {
                    XCTAssertEqual(layer.arrayValue?.count, count)
                    let rows = layer.arrayValue ?? []
                    assertMatches(reference["layers"]!.arrayValue![k], { rows[$0].arrayValue?[$1].numberValue ?? .nan },
                                  "exported \(metric.id) \(module) layer #\(k)")
                }
                let mean = try XCTUnwrap(entry["mean"]?.arrayValue)
                assertMatches(reference["mean"]!, { mean[$0].arrayValue?[$1].numberValue ?? .nan }, "exported \(metric.id) \(module) mean")
            }
        }
        // Everything but the distances and the sidecar's record is metrics.json's own, in its order.
        let original = try metrics(out)
        let keep: (JSONValue) -> [(String, JSONValue)] = { document in
            (document.objectPairs ?? []).filter { $0.0 != "distances" && $0.0 != "layers_file" && $0.0 != "schema" }
        }
        XCTAssertEqual(JSONValue.object(keep(exported)), .object(keep(original)))
        XCTAssertEqual(exported.objectPairs?.map(\.0), original.objectPairs?.map(\.0).filter { $0 != "layers_file" })
    }

    func testExportRefusesToReplaceAFileAndChecksTheSidecar() throws {
        let example = try writeExample()
        defer { example.folder.remove() }
        let out = example.folder.path + "/out"
        let target = out + "/" + LayersExport.defaultName
        try Data("mine".utf8).write(to: URL(fileURLWithPath: target))
        XCTAssertThrowsError(try LayersExport.write(folder: out, to: target, force: false)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "mine", "left alone")
        XCTAssertGreaterThan(try LayersExport.write(folder: out, to: target, force: true), 1000)

        // One flipped byte in the sidecar: its SHA-256 no longer matches metrics.json's record.
        let sidecar = out + "/layers.safetensors"
        var bytes = try readWholeFile(sidecar)
        bytes[bytes.count - 3] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: sidecar))
        XCTAssertThrowsError(try LayersExport.inlineDocument(folder: out)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            XCTAssertTrue((error as? ToolError)?.message.contains("layers.safetensors") == true, "\(error)")
            XCTAssertTrue((error as? ToolError)?.message.contains("SHA-256") == true, "\(error)")
        }
        try FileManager.default.removeItem(atPath: sidecar)
        XCTAssertThrowsError(try LayersExport.inlineDocument(folder: out)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66)
        }
        XCTAssertThrowsError(try LayersExport.inlineDocument(folder: example.folder.path)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 66, "no metrics.json there")
        }
    }
}
