import AnalysisCore
import Diagnostics
import Foundation
import JSONText
@testable import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// A study of both kinds on the real MiniLM data (three full fine-tunes and the LoRA adapters of
/// the same tasks) against the independent dense NumPy/SciPy reference
/// (`scripts/reference_crosskind.py` → Tests/Fixtures/golden/minilm-crosskind.json): every
/// cross-kind and intruder number of metrics.json to 1e-9, intruder counts exactly, and the score
/// table against the two score files.
final class CrossKindGoldenTests: XCTestCase {
    var failures: [String] = []

    /// Walks the golden value: objects by key (metrics.json may hold more keys), arrays entry by
    /// entry, integers exactly, other numbers to 1e-9 relative (1e-12 absolute), strings exactly.
    func compare(_ value: JSONValue?, _ golden: JSONValue, _ path: String) {
        guard let value else { failures.append("\(path): missing"); return }
        switch golden {
        case .object(let pairs):
            for (key, entry) in pairs { compare(value[key], entry, "\(path).\(key)") }
        case .array(let items):
            guard let values = value.arrayValue, values.count == items.count else {
                failures.append("\(path): \(value) vs reference \(golden)")
                return
            }
            for (index, item) in items.enumerated() { compare(values[index], item, "\(path)[\(index)]") }
        case .int(let expected):
            if value.intValue != expected { failures.append("\(path): \(value) vs reference \(expected) (exact)") }
        case .double(let expected):
            guard let number = value.numberValue, isClose(number, expected, relative: 1e-9, absolute: 1e-12) else {
                failures.append("\(path): \(value) vs reference \(expected)")
                return
            }
        default:
            if value != golden { failures.append("\(path): \(value) vs reference \(golden)") }
        }
    }

    /// score(task on task) rows of a score file, read here with a plain split (the fixtures have no quoting;
    /// lines may end in CR LF, one Character in Swift).
    func selfScores(_ path: String) throws -> [String: Double] {
        let text = try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8)
        var scores: [String: Double] = [:]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            if fields[0] == fields[1] { scores[fields[1]] = Double(fields[3]) }
        }
        return scores
    }

    func testMiniLMBothKindsMatchTheNumPyReference() throws {
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/minilm-crosskind.json"))
        let root = repositoryRoot + "/"
        let fftScores = "Tests/Fixtures/real/minilm-fullft/scores.csv", loraScores = "examples/minilm-glue8/scores.csv"
        let input = try StudyInput.resolve(adapters: golden["fft"]!.arrayValue!.map { root + $0.stringValue! }, name: "crosskind",
                                           out: nil, scores: root + fftScores, base: root + golden["base"]!.stringValue!,
                                           modules: nil, subspaceRank: nil, lora: golden["lora"]!.arrayValue!.map { root + $0.stringValue! },
                                           loraScores: root + loraScores)
        let comparison = try input.runComparison { _, _ in }
        let sidecars = KindComparisonDocument.sidecars(comparison)
        let document = KindComparisonDocument.json(comparison, tool: ToolInfo(), sidecars: (sidecars.fft.record, sidecars.lora.record))
        compare(document["crosskind"], golden["crosskind"]!, "crosskind")
        compare(document["intruders"], golden["intruders"]!, "intruders")
        XCTAssertEqual(failures, [], "\(failures.count) values differ from the reference")
        // The reference has intruders for LoRA and none for full fine-tuning: the test would see a swap.
        let loraCounts = golden["intruders"]!["lora"]!["query"]!["sst2"]!.arrayValue!.compactMap(\.intValue)
        XCTAssertGreaterThan(loraCounts.reduce(0, +), 0)

        let fft = try selfScores(fftScores), lora = try selfScores(loraScores)
        XCTAssertEqual(document["kind_scores"]?.objectPairs?.map(\.0), ["sst2", "emotion", "irony"])
        for task in ["sst2", "emotion", "irony"] {
            XCTAssertEqual(document["kind_scores"]?[task]?["fft"]?.numberValue, fft[task], task)
            XCTAssertEqual(document["kind_scores"]?[task]?["lora"]?.numberValue, lora[task], task)
        }
        // Each kind's own study is there in full.
        XCTAssertEqual(document["kinds"]?["fft"]?["schema"]?.stringValue, MetricsDocument.schema)
        // Each kind's matrices in its own sidecar, which its document records.
        XCTAssertEqual(document["schema"]?.stringValue, "tvgeo.kinds/2")
        for kind in ["fft", "lora"] {
            XCTAssertEqual(document["kinds"]?[kind]?["layers_file"]?["path"]?.stringValue, "\(kind)/layers.safetensors")
        }
        XCTAssertEqual(document["kinds"]?["lora"]?["layers_file"]?["sha256"]?.stringValue, sidecars.lora.record.sha256)
        XCTAssertEqual(document["kinds"]?["lora"]?["tasks"]?.arrayValue?.count, 3)
    }

    func testNoSharedTaskNamesBothLists() throws {
        let root = repositoryRoot + "/"
        XCTAssertThrowsError(try StudyInput.resolve(adapters: [root + "Tests/Fixtures/real/minilm-fullft/sst2"], name: nil, out: nil, scores: nil,
                                                    base: root + "Tests/Fixtures/real/minilm-fullft/base.safetensors", modules: nil,
                                                    subspaceRank: nil, lora: [root + "examples/minilm-glue8/adapters/cola"])) { error in
            let error = error as! ToolError
            XCTAssertEqual(error.exitCode, 65)
            XCTAssertTrue(error.message.contains("(cola)") && error.message.contains("(sst2)"), error.message)
        }
    }

    func testLoRAWithoutBaseIsAUsageError() throws {
        XCTAssertThrowsError(try StudyInput.resolve(adapters: ["a"], name: "x", out: nil, scores: nil, base: nil, modules: nil,
                                                    subspaceRank: nil, lora: ["b"])) { error in
            XCTAssertEqual((error as! ToolError).exitCode, 64)
        }
    }
}

final class CrossKindValidationTests: XCTestCase {
    /// A LoRA adapter trained on another base (query of layer 0 is 384 × 128 there) is refused
    /// before any distance is computed, naming its file and tensor.
    func testAdapterOfAnotherBaseNamesTheFileAndTensor() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-crosskind-\(UUID().uuidString)/sst2").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        var builder = SafetensorsBuilder()
        let prefix = "base_model.model.bert.encoder.layer.0.attention.self.query"
        builder.add(prefix + ".lora_A.weight", shape: [4, 128], values: [Double](repeating: 0.01, count: 4 * 128))
        builder.add(prefix + ".lora_B.weight", shape: [384, 4], values: [Double](repeating: 0.02, count: 384 * 4))
        try Data(builder.bytes()).write(to: URL(fileURLWithPath: folder + "/adapter_model.safetensors"))
        try Data(#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8}"#.utf8).write(to: URL(fileURLWithPath: folder + "/adapter_config.json"))
        let root = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft/"
        let input = try StudyInput.resolve(adapters: [root + "sst2", root + "irony"], name: "x", out: nil, scores: nil,
                                           base: root + "base.safetensors", modules: nil, subspaceRank: nil, lora: [folder])
        XCTAssertThrowsError(try input.runComparison { _, _ in }) { error in
            let error = error as! ToolError
            XCTAssertEqual(error.exitCode, 65)
            XCTAssertTrue(error.message.hasPrefix(folder + "/adapter_model.safetensors: " + prefix + ".lora_B.weight:"), error.message)
            XCTAssertTrue(error.message.contains("384×128") && error.message.contains("384×384"), error.message)
        }
    }
}
