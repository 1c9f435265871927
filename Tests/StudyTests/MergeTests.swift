import AnalysisCore
import Diagnostics
import Foundation
import JSONText
@testable import Study
import TensorIO
import TVGeoTestSupport
import XCTest

final class MergeTests: XCTestCase {
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"
    let synthetic = repositoryRoot + "/Tests/Fixtures/synthetic"
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("merge") }
    override func tearDown() { directory.remove() }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    func record(_ folder: String) throws -> JSONValue { try JSONParser.parse(try bytes(folder + "/tvgeo-merge.json")) }

    /// Every block's dense ΔW = s·B·A, as PEFT would apply it (scaling from the folder's config).
    func deltas(_ path: String) throws -> [BlockKey: Matrix] {
        let adapter = try LoRAAdapter(task: "x", path: path)
        var out: [BlockKey: Matrix] = [:]
        for (key, pair) in adapter.blocks {
            var b = [Double](repeating: 0, count: pair.outFeatures * pair.rank)
            var a = [Double](repeating: 0, count: pair.inFeatures * pair.rank)
            try b.withUnsafeMutableBufferPointer { b in
                try a.withUnsafeMutableBufferPointer { a in try adapter.copyFactors(key, b: b, aTransposed: a) }
            }
            out[key] = LoRAFactors(b: Matrix(rows: pair.outFeatures, cols: pair.rank, values: b),
                                   aTransposed: Matrix(rows: pair.inFeatures, cols: pair.rank, values: a), scaling: pair.scaling).denseDelta
        }
        return out
    }

    func relativeDifference(_ x: Matrix, _ y: Matrix) -> Double {
        (x - y).values.map(abs).max()! / y.values.map(abs).max()!
    }

    func average(_ x: Matrix, _ y: Matrix) -> Matrix {
        Matrix(rows: x.rows, cols: x.cols, values: zip(x.values, y.values).map { ($0 + $1) / 2 })
    }

    func assertError(_ exitCode: Int32, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? ToolError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.exitCode, exitCode, error.message, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "“\(error.message)” lacks “\(fragment)”", file: file, line: line)
            }
        }
    }

    /// A small F64 adapter: query and value at layers 0 and 1, d = 10, random factors.
    func fixture(_ name: String, rank: Int, alpha: Double, seed: UInt64, valueRank: Int? = nil,
                 extraConfig: [(String, JSONValue)] = [], layers: [Int] = [0, 1], modules: [String] = ["query", "value"],
                 features: Int = 10, dtype: SafetensorsBuilder.DType = .f64, head: Bool = true) -> String {
        var random = SeededRandom(seed: seed)
        var adapter = AdapterFixture(rank: rank, alpha: alpha)
        adapter.extraConfig = extraConfig
        for layer in layers {
            for module in modules {
                let r = module == "value" ? (valueRank ?? rank) : rank
                adapter.addModule(layer: layer, module: module, b: random.gaussians(features * r), a: random.gaussians(r * features),
                                  outFeatures: features, inFeatures: features, dtype: dtype)
            }
        }
        if head {
            adapter.tensors.add("base_model.model.classifier.weight", dtype: .f32, shape: [2, features], values: random.gaussians(2 * features))
        }
        return adapter.write(into: directory, name: name)
    }

    // MARK: comb on the real adapters

    func testCombOfTheRealAdaptersIsPyTorchsFloat32Average() throws {
        let out = directory.path + "/cola+mrpc"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: example + "/cola"), partner: AdapterArgument(parsing: example + "/mrpc"),
                                         method: .comb, out: out)
        XCTAssertEqual(merged.blocks.count, 12)
        let cola = try SafetensorsFile(path: example + "/cola/adapter_model.safetensors")
        let mrpc = try SafetensorsFile(path: example + "/mrpc/adapter_model.safetensors")
        let result = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        XCTAssertEqual(result.tensors.map(\.name).sorted(), cola.tensors.map(\.name).sorted())
        var loraTensors = 0
        for tensor in cola.tensors {
            let written = try XCTUnwrap(result.info(tensor.name))
            XCTAssertEqual(written.dtype, tensor.dtype)
            XCTAssertEqual(written.shape, tensor.shape)
            if tensor.name.contains(".lora_") {
                loraTensors += 1
                let a = try cola.doubles(tensor.name).map { Float($0) }, b = try mrpc.doubles(tensor.name).map { Float($0) }
                let expected = zip(a, b).map { ($0 + $1) * Float(0.5) }
                let expectedBytes = expected.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
                XCTAssertEqual(try result.rawBytes(tensor.name), expectedBytes, tensor.name)
            } else {
                XCTAssertEqual(try result.rawBytes(tensor.name), try cola.rawBytes(tensor.name), "\(tensor.name) is cola's head")
            }
        }
        XCTAssertEqual(loraTensors, 24)
        XCTAssertEqual(try bytes(out + "/adapter_config.json"), try bytes(example + "/cola/adapter_config.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/.tvgeo-output"))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       [".tvgeo-output", "adapter_config.json", "adapter_model.safetensors", "tvgeo-merge.json"])

        let json = try record(out)
        XCTAssertEqual(json["schema"], .string("tvgeo.merge/1"))
        XCTAssertEqual(json["method"], .string("comb"))
        XCTAssertEqual(json["tool"]?["version"], .string(ToolInfo.version))
        XCTAssertEqual(json["host"]?["task"], .string("cola"))
        XCTAssertEqual(json["partner"]?["task"], .string("mrpc"))
        XCTAssertEqual(json["host"]?["path"], .string(example + "/cola"))
        let files = try XCTUnwrap(json["host"]?["files"]?.arrayValue)
        XCTAssertEqual(files.map { $0["name"] }, [.string("adapter_config.json"), .string("adapter_model.safetensors")])
        for file in files {
            let path = try XCTUnwrap(file["path"]?.stringValue)
            XCTAssertEqual(file["sha256"]?.stringValue, try sha256sum(path), path)
        }
        XCTAssertEqual(json["kept_tensors"], .array([.string("base_model.model.classifier.bias"), .string("base_model.model.classifier.weight")]))
        let blocks = try XCTUnwrap(json["blocks"]?.arrayValue)
        XCTAssertEqual(blocks.count, 12)
        XCTAssertEqual(blocks[0]["module"], .string("query"))
        XCTAssertEqual(blocks[0]["layer"], .int(0))
        XCTAssertEqual(blocks[0]["merged"]?["rank"], .int(8))
        XCTAssertEqual(blocks[0]["merged"]?["scaling"]?.numberValue, 2)
        XCTAssertNil(blocks[0]["truncation_error"])
        // The folder is a valid PEFT adapter for tvgeo's own loader: config rank = tensor rank.
        XCTAssertEqual(try LoRAAdapter(task: "merged", path: out).blocks.count, 12)
    }

    func testCombOfAnAdapterWithItselfReproducesPEFTsFileByteForByte() throws {
        // (x + x) * 0.5 = x, and the writer lays the file out as the reference writer did.
        for method in [MergeMethod.comb, .svd] {
            let out = directory.path + "/self-\(method.rawValue)"
            try MergeRunner.run(host: AdapterArgument(parsing: "a=" + example + "/cola"), partner: AdapterArgument(parsing: "b=" + example + "/cola"),
                                method: method, out: out)
            let written = try bytes(out + "/adapter_model.safetensors"), original = try bytes(example + "/cola/adapter_model.safetensors")
            if method == .comb {
                XCTAssertEqual(written, original)
            } else {
                // The SVD of ΔW itself gives other factors of the same update, in the same layout.
                XCTAssertEqual(written.count, original.count)
                let length = (0..<8).reduce(0) { $0 | Int(original[$1]) << (8 * $1) }
                XCTAssertEqual(written.prefix(8 + length), original.prefix(8 + length), "same header")
                let (a, m) = (try deltas(example + "/cola"), try deltas(out))
                for (key, delta) in m { XCTAssertLessThan(relativeDifference(delta, a[key]!), 1e-5, "\(key)") }
            }
        }
    }

    /// `sha256sum`, an implementation independent of tvgeo's.
    func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    // MARK: cat

    func testCatIsTheExactAverageWithPatternsWhereRanksDiffer() throws {
        let host = fixture("host", rank: 2, alpha: 4, seed: 11,
                           extraConfig: [("rank_pattern", .object([])), ("alpha_pattern", .object([])), ("task_type", .string("SEQ_CLS"))])
        // The partner has rank 3 on query and 1 on value, rsLoRA: s = 3/√3 on query, 3 on value.
        let partner = fixture("partner", rank: 3, alpha: 3, seed: 12, valueRank: 1,
                              extraConfig: [("rank_pattern", .object([("value", .int(1))])), ("use_rslora", .bool(true))])
        let out = directory.path + "/cat"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner), method: .cat, out: out)
        XCTAssertFalse(merged.configUnchanged)
        let (dHost, dPartner, dMerged) = (try deltas(host), try deltas(partner), try deltas(out))
        XCTAssertEqual(dMerged.count, 4)
        for (key, delta) in dMerged {
            XCTAssertLessThan(relativeDifference(delta, average(dHost[key]!, dPartner[key]!)), 1e-12, "\(key)")
        }
        let config = try JSONParser.parse(try bytes(out + "/adapter_config.json"))
        let original = try JSONParser.parse(try bytes(host + "/adapter_config.json"))
        // Ranks 5 (query) and 3 (value), two blocks each: the smaller is the default, query gets a pattern.
        XCTAssertEqual(config["r"], .int(3))
        XCTAssertEqual(config["lora_alpha"], .int(3))
        XCTAssertEqual(config["use_rslora"], .bool(false))
        XCTAssertEqual(config["rank_pattern"], .object([("query", .int(5))]))
        XCTAssertEqual(config["alpha_pattern"], .object([("query", .int(5))]))
        let rewritten: Set<String> = ["r", "lora_alpha", "use_rslora", "rank_pattern", "alpha_pattern"]
        XCTAssertEqual(config.objectPairs!.map(\.0), original.objectPairs!.map(\.0), "same keys, same order")
        for (key, value) in original.objectPairs! where !rewritten.contains(key) {
            XCTAssertEqual(config[key], value, key)
        }
        let loaded = try LoRAAdapter(task: "merged", path: out)
        XCTAssertEqual(Set(loaded.blocks.values.map(\.rank)), [3, 5])
        XCTAssertEqual(Set(loaded.blocks.values.map(\.scaling)), [1])
        let blocks = try XCTUnwrap(try record(out)["blocks"]?.arrayValue)
        XCTAssertEqual(blocks.first { $0["module"] == .string("value") }?["merged"]?["rank"], .int(3))
        XCTAssertEqual(blocks.first { $0["module"] == .string("value") }?["partner"]?["scaling"]?.numberValue, 3)
    }

    func testCatAddsPatternsOnlyWhenNeededAndOfTheRealAdapters() throws {
        // No pattern keys in the host's config and none needed: none added (older PEFT refuses unknown keys).
        let host = fixture("plain", rank: 2, alpha: 4, seed: 13)
        let partner = fixture("other", rank: 2, alpha: 2, seed: 14)
        try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner),
                            method: .cat, out: directory.path + "/uniform")
        let uniform = try JSONParser.parse(try bytes(directory.path + "/uniform/adapter_config.json"))
        XCTAssertNil(uniform["rank_pattern"])
        XCTAssertEqual(uniform["r"], .int(4))
        // Needed but absent: added.
        let mixed = fixture("mixed", rank: 2, alpha: 2, seed: 15, valueRank: 4, extraConfig: [("rank_pattern", .object([("value", .int(4))]))])
        try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: mixed),
                            method: .cat, out: directory.path + "/mixed-out")
        let added = try JSONParser.parse(try bytes(directory.path + "/mixed-out/adapter_config.json"))
        XCTAssertEqual(added["r"], .int(4))
        XCTAssertEqual(added["rank_pattern"], .object([("value", .int(6))]))
        XCTAssertEqual(added["alpha_pattern"], .object([("value", .int(6))]))

        let out = directory.path + "/real-cat"
        try MergeRunner.run(host: AdapterArgument(parsing: example + "/cola"), partner: AdapterArgument(parsing: example + "/rte"),
                            method: .cat, out: out)
        let config = try JSONParser.parse(try bytes(out + "/adapter_config.json"))
        XCTAssertEqual(config["r"], .int(16))
        XCTAssertEqual(config["lora_alpha"], .int(16))
        XCTAssertEqual(config["rank_pattern"], .object([]))
        let (cola, rte, merged) = (try deltas(example + "/cola"), try deltas(example + "/rte"), try deltas(out))
        for (key, delta) in merged {
            // F32 storage of s·B/2 = B (s = 2) and of A is exact here.
            XCTAssertLessThan(relativeDifference(delta, average(cola[key]!, rte[key]!)), 1e-12, "\(key)")
        }
    }

    // MARK: cat with different module sets

    func isQuery(_ key: BlockKey) -> Bool { key.module.path.last == "query" }

    func testCatKeepsAModuleOnlyTheHostAdaptsAsItIs() throws {
        // Host: query and value, rank 2, alpha 4 (s = 2); partner: query only, rank 3, alpha 3, rsLoRA (s = √3).
        let both = fixture("both", rank: 2, alpha: 4, seed: 81, extraConfig: [("rank_pattern", .object([])), ("alpha_pattern", .object([]))])
        let queryOnly = fixture("query-only", rank: 3, alpha: 3, seed: 82, extraConfig: [("use_rslora", .bool(true)),
                                                                                      ("target_modules", .array([.string("query")]))],
                                modules: ["query"])
        let out = directory.path + "/kept-host"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: both), partner: AdapterArgument(parsing: queryOnly), method: .cat, out: out)
        XCTAssertEqual(merged.keptModules, [KeptModule(module: "value", origin: .hostOnly, task: "both", layers: [0, 1])])
        XCTAssertTrue(merged.warnings.contains { $0.text.hasPrefix("cat: module value is adapted by the host both only (not by query-only); "
                                                                    + "its LoRA factors are kept as they are at layers 0, 1") }, "\(merged.warnings)")
        let (dHost, dPartner, dMerged) = (try deltas(both), try deltas(queryOnly), try deltas(out))
        XCTAssertEqual(dMerged.count, 4)
        for (key, delta) in dMerged {
            let expected = isQuery(key) ? average(dHost[key]!, dPartner[key]!) : dHost[key]!
            XCTAssertLessThan(relativeDifference(delta, expected), 1e-12, "\(key)")
        }
        let written = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        let host = try SafetensorsFile(path: both + "/adapter_model.safetensors")
        XCTAssertEqual(written.tensors.map(\.name).sorted(), host.tensors.map(\.name).sorted())
        for tensor in host.tensors where tensor.name.contains(".value.lora_") {
            XCTAssertEqual(try written.rawBytes(tensor.name), try host.rawBytes(tensor.name), tensor.name)
        }
        let config = try JSONParser.parse(try bytes(out + "/adapter_config.json"))
        // Ranks 5 (query) and 2 (value), alphas 5 and 4, two blocks each: the smaller are the defaults.
        XCTAssertEqual(config["r"], .int(2))
        XCTAssertEqual(config["lora_alpha"], .int(4))
        XCTAssertEqual(config["rank_pattern"], .object([("query", .int(5))]))
        XCTAssertEqual(config["alpha_pattern"], .object([("query", .int(5))]))
        XCTAssertEqual(config["target_modules"], .array([.string("query"), .string("value")]))
        let loaded = try LoRAAdapter(task: "merged", path: out)
        XCTAssertEqual(Set(loaded.blocks.map { "\(isQuery($0.key)) \($0.value.rank) \($0.value.scaling)" }), ["true 5 1.0", "false 2 2.0"])

        let json = try record(out)
        let kept = try XCTUnwrap(json["kept_modules"]?.arrayValue)
        XCTAssertEqual(kept.count, 1)
        XCTAssertEqual(kept[0]["module"], .string("value"))
        XCTAssertEqual(kept[0]["from"], .string("host"))
        XCTAssertEqual(kept[0]["layers"], .array([.int(0), .int(1)]))
        let value = try XCTUnwrap(json["blocks"]?.arrayValue?.first { $0["module"] == .string("value") })
        XCTAssertEqual(value["origin"], .string("host only"))
        XCTAssertEqual(value["partner"], .null)
        XCTAssertEqual(value["merged"]?["rank"], .int(2))
        XCTAssertEqual(value["merged"]?["scaling"]?.numberValue, 2)
        XCTAssertEqual(json["blocks"]?.arrayValue?.first?["origin"], .string("both"))
        XCTAssertTrue(json["warnings"]?.arrayValue?.contains { $0.stringValue?.hasPrefix("cat: module value") == true } == true)
    }

    func testCatAddsAModuleOnlyThePartnerAdaptsWithTargetsAndPatterns() throws {
        // Host: query only, rank 3, alpha 3, rsLoRA; partner: query and value, rank 2, alpha 4.
        let queryOnly = fixture("query-only", rank: 3, alpha: 3, seed: 83, extraConfig: [("use_rslora", .bool(true)),
                                                                                      ("target_modules", .array([.string("query")]))],
                                modules: ["query"])
        let both = fixture("both", rank: 2, alpha: 4, seed: 84)
        let out = directory.path + "/kept-partner"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: queryOnly), partner: AdapterArgument(parsing: both), method: .cat, out: out)
        XCTAssertEqual(merged.keptModules, [KeptModule(module: "value", origin: .partnerOnly, task: "both", layers: [0, 1])])
        XCTAssertTrue(merged.warnings.contains { $0.text.hasPrefix("cat: module value is adapted by the partner both only (not by query-only)") })
        let (dHost, dPartner, dMerged) = (try deltas(queryOnly), try deltas(both), try deltas(out))
        XCTAssertEqual(dMerged.count, 4)
        for (key, delta) in dMerged {
            let expected = isQuery(key) ? average(dHost[key]!, dPartner[key]!) : dPartner[key]!
            XCTAssertLessThan(relativeDifference(delta, expected), 1e-12, "\(key)")
        }
        // The partner's value factors, byte for byte, under the host's naming; the host's head.
        let written = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        let partner = try SafetensorsFile(path: both + "/adapter_model.safetensors")
        let host = try SafetensorsFile(path: queryOnly + "/adapter_model.safetensors")
        XCTAssertEqual(written.tensors.map(\.name).sorted(),
                       (host.tensors.map(\.name) + partner.tensors.map(\.name).filter { $0.contains(".value.") }).sorted())
        for tensor in partner.tensors where tensor.name.contains(".value.lora_") {
            XCTAssertEqual(try written.rawBytes(tensor.name), try partner.rawBytes(tensor.name), tensor.name)
        }
        XCTAssertEqual(try written.rawBytes("base_model.model.classifier.weight"), try host.rawBytes("base_model.model.classifier.weight"))
        // PEFT must create LoRA layers at exactly the partner's value modules, with their own rank and scaling.
        let config = try JSONParser.parse(try bytes(out + "/adapter_config.json"))
        XCTAssertEqual(config["target_modules"], .array([.string("query"), .string("bert.encoder.layer.0.attention.self.value"),
                                                         .string("bert.encoder.layer.1.attention.self.value")]))
        XCTAssertEqual(config["use_rslora"], .bool(false))
        XCTAssertEqual(config["r"], .int(2))
        XCTAssertEqual(config["lora_alpha"], .int(4))
        XCTAssertEqual(config["rank_pattern"], .object([("query", .int(5))]))
        XCTAssertEqual(config["alpha_pattern"], .object([("query", .int(5))]))
        let loaded = try LoRAAdapter(task: "merged", path: out)
        XCTAssertEqual(Set(loaded.blocks.map { "\(isQuery($0.key)) \($0.value.rank) \($0.value.scaling)" }), ["true 5 1.0", "false 2 2.0"])
        let value = try XCTUnwrap(try record(out)["blocks"]?.arrayValue?.first { $0["module"] == .string("value") })
        XCTAssertEqual(value["origin"], .string("partner only"))
        XCTAssertEqual(value["host"], .null)
        XCTAssertEqual(value["lora_A"], .string("base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight"))
    }

    func testCatKeptModulesUnderRSLoRAOtherTargetFormsAndRefusals() throws {
        // A kept rsLoRA module (rank 3, alpha 3: s = √3) needs lora_alpha = 3√3 once use_rslora is false.
        let rs = fixture("rs", rank: 3, alpha: 3, seed: 85, extraConfig: [("use_rslora", .bool(true))])
        let queryOnly = fixture("q", rank: 2, alpha: 2, seed: 86, extraConfig: [("target_modules", .array([.string("query")]))],
                                modules: ["query"])
        let out = directory.path + "/rs-out"
        try MergeRunner.run(host: AdapterArgument(parsing: rs), partner: AdapterArgument(parsing: queryOnly), method: .cat, out: out)
        let config = try JSONParser.parse(try bytes(out + "/adapter_config.json"))
        XCTAssertEqual(config["r"], .int(3))
        XCTAssertEqual(config["lora_alpha"], .int(5))
        XCTAssertEqual(config["rank_pattern"], .object([("query", .int(5))]))
        XCTAssertEqual(config["alpha_pattern"], .object([("value", .double(3 * Double(3).squareRoot()))]))
        let (dHost, dMerged) = (try deltas(rs), try deltas(out))
        for (key, delta) in dMerged where !isQuery(key) {
            XCTAssertLessThan(relativeDifference(delta, dHost[key]!), 1e-15, "\(key)")
        }

        // target_modules as a regular expression gets the partner's paths as alternatives; none becomes the full list.
        let both = fixture("both", rank: 2, alpha: 2, seed: 87)
        for (targets, expected) in [(JSONValue.string(".*\\.query"),
                                     JSONValue.string("(?:.*\\.query)|bert\\.encoder\\.layer\\.0\\.attention\\.self\\.value|"
                                                      + "bert\\.encoder\\.layer\\.1\\.attention\\.self\\.value")),
                                    (.null, .array(["0.attention.self.query", "1.attention.self.query", "0.attention.self.value",
                                                    "1.attention.self.value"].map { .string("bert.encoder.layer." + $0) }))] {
            let host = fixture("targets", rank: 2, alpha: 2, seed: 88, extraConfig: [("target_modules", targets)], modules: ["query"])
            try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: both), method: .cat,
                                out: directory.path + "/targets-out")
            XCTAssertEqual(try JSONParser.parse(try bytes(directory.path + "/targets-out/adapter_config.json"))["target_modules"], expected)
        }

        // A host config that would keep PEFT from creating the partner's modules is refused (and the pair skipped by --all-pairs).
        let excluding = fixture("excluding", rank: 2, alpha: 2, seed: 89, extraConfig: [("exclude_modules", .array([.string("value")]))],
                                modules: ["query"])
        assertError(65, ["excluding/adapter_config.json: exclude_modules: excludes bert.encoder.layer.0.attention.self.value"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: excluding), partner: AdapterArgument(parsing: both), method: .cat,
                                out: self.directory.path + "/refused")
        }
        let layered = fixture("layered", rank: 2, alpha: 2, seed: 90, extraConfig: [("layers_to_transform", .array([.int(1)]))],
                              modules: ["query"])
        assertError(65, ["layers_to_transform", "the host layered adapts layers 1 only", "bert.encoder.layer.0.attention.self.value"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: layered), partner: AdapterArgument(parsing: both), method: .cat,
                                out: self.directory.path + "/refused")
        }
        let pairs = try MergeRunner.runAllPairs([excluding, both].map(AdapterArgument.init(parsing:)), method: .cat, out: directory.path + "/pairs")
        XCTAssertEqual(pairs.merges.map(\.folder), ["both+excluding"])
        XCTAssertTrue(pairs.skipped.first?.reason.contains("exclude_modules") == true)
        // No module in common: nothing to merge, whatever the method.
        let valueOnly = fixture("value-only", rank: 2, alpha: 2, seed: 91, modules: ["value"])
        for method in MergeMethod.allCases {
            assertError(65, ["adapts modules value but the host q", "no module in common"]) {
                try MergeRunner.run(host: AdapterArgument(parsing: queryOnly), partner: AdapterArgument(parsing: valueOnly), method: method,
                                    out: self.directory.path + "/refused")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/refused"))
    }

    func testPatternKeysSeparateGPT2sTwoCProjAndSingleLayers() throws {
        func entry(_ path: String, _ value: Int) -> MergedConfig.PatternEntry {
            guard case .lora(let name) = TensorNaming.role(of: "base_model.model." + path + ".lora_A.weight") else { fatalError(path) }
            return MergedConfig.PatternEntry(module: name.moduleKey, path: path, layer: name.layer, value: Double(value))
        }
        var entries: [MergedConfig.PatternEntry] = []
        for layer in 0..<12 {
            entries.append(entry("transformer.h.\(layer).attn.c_attn", 16))
            entries.append(entry("transformer.h.\(layer).attn.c_proj", 12))
            entries.append(entry("transformer.h.\(layer).mlp.c_proj", layer == 1 ? 20 : 16))
        }
        let keys = try MergedConfig.patternKeys(entries, defaultValue: 16)
        XCTAssertEqual(keys.map(\.0), ["attn.c_proj", "1.mlp.c_proj"])
        XCTAssertEqual(keys.map(\.1), [12, 20])
        // "1.mlp.c_proj" must not select layer 11.
        XCTAssertTrue(AdapterConfig.pattern("1.mlp.c_proj", matches: "transformer.h.1.mlp.c_proj"))
        XCTAssertFalse(AdapterConfig.pattern("1.mlp.c_proj", matches: "transformer.h.11.mlp.c_proj"))
    }

    // MARK: svd

    func testSVDIsTheBestRankApproximationForTheHostsConfig() throws {
        let host = fixture("host", rank: 3, alpha: 6, seed: 21)
        let partner = fixture("partner", rank: 2, alpha: 8, seed: 22, valueRank: 4, extraConfig: [("rank_pattern", .object([("value", .int(4))]))])
        let out = directory.path + "/svd"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner), method: .svd, out: out)
        XCTAssertTrue(merged.configUnchanged)
        XCTAssertEqual(try bytes(out + "/adapter_config.json"), try bytes(host + "/adapter_config.json"))
        let (dHost, dPartner, dMerged) = (try deltas(host), try deltas(partner), try deltas(out))
        let json = try record(out)
        let blocks = try XCTUnwrap(json["blocks"]?.arrayValue)
        var largest = 0.0
        for (key, delta) in dMerged {
            let target = average(dHost[key]!, dPartner[key]!)
            let (u, _) = try Factorizations.leftSingularVectors(target)
            let top = u.columns(0..<3)
            let best = Matrix.multiply(top, Matrix.multiply(top, transposeA: true, target))
            XCTAssertLessThan(relativeDifference(delta, best), 1e-11, "\(key)")
            let reported = try XCTUnwrap(blocks.first {
                $0["layer"] == .int(key.layer) && $0["module_path"]?.stringValue?.hasSuffix(key.module.path.last!) == true
            }?["truncation_error"]?.numberValue)
            let error = (target - delta).frobeniusNorm / target.frobeniusNorm
            XCTAssertEqual(reported, error, accuracy: 1e-11)
            XCTAssertGreaterThan(reported, 0.05)
            largest = max(largest, reported)
        }
        XCTAssertEqual(json["max_truncation_error"]?.numberValue, largest)
        XCTAssertEqual(try LoRAAdapter(task: "m", path: out).blocks.values.map(\.rank), [3, 3, 3, 3])
    }

    func testSVDOfTheRealAdaptersKeepsConfigAndHead() throws {
        let out = directory.path + "/svd-real"
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: example + "/mrpc"), partner: AdapterArgument(parsing: example + "/sst2"),
                                         method: .svd, out: out)
        XCTAssertEqual(try bytes(out + "/adapter_config.json"), try bytes(example + "/mrpc/adapter_config.json"))
        let errors = merged.blocks.compactMap(\.truncationError)
        XCTAssertEqual(errors.count, 12)
        XCTAssertTrue(errors.allSatisfy { $0 > 0 && $0 < 1 }, "\(errors)")
        let written = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        let mrpc = try SafetensorsFile(path: example + "/mrpc/adapter_model.safetensors")
        XCTAssertEqual(try written.rawBytes("base_model.model.classifier.weight"), try mrpc.rawBytes("base_model.model.classifier.weight"))
        XCTAssertTrue(written.tensors.allSatisfy { $0.dtype == .f32 })
        // Stored in F32: ΔW′ matches the dense best approximation to F32 precision.
        let (a, b, m) = (try deltas(example + "/mrpc"), try deltas(example + "/sst2"), try deltas(out))
        let key = m.keys.sorted().first!
        let target = average(a[key]!, b[key]!)
        let (u, _) = try Factorizations.leftSingularVectors(target)
        let top = u.columns(0..<8)
        XCTAssertLessThan(relativeDifference(m[key]!, Matrix.multiply(top, Matrix.multiply(top, transposeA: true, target))), 1e-5)
    }

    // MARK: dtypes

    func testBFloat16HostRoundsLikePyTorchAndKeepsItsHead() throws {
        // The partner: t_bf16_patterns's tensors perturbed, also BF16, with the same config.
        let source = try SafetensorsFile(path: synthetic + "/t_bf16_patterns/adapter_model.safetensors")
        var builder = SafetensorsBuilder()
        var random = SeededRandom(seed: 31)
        for tensor in source.tensors where tensor.name.contains(".lora_") {
            builder.add(tensor.name, dtype: .bf16, shape: tensor.shape,
                        values: try source.doubles(tensor.name).map { $0 * 0.7 + 0.01 * random.gaussian() })
        }
        directory.write("partner/adapter_model.safetensors", bytes: builder.bytes())
        directory.write("partner/adapter_config.json", bytes: try bytes(synthetic + "/t_bf16_patterns/adapter_config.json"))
        let out = directory.path + "/bf16"
        try MergeRunner.run(host: AdapterArgument(parsing: synthetic + "/t_bf16_patterns"),
                            partner: AdapterArgument(parsing: directory.path + "/partner"),
                            method: .comb, out: out)
        let partner = try SafetensorsFile(path: directory.path + "/partner/adapter_model.safetensors")
        let written = try SafetensorsFile(path: out + "/adapter_model.safetensors")
        func bf16(_ value: Float) -> Float { Float(bitPattern: UInt32(SafetensorsBuilder.bfloat16Bits(value)) << 16) }
        var differsFromExact = false
        for tensor in source.tensors {
            XCTAssertEqual(written.info(tensor.name)?.dtype, .bf16)
            if tensor.name.contains(".lora_") {
                let x = try source.doubles(tensor.name), y = try partner.doubles(tensor.name)
                // PyTorch on bf16 tensors: add in float32, round to bf16, halve, round to bf16.
                let expected = zip(x, y).map { Double(bf16(bf16(Float($0) + Float($1)) * 0.5)) }
                XCTAssertEqual(try written.doubles(tensor.name), expected, tensor.name)
                differsFromExact = differsFromExact || expected != zip(x, y).map { ($0 + $1) / 2 }
            } else {
                XCTAssertEqual(try written.rawBytes(tensor.name), try source.rawBytes(tensor.name), tensor.name)
            }
        }
        XCTAssertTrue(differsFromExact)
    }

    // MARK: all pairs

    func testAllPairsWritesEveryOrderedPairAndAManifest() throws {
        let out = directory.path + "/pairs"
        let arguments = ["cola", "mrpc", "rte"].map { AdapterArgument(parsing: example + "/" + $0) }
        var reported: [String] = []
        let result = try MergeRunner.runAllPairs(arguments, method: .comb, out: out) { _, _, entry, _ in reported.append(entry.folder) }
        let entries = result.merges
        XCTAssertEqual(result.skipped, [])
        let expected = ["cola+mrpc", "cola+rte", "mrpc+cola", "mrpc+rte", "rte+cola", "rte+mrpc"]
        XCTAssertEqual(entries.map(\.folder), expected)
        XCTAssertEqual(reported, expected)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       Set(expected + [".tvgeo-output", "manifest.json", "manifest.csv"]))
        for entry in entries {
            let folder = out + "/" + entry.folder
            XCTAssertEqual(try bytes(folder + "/adapter_config.json"), try bytes(example + "/\(entry.host)/adapter_config.json"))
            XCTAssertEqual(try record(folder)["partner"]?["task"], .string(entry.partner))
            XCTAssertEqual(try LoRAAdapter(task: entry.folder, path: folder).blocks.count, 12)
        }
        // host+partner differs from partner+host: each keeps its host's head.
        let colaHead = try SafetensorsFile(path: out + "/cola+mrpc/adapter_model.safetensors").rawBytes("base_model.model.classifier.weight")
        let mrpcHead = try SafetensorsFile(path: out + "/mrpc+cola/adapter_model.safetensors").rawBytes("base_model.model.classifier.weight")
        XCTAssertEqual(colaHead,
                       try SafetensorsFile(path: example + "/cola/adapter_model.safetensors").rawBytes("base_model.model.classifier.weight"))
        XCTAssertNotEqual(colaHead, mrpcHead)
        let csv = String(decoding: try bytes(out + "/manifest.csv"), as: UTF8.self)
        XCTAssertEqual(csv.split(separator: "\n").first, "host,partner,folder,method,status,reason")
        XCTAssertEqual(csv.split(separator: "\n")[1], "cola,mrpc,cola+mrpc,comb,written,")
        XCTAssertEqual(csv.split(separator: "\n").count, 7)
        let manifest = try JSONParser.parse(try bytes(out + "/manifest.json"))
        XCTAssertEqual(manifest["schema"], .string("tvgeo.merge-manifest/2"))
        XCTAssertEqual(manifest["skipped"], .array([]))
        XCTAssertEqual(manifest["merges"]?.arrayValue?.count, 6)
        XCTAssertEqual(manifest["merges"]?.arrayValue?[5], .object([("host", .string("rte")), ("partner", .string("mrpc")),
                                                                    ("folder", .string("rte+mrpc")), ("method", .string("comb"))]))
        // A second run replaces the whole folder (fewer adapters, fewer folders).
        try MergeRunner.runAllPairs(Array(arguments.prefix(2)), method: .svd, out: out)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       [".tvgeo-output", "manifest.json", "manifest.csv", "cola+mrpc", "mrpc+cola"])
        XCTAssertEqual(try record(out + "/cola+mrpc")["method"], .string("svd"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [], "no staging left behind")
    }

    func testAllPairsWritesTheCompatiblePairsAndListsTheSkippedOnes() throws {
        // comb: t_r8 and t_near (rank 8) merge; t_r4 (rank 4) merges with neither.
        let out = directory.path + "/some"
        let arguments = [AdapterArgument(parsing: synthetic + "/t_r8"), AdapterArgument(parsing: synthetic + "/t_r4"),
                         AdapterArgument(parsing: synthetic + "/t_near")]
        var reported: [String] = []
        let result = try MergeRunner.runAllPairs(arguments, method: .comb, out: out) { done, total, entry, _ in
            reported.append("\(done)/\(total) \(entry.folder)")
        }
        XCTAssertEqual(result.merges.map(\.folder), ["t_r8+t_near", "t_near+t_r8"])
        XCTAssertEqual(reported, ["1/2 t_r8+t_near", "2/2 t_near+t_r8"])
        XCTAssertEqual(result.skipped.map { "\($0.host)+\($0.partner)" }, ["t_r8+t_r4", "t_r4+t_r8", "t_r4+t_near", "t_near+t_r4"])
        XCTAssertTrue(result.skipped[0].reason.contains("module query, layer 0: rank 4 here but 8 in the host t_r8"), result.skipped[0].reason)
        XCTAssertTrue(result.skipped[1].reason.contains("rank 8 here but 4 in the host t_r4"), result.skipped[1].reason)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       [".tvgeo-output", "manifest.json", "manifest.csv", "t_r8+t_near", "t_near+t_r8"])
        XCTAssertEqual(try LoRAAdapter(task: "m", path: out + "/t_near+t_r8").blocks.count, 6)

        let manifest = try JSONParser.parse(try bytes(out + "/manifest.json"))
        XCTAssertEqual(manifest["schema"], .string("tvgeo.merge-manifest/2"))
        XCTAssertEqual(manifest["merges"]?.arrayValue?.count, 2)
        XCTAssertEqual(manifest["merges"]?.arrayValue?[0], .object([("host", .string("t_r8")), ("partner", .string("t_near")),
                                                                    ("folder", .string("t_r8+t_near")), ("method", .string("comb"))]))
        let skipped = try XCTUnwrap(manifest["skipped"]?.arrayValue)
        XCTAssertEqual(skipped.count, 4)
        XCTAssertEqual(skipped[0].objectPairs?.map(\.0), ["host", "partner", "method", "reason"])
        XCTAssertEqual(skipped[0]["reason"], .string(result.skipped[0].reason))
        // One row per ordered pair, in pair order; written rows keep the four columns they had.
        let rows = String(decoding: try bytes(out + "/manifest.csv"), as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 7)
        XCTAssertEqual(rows[0], "host,partner,folder,method,status,reason")
        XCTAssertEqual(rows[2], "t_r8,t_near,t_r8+t_near,comb,written,")
        XCTAssertTrue(rows[1].hasPrefix("t_r8,t_r4,,comb,skipped,\""), rows[1])
        XCTAssertTrue(rows[1].contains("rank 4 here but 8 in the host t_r8"), rows[1])
        XCTAssertEqual(rows.filter { $0.contains(",skipped,") }.count, 4)

        // A bare .safetensors file cannot host: those pairs are skipped, the others written.
        let bare = try MergeRunner.runAllPairs([AdapterArgument(parsing: synthetic + "/t_r8"),
                                                AdapterArgument(parsing: synthetic + "/bare_r8.safetensors")], method: .cat, out: out)
        XCTAssertEqual(bare.merges.map(\.folder), ["t_r8+bare_r8"])
        XCTAssertTrue(bare.skipped.first?.reason.contains("host of a merge must be a PEFT adapter folder") == true, "\(bare.skipped)")
    }

    func testAllPairsWithNoCompatiblePairIs65AndWritesNothing() {
        let out = directory.path + "/never"
        let arguments = [AdapterArgument(parsing: synthetic + "/t_r8"), AdapterArgument(parsing: synthetic + "/t_r4")]
        assertError(65, ["rank 4 here but 8 in the host t_r8", "none of the 2 ordered pairs of the 2 adapters can be merged by comb"]) {
            try MergeRunner.runAllPairs(arguments, method: .comb, out: out)
        }
        // The first pair's problem is a missing host config (66 alone); the run's error is still 65.
        assertError(65, ["host of a merge must be a PEFT adapter folder", "none of the 2 ordered pairs"]) {
            try MergeRunner.runAllPairs([AdapterArgument(parsing: self.synthetic + "/bare_r8.safetensors"), arguments[1]],
                                        method: .comb, out: out)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        assertError(64, ["at least two"]) { try MergeRunner.runAllPairs(Array(arguments.prefix(1)), method: .comb, out: out) }
        assertError(64, ["given twice"]) { try MergeRunner.runAllPairs([arguments[0], arguments[0]], method: .cat, out: out) }
        // An adapter no pair can use stops the run rather than being skipped.
        var adapter = AdapterFixture(rank: 2, alpha: 2)
        adapter.addModule(layer: 0, module: "query", b: Array(repeating: 1, count: 20), a: Array(repeating: 1, count: 20),
                          outFeatures: 10, inFeatures: 10)
        adapter.tensors.add("base_model.model.bert.embeddings.word_embeddings.lora_embedding_A", dtype: .f64, shape: [2, 5],
                            values: Array(repeating: 1, count: 10))
        let embedding = adapter.write(into: directory, name: "embedding")
        assertError(65, ["lora_embedding_A", "LoRA on embeddings"]) {
            try MergeRunner.runAllPairs([AdapterArgument(parsing: self.synthetic + "/t_r8"), AdapterArgument(parsing: self.synthetic + "/t_near"),
                                         AdapterArgument(parsing: embedding)], method: .cat, out: out)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    // MARK: .bin adapters

    func testBinAdapterFoldersMergeByteForByteLikeTheirSafetensorsTwins() throws {
        let bin = realDataPath + "/minilm-glue8-bin"
        for method in MergeMethod.allCases {
            let fromBin = directory.path + "/bin-\(method.rawValue)", fromSafetensors = directory.path + "/safetensors-\(method.rawValue)"
            let merged = try MergeRunner.run(host: AdapterArgument(parsing: bin + "/emotion"), partner: AdapterArgument(parsing: bin + "/sst2"),
                                             method: method, out: fromBin)
            try MergeRunner.run(host: AdapterArgument(parsing: example + "/emotion"), partner: AdapterArgument(parsing: example + "/sst2"),
                                method: method, out: fromSafetensors)
            // Same names, dtypes, values and metadata ({"format": "pt"}) in, so the same file out.
            XCTAssertEqual(try bytes(fromBin + "/adapter_model.safetensors"), try bytes(fromSafetensors + "/adapter_model.safetensors"),
                           method.rawValue)
            XCTAssertEqual(try bytes(fromBin + "/adapter_config.json"), try bytes(fromSafetensors + "/adapter_config.json"), method.rawValue)
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: fromBin)),
                           [".tvgeo-output", "adapter_config.json", "adapter_model.safetensors", "tvgeo-merge.json"])
            XCTAssertEqual(merged.keptTensors.sorted(), ["base_model.model.classifier.bias", "base_model.model.classifier.weight"])
            let json = try record(fromBin)
            let files = try XCTUnwrap(json["host"]?["files"]?.arrayValue)
            XCTAssertEqual(files.map { $0["name"] }, [.string("adapter_config.json"), .string("adapter_model.bin")])
            XCTAssertEqual(files[1]["sha256"]?.stringValue, try sha256sum(bin + "/emotion/adapter_model.bin"))
            XCTAssertEqual(json["partner"]?["files"]?.arrayValue?[1]["name"], .string("adapter_model.bin"))
            XCTAssertTrue(json["adapter_model"]?.stringValue?.contains("written from the host's adapter_model.bin") == true, "\(json)")
            XCTAssertTrue(try record(fromSafetensors)["adapter_model"]?.stringValue?.hasPrefix("the host's adapter_model.safetensors") == true)
        }
        // A .bin host with a safetensors partner (and a .bin partner for a safetensors host) too.
        try MergeRunner.run(host: AdapterArgument(parsing: bin + "/sst2"), partner: AdapterArgument(parsing: example + "/emotion"),
                            method: .comb, out: directory.path + "/mixed")
        try MergeRunner.run(host: AdapterArgument(parsing: example + "/sst2"), partner: AdapterArgument(parsing: bin + "/emotion"),
                            method: .comb, out: directory.path + "/mixed-reverse")
        XCTAssertEqual(try bytes(directory.path + "/mixed/adapter_model.safetensors"),
                       try bytes(directory.path + "/mixed-reverse/adapter_model.safetensors"))
        let pairs = try MergeRunner.runAllPairs([bin + "/emotion", bin + "/sst2"].map(AdapterArgument.init(parsing:)), method: .svd,
                                                out: directory.path + "/pairs")
        XCTAssertEqual(pairs.merges.map(\.folder), ["emotion+sst2", "sst2+emotion"])
        XCTAssertEqual(try bytes(directory.path + "/pairs/emotion+sst2/adapter_model.safetensors"),
                       try bytes(directory.path + "/safetensors-svd/adapter_model.safetensors"))
    }

    // MARK: untrained adapters

    func testAnUntrainedAdapterIsMergedWithAWarningNamingIt() throws {
        // PEFT's initial state: random A, every B zero.
        var random = SeededRandom(seed: 71)
        var untrained = AdapterFixture(rank: 2, alpha: 4)
        for layer in [0, 1] {
            for module in ["query", "value"] {
                untrained.addModule(layer: layer, module: module, b: Array(repeating: 0, count: 20), a: random.gaussians(20),
                                    outFeatures: 10, inFeatures: 10)
            }
        }
        let fresh = untrained.write(into: directory, name: "fresh")
        let trained = fixture("trained", rank: 2, alpha: 4, seed: 72)
        for method in MergeMethod.allCases {
            for (host, partner) in [(trained, fresh), (fresh, trained)] {
                let out = directory.path + "/\(method.rawValue)-\(host == fresh ? "host" : "partner")"
                let merged = try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner),
                                                 method: method, out: out)
                let warnings = merged.warnings.map(\.text).filter { $0.contains("untrained") }
                XCTAssertEqual(warnings, ["fresh (\(fresh)) looks untrained: every lora_B is zero (PEFT's initial value), so ΔW = 0 in every block; "
                                          + "merged anyway (merging it mainly weakens the other adapter's update)"], "\(method) \(out)")
                XCTAssertEqual(try record(out)["warnings"], .array(merged.warnings.map { .string($0.text) }))
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/adapter_model.safetensors"))
            }
        }
        // t_zero_b, PEFT-initialised too, as partner of an all-pairs run.
        let pairs = try MergeRunner.runAllPairs([synthetic + "/t_r8", synthetic + "/t_zero_b"].map(AdapterArgument.init(parsing:)),
                                                method: .comb, out: directory.path + "/pairs")
        XCTAssertEqual(pairs.merges.count, 2)
        XCTAssertTrue(try record(directory.path + "/pairs/t_r8+t_zero_b")["warnings"]?.arrayValue?
                        .contains { $0.stringValue?.hasPrefix("t_zero_b (") == true && $0.stringValue?.contains("untrained") == true } == true)
        // ΔW = 0 with lora_B not zero: every lora_A zero.
        var zeroA = AdapterFixture(rank: 2, alpha: 4)
        for layer in [0, 1] {
            for module in ["query", "value"] {
                zeroA.addModule(layer: layer, module: module, b: random.gaussians(20), a: Array(repeating: 0, count: 20),
                                outFeatures: 10, inFeatures: 10)
            }
        }
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: trained),
                                         partner: AdapterArgument(parsing: zeroA.write(into: directory, name: "zero-a")),
                                         method: .cat, out: directory.path + "/zero")
        XCTAssertTrue(merged.warnings.contains { $0.text.hasPrefix("zero-a (") && $0.text.contains("ΔW = s·B·A is 0 in every block") },
                      "\(merged.warnings)")
        // A trained pair gets no such warning, nor does an adapter with one trained block.
        var partial = AdapterFixture(rank: 2, alpha: 4)
        for layer in [0, 1] {
            for module in ["query", "value"] {
                let a = layer == 1 && module == "value" ? random.gaussians(20) : Array(repeating: 0, count: 20)
                partial.addModule(layer: layer, module: module, b: random.gaussians(20), a: a, outFeatures: 10, inFeatures: 10)
            }
        }
        let plain = try MergeRunner.run(host: AdapterArgument(parsing: trained),
                                        partner: AdapterArgument(parsing: partial.write(into: directory, name: "partial")),
                                        method: .cat, out: directory.path + "/plain")
        XCTAssertFalse(plain.warnings.contains { $0.text.contains("untrained") }, "\(plain.warnings)")
    }

    // MARK: bad inputs

    func testMissingAdapterIs66() {
        assertError(66, ["no-such-adapter"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: example + "/cola"),
                                partner: AdapterArgument(parsing: self.directory.path + "/no-such-adapter"),
                                method: .comb, out: self.directory.path + "/out")
        }
        // A bare .safetensors file can be the partner but not the host (its folder needs a config).
        assertError(66, ["adapter_config.json", "host of a merge must be a PEFT adapter folder"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: self.synthetic + "/bare_r8.safetensors"),
                                partner: AdapterArgument(parsing: self.synthetic + "/t_r8"),
                                method: .svd, out: self.directory.path + "/out")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/out"))
    }

    func testMismatchedModulesLayersAndShapesAre65NamingBothValues() throws {
        // Different module sets: comb and svd refuse and point to cat (which keeps them; testCatKeeps…).
        for method in [MergeMethod.comb, .svd] {
            assertError(65, ["t_query_only", "adapts modules query but the host t_r8", "adapts query, value", "value only in t_r8",
                             "\(method.rawValue) needs the same modules", "use --method cat"]) {
                try MergeRunner.run(host: AdapterArgument(parsing: self.synthetic + "/t_r8"),
                                    partner: AdapterArgument(parsing: self.synthetic + "/t_query_only"),
                                    method: method, out: self.directory.path + "/out")
            }
        }
        let host = fixture("three", rank: 2, alpha: 2, seed: 41, layers: [0, 1, 2])
        let twoLayers = fixture("two", rank: 2, alpha: 2, seed: 42, layers: [0, 2])
        assertError(65, ["module query: LoRA factors at layers 0, 2 here but at layers 0, 1, 2 in the host three"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: twoLayers),
                                method: .svd, out: self.directory.path + "/out")
        }
        let wide = fixture("wide", rank: 2, alpha: 2, seed: 43, layers: [0, 1, 2], features: 12)
        assertError(65, ["module query, layer 0: ΔW is 12×12 here but 10×10 in the host three"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: wide),
                                method: .cat, out: self.directory.path + "/out")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/out"))
    }

    func testCombNeedsEqualRanksAndScalings() throws {
        assertError(65, ["t_r4/adapter_model.safetensors", "module query, layer 0: rank 4 here but 8 in the host t_r8", "use --method cat or svd"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: self.synthetic + "/t_r8"), partner: AdapterArgument(parsing: self.synthetic + "/t_r4"),
                                method: .comb, out: self.directory.path + "/out")
        }
        let host = fixture("s2", rank: 2, alpha: 4, seed: 51)
        let partner = fixture("s1", rank: 2, alpha: 2, seed: 52)
        assertError(65, ["module query, layer 0: scaling 1 (lora_alpha 2, r 2) here but 2 (lora_alpha 4, r 2) in the host s2"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner),
                                method: .comb, out: self.directory.path + "/out")
        }
        // The same pair merges with the other methods.
        try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner),
                            method: .svd, out: directory.path + "/out")
        // A bare partner has scaling 1.
        assertError(65, ["module query, layer 0: scaling 1 (a bare .safetensors file) here but 2 (lora_alpha 16, r 8) in the host t_r8"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: self.synthetic + "/t_r8"),
                                partner: AdapterArgument(parsing: self.synthetic + "/bare_r8.safetensors"),
                                method: .comb, out: self.directory.path + "/bare")
        }
        let bare = try MergeRunner.run(host: AdapterArgument(parsing: synthetic + "/t_r8"),
                                       partner: AdapterArgument(parsing: synthetic + "/bare_r8.safetensors"),
                                       method: .cat, out: directory.path + "/bare")
        XCTAssertTrue(bare.warnings.contains { $0.text.contains("scaling s = 1") }, "\(bare.warnings)")
        XCTAssertEqual(Set(bare.blocks.map { $0.partner?.scaling }), [1])
    }

    func testAnExistingFolderThatIsNotATVGeoOutputIs73AndUntouched() throws {
        let out = directory.path + "/mine"
        directory.write("mine/notes.txt", text: "keep me")
        for method in MergeMethod.allCases {
            assertError(73, ["mine", "not a tvgeo output"]) {
                try MergeRunner.run(host: AdapterArgument(parsing: self.example + "/cola"), partner: AdapterArgument(parsing: self.example + "/mrpc"),
                                    method: method, out: out)
            }
        }
        assertError(73, ["not a tvgeo output"]) {
            try MergeRunner.runAllPairs([self.example + "/cola", self.example + "/mrpc"].map(AdapterArgument.init(parsing:)), method: .comb, out: out)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["notes.txt"])
        // The host's own folder is never overwritten.
        assertError(73, ["not a tvgeo output"]) {
            try MergeRunner.run(host: AdapterArgument(parsing: self.example + "/cola"), partner: AdapterArgument(parsing: self.example + "/mrpc"),
                                method: .comb, out: self.example + "/cola")
        }
        // A previous merge is replaced.
        let merged = directory.path + "/merged"
        try MergeRunner.run(host: AdapterArgument(parsing: example + "/cola"), partner: AdapterArgument(parsing: example + "/mrpc"),
                            method: .comb, out: merged)
        try MergeRunner.run(host: AdapterArgument(parsing: example + "/cola"), partner: AdapterArgument(parsing: example + "/mrpc"),
                            method: .svd, out: merged)
        XCTAssertEqual(try record(merged)["method"], .string("svd"))
    }

    func testDifferentBaseModelNamesAreRecordedAsAWarning() throws {
        let host = fixture("named", rank: 2, alpha: 2, seed: 61)
        let partner = fixture("renamed", rank: 2, alpha: 2, seed: 62, extraConfig: [("base_model_name_or_path", .string("other/model"))])
        let merged = try MergeRunner.run(host: AdapterArgument(parsing: host), partner: AdapterArgument(parsing: partner),
                                         method: .comb, out: directory.path + "/out")
        XCTAssertTrue(merged.warnings.contains { $0.text.contains("other/model") }, "\(merged.warnings)")
        XCTAssertEqual(try record(directory.path + "/out")["warnings"]?.arrayValue?.count, 1)
    }
}
