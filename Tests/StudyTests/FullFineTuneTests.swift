import AnalysisCore
import Diagnostics
import JSONText
import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// Full fine-tuning task vectors of the real MiniLM checkpoints against the dense NumPy/SciPy
/// reference (`scripts/reference_fullft.py`: full SVDs, SciPy's subspace_angles): every distance
/// to 1e-9 relative (the Gram path of `FullTaskVectors`; measured: 4e-13).
final class FullFineTuneTests: XCTestCase {
    func testRealCheckpointsMatchTheDenseReference() throws {
        let data = realDataPath
        let golden = try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/minilm-fullft.json"))
        let tasks = ["sst2", "emotion", "irony"]
        let analysis = try FullFineTuneStudy.analyze(base: data + "/minilm-fullft/base.safetensors",
                                                     checkpoints: tasks.map { AdapterArgument(task: $0, path: data + "/minilm-fullft/" + $0) },
                                                     modules: nil, subspaceRank: 8)
        XCTAssertEqual(analysis.modules, ["query", "value"])
        XCTAssertEqual(analysis.adapters.first?.kind, "fft")
        for metric in DistanceMetric.allCases {
            // Comb's metrics need LoRA factors: null throughout for full fine-tuning.
            guard DistanceMetric.applying(to: .full).contains(metric) else {
                for module in analysis.modules {
                    XCTAssertTrue(try XCTUnwrap(analysis.distances[metric]?[module]).mean.values.allSatisfy(\.isNaN), "\(metric) is null")
                }
                continue
            }
            for module in analysis.modules {
                let reference = try XCTUnwrap(golden["distances"]?[metric.rawValue]?[module])
                let ours = try XCTUnwrap(analysis.distances[metric]?[module])
                XCTAssertEqual(ours.layerIDs, reference["layer_ids"]!.arrayValue!.map { $0.intValue! })
                let tolerance = 1e-9
                for (index, layer) in reference["layers"]!.arrayValue!.enumerated() {
                    for (i, row) in layer.arrayValue!.enumerated() {
                        for (j, cell) in row.arrayValue!.enumerated() {
                            let value = ours.layers[index][i, j]
                            guard let want = cell.numberValue else {
                                XCTAssertTrue(value.isNaN, "\(metric) \(module) layer \(index) [\(i),\(j)]")
                                continue
                            }
                            XCTAssertTrue(isClose(value, want, relative: tolerance, absolute: 1e-12),
                                          "\(metric) \(module) layer \(index) [\(i),\(j)]: \(value) vs \(want)")
                        }
                    }
                }
            }
        }
        for module in analysis.modules {
            for (index, task) in tasks.enumerated() {
                let reference = try XCTUnwrap(golden["spectra"]?[module]?[task])
                let spectra = try XCTUnwrap(analysis.spectra[module]?[index])
                XCTAssertEqual(spectra.map(\.k), reference["k"]!.arrayValue!.map { $0.intValue! })
                for (k, spectrum) in spectra.enumerated() {
                    XCTAssertEqual(spectrum.capturedEnergy, reference["captured_energy"]!.arrayValue![k].numberValue!, accuracy: 1e-9)
                    XCTAssertEqual(spectrum.effectiveRank, reference["effective_rank"]!.arrayValue![k].numberValue!, accuracy: 1e-9)
                }
            }
        }
        let document = try JSONParser.parse(JSONWriter.string(MetricsDocument.json(analysis, tool: ToolInfo(),
                                                                                   layers: LayersSidecar.make(for: analysis).record)))
        XCTAssertEqual(document["fft"]?["subspace_rank"]?.intValue, 8)
        XCTAssertEqual(document["adapters"]?.arrayValue?.first?["kind"]?.stringValue, "fft")
        let layered = try XCTUnwrap(analysis.distances[.grassmannB]?["query"])
        let grassmannB = try JSONParser.parse(JSONWriter.string(MetricsDocument.layeredJSON(layered)))
        XCTAssertEqual(grassmannB["mean"]?.arrayValue?[0].arrayValue?[1], .null)
    }

    func testProblemsNameTheTensorAndFiles() throws {
        let directory = TemporaryDirectory("fft")
        defer { directory.remove() }
        var base = SafetensorsBuilder()
        base.add("bert.encoder.layer.0.attention.self.query.weight", shape: [3, 3], values: Array(repeating: 1, count: 9))
        base.add("bert.encoder.layer.0.attention.self.key.weight", shape: [3, 3], values: Array(repeating: 1, count: 9))
        let basePath = directory.write("base.safetensors", bytes: base.bytes())
        var missing = SafetensorsBuilder()
        missing.add("bert.encoder.layer.0.attention.self.key.weight", shape: [3, 3], values: Array(repeating: 2, count: 9))
        var wrong = SafetensorsBuilder()
        wrong.add("bert.encoder.layer.0.attention.self.query.weight", shape: [3, 2], values: Array(repeating: 2, count: 6))
        let missingPath = directory.write("a/model.safetensors", bytes: missing.bytes())
        let wrongPath = directory.write("b.safetensors", bytes: wrong.bytes())
        XCTAssertThrowsError(try FullFineTuneStudy.analyze(base: basePath, checkpoints: [AdapterArgument(parsing: directory.path + "/a")],
                                                           modules: nil, subspaceRank: 8)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            XCTAssertTrue("\(error)".contains("bert.encoder.layer.0.attention.self.query.weight: missing"), "\(error)")
        }
        XCTAssertThrowsError(try FullFineTuneStudy.analyze(base: basePath, checkpoints: [AdapterArgument(parsing: wrongPath)],
                                                           modules: nil, subspaceRank: 8)) { error in
            XCTAssertTrue("\(error)".contains("shape [3, 2] but [3, 3]") && "\(error)".contains("base.safetensors"), "\(error)")
        }
        XCTAssertThrowsError(try FullFineTuneStudy.analyze(base: basePath, checkpoints: [AdapterArgument(parsing: wrongPath)],
                                                           modules: ["value"], subspaceRank: 8)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 64)
            XCTAssertTrue("\(error)".contains("key, query"), "lists what exists: \(error)")
        }
        _ = missingPath
    }
}

final class FullFineTuneBinTests: XCTestCase {
    /// `.bin` checkpoints (torch's zip format) give exactly the analysis of their safetensors twins.
    func testBinCheckpointsMatchTheirSafetensorsTwins() throws {
        let folder = repositoryRoot + "/Tests/Fixtures/bin/fullft/"
        func run(_ ext: String) throws -> StudyAnalysis {
            try FullFineTuneStudy.analyze(base: folder + "base." + ext,
                                          checkpoints: ["task_a", "task_b", "task_c"].map {
                                              AdapterArgument(task: $0, path: folder + $0 + "." + ext)
                                          },
                                          modules: nil, subspaceRank: 3)
        }
        let viaBin = try run("bin"), viaSafetensors = try run("safetensors")
        XCTAssertEqual(viaBin.modules, ["query", "value"])
        for metric in DistanceMetric.allCases {
            for module in viaBin.modules {
                XCTAssertEqual(viaBin.distances[metric]?[module]?.layers, viaSafetensors.distances[metric]?[module]?.layers, "\(metric) \(module)")
            }
        }
    }

    func testShardedCheckpointFolders() throws {
        let directory = TemporaryDirectory("shards")
        defer { directory.remove() }
        let folder = repositoryRoot + "/Tests/Fixtures/bin/fullft/"
        // The base split into two shards with an index, as Hugging Face writes large models.
        let source = try SafetensorsFile(path: folder + "base.safetensors")
        var first = SafetensorsBuilder(), second = SafetensorsBuilder()
        var map: [(String, JSONValue)] = []
        for (index, tensor) in source.tensors.enumerated() {
            let values = try source.doubles(tensor.name)
            if index % 2 == 0 {
                first.add(tensor.name, shape: tensor.shape, values: values)
            } else {
                second.add(tensor.name, shape: tensor.shape, values: values)
            }
            map.append((tensor.name, .string(index % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")))
        }
        directory.write("base/model-00001-of-00002.safetensors", bytes: first.bytes())
        directory.write("base/model-00002-of-00002.safetensors", bytes: second.bytes())
        directory.write("base/model.safetensors.index.json",
                        text: JSONWriter.string(.object([("metadata", .object([])), ("weight_map", .object(map))])))
        let sharded = try FullFineTuneStudy.analyze(base: directory.path + "/base",
                                                    checkpoints: [AdapterArgument(task: "a", path: folder + "task_a.safetensors"),
                                                                  AdapterArgument(task: "b", path: folder + "task_b.bin")],
                                                    modules: ["query"], subspaceRank: 2)
        let single = try FullFineTuneStudy.analyze(base: folder + "base.bin",
                                                   checkpoints: [AdapterArgument(task: "a", path: folder + "task_a.bin"),
                                                                 AdapterArgument(task: "b", path: folder + "task_b.safetensors")],
                                                   modules: ["query"], subspaceRank: 2)
        XCTAssertEqual(sharded.distances[.l2]?["query"]?.layers, single.distances[.l2]?["query"]?.layers)
    }
}
