import AnalysisCore
import Diagnostics
import JSONText
@testable import Study
import TensorIO
import TVGeoTestSupport
import XCTest

final class StudyTests: XCTestCase {
    let synthetic = repositoryRoot + "/Tests/Fixtures/synthetic"
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"

    func testArgumentsNamesAndDefaults() {
        XCTAssertEqual(AdapterArgument(parsing: "sst=some/dir/x"), AdapterArgument(task: "sst", path: "some/dir/x"))
        XCTAssertEqual(AdapterArgument(parsing: "runs/a=b/cola/"), AdapterArgument(task: "cola", path: "runs/a=b/cola/"))
        XCTAssertEqual(AdapterArgument(parsing: "x/bare_r8.safetensors").task, "bare_r8")
        XCTAssertEqual(AdapterArgument(parsing: "x/rte/adapter_model.safetensors").task, "rte")
        // A name may hold `=` and `/` when an existing path follows the last `=`.
        let cola = example + "/cola"
        XCTAssertEqual(AdapterArgument(parsing: "\"><img src=x onerror=alert(1)>=" + cola),
                       AdapterArgument(task: "\"><img src=x onerror=alert(1)>", path: cola))
        XCTAssertEqual(AdapterArgument(parsing: "\\input{/etc/passwd}=" + cola), AdapterArgument(task: "\\input{/etc/passwd}", path: cola))
        XCTAssertEqual(AdapterArgument(parsing: "../../x=" + cola), AdapterArgument(task: "../../x", path: cola))
        XCTAssertEqual(AdapterArgument(parsing: cola).task, "cola")
        XCTAssertEqual(AdapterArgument.defaultStudyName(["examples/minilm-glue8/adapters/cola",
                                                         "examples/minilm-glue8/adapters/rte"].map(AdapterArgument.init(parsing:))), "minilm-glue8")
        XCTAssertEqual(AdapterArgument.defaultStudyName(["a", "b"].map(AdapterArgument.init(parsing:))), "study")
        XCTAssertThrowsError(try AdapterArgument.checkUnique([AdapterArgument(task: "a", path: "x/a"),
                                                              AdapterArgument(task: "a", path: "y/a")])) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 64)
            XCTAssertTrue("\(error)".contains("x/a") && "\(error)".contains("y/a"), "\(error)")
        }
    }

    func testZeroAdapterGivesNullsAndANamedWarning() throws {
        let analysis = try LoRAStudy.analyze([AdapterArgument(parsing: synthetic + "/t_r8"), AdapterArgument(parsing: synthetic + "/t_zero_b")])
        XCTAssertTrue(analysis.distances[.cosine]!["query"]!.mean[0, 1].isNaN)
        XCTAssertFalse(analysis.distances[.l2]!["query"]!.mean[0, 1].isNaN)
        XCTAssertFalse(analysis.distances[.grassmannA]!["query"]!.mean[0, 1].isNaN)
        let texts = analysis.warnings.map(\.text)
        XCTAssertTrue(texts.contains { $0.hasPrefix("t_zero_b: ΔW = s·B·A is zero in module query at layers 0, 1, 2") }, "\(texts)")
        XCTAssertTrue(texts.contains { $0.hasPrefix("t_zero_b: lora_B is zero in module value") }, "\(texts)")
        // Written inline (tvgeo export --json-layers) as null.
        let json = JSONWriter.string(MetricsDocument.layeredJSON(try XCTUnwrap(analysis.distances[.cosine]?["query"])))
        let reparsed = try JSONParser.parse(json)
        XCTAssertEqual(reparsed["mean"]?.arrayValue?[0].arrayValue?[1], .null)
    }

    /// A module some adapters lack is analysed over the adapters that have it: its matrices are
    /// null for the others, metrics.json lists the tasks it covers, and `--modules` accepts it.
    func testAModuleSomeAdaptersLackIsAnalysedOverTheOthers() throws {
        let arguments = [synthetic + "/t_r8", synthetic + "/t_query_only", synthetic + "/bare_r8.safetensors", synthetic + "/t_r4"]
            .map(AdapterArgument.init(parsing:))
        let analysis = try LoRAStudy.analyze(arguments)
        XCTAssertEqual(analysis.modules, ["query", "value"])
        XCTAssertEqual(analysis.moduleTasks, ["value": ["t_r8", "bare_r8", "t_r4"]])
        XCTAssertTrue(analysis.warnings.contains { $0.text == "module value covers 3 of 4 adapters: t_query_only has no LoRA factors "
                                                              + "for it; its distances in value are null" }, "\(analysis.warnings)")
        XCTAssertTrue(analysis.warnings.contains { $0.text.contains("bare_r8") && $0.text.contains("scaling s = 1") })
        let value = try XCTUnwrap(analysis.distances[.l2]?["value"]?.mean)
        XCTAssertTrue((0..<4).allSatisfy { value[1, $0].isNaN && value[$0, 1].isNaN }, "t_query_only has no value distances")
        XCTAssertTrue(value[0, 3].isFinite && value[0, 3] > 0)
        // The same pair over the module's adapters alone gives the same numbers.
        let alone = try LoRAStudy.analyze([arguments[0], arguments[3]])
        XCTAssertEqual(alone.distances[.l2]?["value"]?.mean[0, 1] ?? .nan, value[0, 3], accuracy: 1e-12)
        XCTAssertEqual(analysis.subspaceRanks["value"]?[.b]?[1], [nil, nil, nil])
        let onlyValue = try LoRAStudy.analyze(arguments, modules: ["value"])
        XCTAssertEqual(onlyValue.modules, ["value"])
        let json = MetricsDocument.json(analysis, tool: ToolInfo(), layers: LayersSidecar.make(for: analysis).record)
        XCTAssertEqual(json["module_tasks"]?["value"], .array(["t_r8", "bare_r8", "t_r4"].map(JSONValue.string)))
    }

    func testAModuleOfOneAdapterIsLeftOut() throws {
        let directory = TemporaryDirectory("one-module")
        defer { directory.remove() }
        var first = AdapterFixture(rank: 1, alpha: 1)
        first.addModule(layer: 0, module: "query", b: [1, 2], a: [1, 1], outFeatures: 2, inFeatures: 2)
        first.addModule(layer: 0, module: "value", b: [1, 0], a: [0, 1], outFeatures: 2, inFeatures: 2)
        var second = AdapterFixture(rank: 1, alpha: 1)
        second.addModule(layer: 0, module: "query", b: [2, 1], a: [1, 0], outFeatures: 2, inFeatures: 2)
        let analysis = try LoRAStudy.analyze([first.write(into: directory, name: "a"), second.write(into: directory, name: "b")]
            .map(AdapterArgument.init(parsing:)))
        XCTAssertEqual(analysis.modules, ["query"])
        XCTAssertTrue(analysis.warnings.contains { $0.text.hasPrefix("module value is left out: only a has LoRA factors for it") },
                      "\(analysis.warnings)")
    }

    func testDifferentBaseModelsAreRefusedNamingBothFiles() throws {
        let data = realDataPath
        XCTAssertThrowsError(try LoRAStudy.analyze([AdapterArgument(parsing: example + "/cola"),
                                                      AdapterArgument(parsing: data + "/third-party/gpt2/appreviews_gurvineet_epoch1")])) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            XCTAssertTrue("\(error)".contains("these adapters come from 2 base models that share no LoRA module and layer: "
                                               + "sentence-transformers/all-MiniLM-L6-v2 (cola); gpt2 (appreviews_gurvineet_epoch1); "
                                               + "run one study per base model"), "\(error)")
        }
        // Same module names and layers, different shapes: a mismatch naming both files.
        let directory = TemporaryDirectory("shapes")
        defer { directory.remove() }
        var small = AdapterFixture(rank: 1, alpha: 1)
        small.addModule(layer: 0, module: "query", b: [1, 2, 3], a: [1, 1, 1], outFeatures: 3, inFeatures: 3)
        var large = AdapterFixture(rank: 1, alpha: 1)
        large.addModule(layer: 0, module: "query", b: [1, 2, 3, 4], a: [1, 1, 1, 1], outFeatures: 4, inFeatures: 4)
        let paths = [small.write(into: directory, name: "small"), large.write(into: directory, name: "large")]
        XCTAssertThrowsError(try LoRAStudy.analyze(paths.map(AdapterArgument.init(parsing:)))) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            let text = "\(error)"
            XCTAssertTrue(text.contains("large/adapter_model.safetensors") && text.contains("small/adapter_model.safetensors")
                          && text.contains("4×4") && text.contains("3×3"), text)
        }
    }

    func testSameShapesWithDifferentBaseModelNamesWarn() throws {
        let directory = TemporaryDirectory("bases")
        defer { directory.remove() }
        var first = AdapterFixture(rank: 1, alpha: 1)
        first.addModule(layer: 0, module: "query", b: [1, 2, 3], a: [1, 0, 1], outFeatures: 3, inFeatures: 3)
        var second = first
        second.extraConfig = [("base_model_name_or_path", .string("other/model"))]
        let analysis = try LoRAStudy.analyze([first.write(into: directory, name: "a"),
                                              second.write(into: directory, name: "b")].map(AdapterArgument.init(parsing:)))
        XCTAssertTrue(analysis.warnings.contains { $0.text.contains("different base models") && $0.text.contains("other/model") },
                      "\(analysis.warnings)")
        XCTAssertEqual(analysis.distances[.l2]!["query"]!.mean[0, 1], 0)
    }

    func testLayerMeanSkipsUndefinedValues() {
        var first = PairMatrix(count: 2, fill: 1), second = PairMatrix(count: 2, fill: 3), third = PairMatrix(count: 2, fill: .nan)
        first[0, 1] = .nan
        second[1, 0] = .nan
        third[1, 1] = 5
        let mean = StudyBlocks.layerMean([first, second, third], count: 2)
        XCTAssertEqual(mean[0, 0], 2)
        XCTAssertEqual(mean[0, 1], 3)
        XCTAssertEqual(mean[1, 0], 1)
        XCTAssertEqual(mean[1, 1], 3)
        XCTAssertTrue(StudyBlocks.layerMean([third], count: 2)[0, 0].isNaN)
    }

    func testMetricsDocumentFollowsTheSchema() throws {
        let analysis = try LoRAStudy.analyze(["cola", "mrpc", "rte"].map { AdapterArgument(parsing: example + "/" + $0) })
        let sidecar = LayersSidecar.make(for: analysis)
        let document = try JSONParser.parse(JSONWriter.string(MetricsDocument.json(analysis, tool: ToolInfo(), layers: sidecar.record)))
        XCTAssertEqual(document["schema"]?.stringValue, "tvgeo.metrics/3")
        XCTAssertEqual(document["layers_file"]?["path"]?.stringValue, "layers.safetensors")
        XCTAssertEqual(document["layers_file"]?["bytes"]?.intValue, sidecar.record.bytes)
        XCTAssertEqual(document["layers_file"]?["sha256"]?.stringValue?.count, 64)
        XCTAssertEqual(document["tasks"], .array(["cola", "mrpc", "rte"].map(JSONValue.string)))
        XCTAssertEqual(document["modules"], .array(["query", "value"].map(JSONValue.string)))
        let adapter = try XCTUnwrap(document["adapters"]?.arrayValue?.first)
        XCTAssertEqual(adapter["kind"]?.stringValue, "lora")
        XCTAssertEqual(adapter["base_model"]?.stringValue, "sentence-transformers/all-MiniLM-L6-v2")
        XCTAssertEqual(adapter["modules"]?.arrayValue?.first?["rank"]?.intValue, 8)
        XCTAssertEqual(adapter["modules"]?.arrayValue?.first?["scaling"]?.numberValue, 2)
        XCTAssertEqual(adapter["ignored_tensors"]?.arrayValue?.count, 2)
        for metric in ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a"] {
            let block = try XCTUnwrap(document["distances"]?[metric]?["value"], metric)
            XCTAssertEqual(block["layer_ids"], .array((0...5).map(JSONValue.int)))
            XCTAssertEqual(block["tensor"]?.stringValue, "\(metric)/value")
            XCTAssertEqual(block["shape"], .array([6, 3, 3].map(JSONValue.int)))
            XCTAssertEqual(block["mean_tensor"]?.stringValue, "mean/\(metric)/value")
            XCTAssertNil(block["layers"], "the matrices are in the sidecar")
        }
        let files = AnalysisFiles.files(for: analysis)
        XCTAssertEqual(files.map(\.path).filter { $0.hasSuffix(".csv") }.count, 2 * DistanceMetric.allCases.count)
        let csv = String(decoding: try XCTUnwrap(files.first { $0.path == "distances-l2-query.csv" }?.contents), as: UTF8.self)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "task,cola,mrpc,rte")
        XCTAssertTrue(lines[1].hasPrefix("cola,0.0,"), String(lines[1]))
    }

    func testCSVQuotesAwkwardNamesAndLeavesUndefinedCellsEmpty() {
        var matrix = PairMatrix(count: 2, fill: 0.5)
        matrix[0, 1] = .nan
        XCTAssertEqual(MatrixCSV.text(tasks: ["a,b", "say \"hi\""], matrix: matrix),
                       "task,\"a,b\",\"say \"\"hi\"\"\"\n\"a,b\",0.5,\n\"say \"\"hi\"\"\",0.5,0.5\n")
    }

    func testOutputFolderReplacesOnlyItsOwnOutput() throws {
        let directory = TemporaryDirectory("out")
        defer { directory.remove() }
        let target = directory.path + "/study"
        try OutputFolder.write([OutputFile("metrics.json", text: "{}\n"), OutputFile("sub/x.csv", text: "a\n")], to: target)
        XCTAssertEqual(try String(contentsOfFile: target + "/sub/x.csv", encoding: .utf8), "a\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + "/.tvgeo-output"))
        try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 2}\n")], to: target)
        XCTAssertEqual(try String(contentsOfFile: target + "/metrics.json", encoding: .utf8), "{\"v\": 2}\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "/sub/x.csv"), "the previous output is replaced whole")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary folder is left behind")

        let mine = directory.write("mine/notes.txt", text: "keep me")
        XCTAssertThrowsError(try OutputFolder.write([OutputFile("metrics.json", text: "{}")], to: directory.path + "/mine")) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
        }
        XCTAssertEqual(try String(contentsOfFile: mine, encoding: .utf8), "keep me")
        XCTAssertThrowsError(try OutputFolder.write([OutputFile("metrics.json", text: "{}")], to: mine)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
        }
    }
}

/// What a run killed while writing an output folder leaves, and how the next run recovers it.
final class OutputRecoveryTests: XCTestCase {
    func testEarlierOutputMovedAsideComesBackAndStagingGoes() throws {
        let directory = TemporaryDirectory("recover")
        defer { directory.remove() }
        // pid 4194305 is beyond Linux's largest pid (2^22), so that process cannot exist.
        directory.write(".study.tvgeo-old-4194305/metrics.json", text: "{\"old\": true}")
        directory.write(".study.tvgeo-tmp-4194305/partial.json", text: "{")
        directory.write(".other.tvgeo-tmp-4194305/keep.json", text: "{}")
        OutputFolder.recoverInterruptedRuns(parent: directory.path, name: "study", target: directory.path + "/study")
        XCTAssertEqual(try String(contentsOfFile: directory.path + "/study/metrics.json", encoding: .utf8), "{\"old\": true}")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), [".other.tvgeo-tmp-4194305", "study"],
                       "only this target's leftovers are touched")
        // A live process's staging folder is left alone.
        let live = ".study.tvgeo-tmp-\(ProcessInfo.processInfo.processIdentifier)"
        directory.write(live + "/x", text: "")
        OutputFolder.recoverInterruptedRuns(parent: directory.path, name: "study", target: directory.path + "/study")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/" + live + "/x"))
    }
}

/// The study's assembly refuses a kernel result that lacks a metric of its kind (a metric added
/// to the catalogue without its kernel), and fills the metrics of other kinds with null.
final class StudyBlocksTests: XCTestCase {
    func testAMetricTheKernelDidNotFillIsAnError() {
        let partial: [DistanceMetric: PairMatrix] = [.l2: PairMatrix(count: 2, fill: 0)]
        XCTAssertThrowsError(try StudyBlocks.layered(.lora, blocks: [partial], layerIDs: [0], count: 2)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 70)
            XCTAssertTrue("\(error)".contains(DistanceMetric.cosine.id), "\(error)")
        }
    }

    func testMetricsOfAnotherKindAreNullThroughout() throws {
        var blocks: [DistanceMetric: PairMatrix] = [:]
        for metric in DistanceMetric.applying(to: .full) { blocks[metric] = PairMatrix(count: 2, fill: 0) }
        let layered = try StudyBlocks.layered(.full, blocks: [blocks, blocks], layerIDs: [3, 5], count: 2)
        XCTAssertEqual(Set(layered.keys), Set(DistanceMetric.allCases))
        for metric in DistanceMetric.allCases where !DistanceMetric.applying(to: .full).contains(metric) {
            XCTAssertTrue(layered[metric]!.mean.values.allSatisfy(\.isNaN), metric.id)
            XCTAssertEqual(layered[metric]!.layerIDs, [3, 5])
        }
    }

    func testModulesFilterNamesWhatIsThere() {
        XCTAssertEqual(try StudyBlocks.selectModules(nil, available: ["a", "b"], source: "x", having: "they share"), ["a", "b"])
        XCTAssertThrowsError(try StudyBlocks.selectModules(["c"], available: ["b", "a"], source: "these adapters", having: "they share")) { error in
            XCTAssertTrue("\(error)".contains("--modules: no module \"c\" in these adapters (they share a, b)"), "\(error)")
        }
    }
}

/// Real collections: an untrained adapter or two copies of one adapter leave the maps of the
/// other tasks as they are.
final class MappedTasksTests: XCTestCase {
    let synthetic = repositoryRoot + "/Tests/Fixtures/synthetic"
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"

    func testAnUntrainedAdapterIsLeftOutOfItsMapsOnly() throws {
        let names = ["t_r8", "t_r4", "t_zero_b", "t_rankdef"]
        let analysis = try LoRAStudy.analyze(names.map { AdapterArgument(parsing: synthetic + "/" + $0) })
        let findings = try StudyFindings.compute(analysis, scores: nil)
        for module in analysis.modules {
            for metric in [DistanceMetric.cosine, .grassmann, .grassmannB] {
                XCTAssertEqual(findings.leftOutOfMaps[metric]?[module], [2], "\(metric.id) · \(module)")
                let pca = try XCTUnwrap(findings.pca[metric]?[module], "the other tasks keep their map")
                XCTAssertTrue(pca.coordinates[2].allSatisfy(\.isNaN))
                XCTAssertTrue([0, 1, 3].allSatisfy { pca.coordinates[$0].allSatisfy(\.isFinite) })
                XCTAssertEqual(findings.mds[metric]?[module]?.coordinates[2].allSatisfy(\.isNaN), true)
                XCTAssertEqual(findings.clustering[metric]?[module]?.order.last, 2, "placed last in the ordering")
            }
            XCTAssertNil(findings.leftOutOfMaps[.l2]?[module], "l2 is defined for it: it stays on the map")
            XCTAssertNotNil(findings.pca[.l2]?[module])
        }
        let warnings = findings.warnings.map(\.text).filter { $0.contains("left out of the maps") }
        // Comb's metrics are also undefined across ranks (t_r4 is rank 4, the others rank 8) and for a
        // zero host (comb_shift) or a zero average (never here): t_r4 and t_zero_b leave their maps.
        XCTAssertEqual(warnings, ["t_r4, t_zero_b are left out of the maps and ordering of comb_shift, comb_error "
                                  + "(\(analysis.modules.joined(separator: ", "))): their distances there are undefined",
                                  "t_zero_b is left out of the maps and ordering of cosine, grassmann, grassmann_b "
                                  + "(\(analysis.modules.joined(separator: ", "))): its distances there are undefined"])
    }

    func testIdenticalAdaptersAreOneTaskOnTheMaps() throws {
        let arguments = [AdapterArgument(task: "cola", path: example + "/cola"), AdapterArgument(task: "cola_copy", path: example + "/cola"),
                         AdapterArgument(task: "mrpc", path: example + "/mrpc"), AdapterArgument(task: "rte", path: example + "/rte")]
        let analysis = try LoRAStudy.analyze(arguments)
        let findings = try StudyFindings.compute(analysis, scores: nil)
        XCTAssertEqual(findings.duplicates, [[0, 1]])
        XCTAssertEqual(findings.warnings.filter { $0.text.contains("identical updates") }.count, 1, "reported once")
        XCTAssertFalse(findings.warnings.contains { $0.text.hasPrefix("MDS of") }, "no MDS warnings from the copy")
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                XCTAssertEqual(findings.leftOutOfMaps[metric]?[module], [1], "\(metric.id) · \(module)")
                XCTAssertEqual(findings.clustering[metric]?[module]?.order.count, 4)
            }
        }
        let document = MetricsDocument.json(analysis, findings: findings, tool: ToolInfo(), layers: LayersSidecar.make(for: analysis).record)
        XCTAssertEqual(document["duplicates"], .array([.array([.string("cola"), .string("cola_copy")])]))
        XCTAssertEqual(document["pca"]?["l2"]?["query"]?["left_out"], .array([.string("cola_copy")]))
    }
}
