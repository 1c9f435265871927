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

    func testPatternKeysSeparateGPT2sTwoCProjAndSingleLayers() throws {
        func entry(_ path: String, _ value: Int) -> MergedConfig.PatternEntry {
            guard case .lora(let name) = TensorNaming.role(of: "base_model.model." + path + ".lora_A.weight") else { fatalError(path) }
            return MergedConfig.PatternEntry(module: name.moduleKey, path: path, layer: name.layer, value: value)
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
        let entries = try MergeRunner.runAllPairs(arguments, method: .comb, out: out) { _, _, entry, _ in reported.append(entry.folder) }
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
        XCTAssertEqual(csv.split(separator: "\n").first, "host,partner,folder,method")
        XCTAssertEqual(csv.split(separator: "\n")[1], "cola,mrpc,cola+mrpc,comb")
        XCTAssertEqual(csv.split(separator: "\n").count, 7)
        let manifest = try JSONParser.parse(try bytes(out + "/manifest.json"))
        XCTAssertEqual(manifest["schema"], .string("tvgeo.merge-manifest/1"))
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

    func testAllPairsChecksEveryPairBeforeWriting() {
        let out = directory.path + "/never"
        let arguments = [AdapterArgument(parsing: synthetic + "/t_r8"), AdapterArgument(parsing: synthetic + "/t_r4"),
                         AdapterArgument(parsing: synthetic + "/t_near")]
        assertError(65, ["rank 4 here but 8 in the host t_r8", "comb"]) {
            try MergeRunner.runAllPairs(arguments, method: .comb, out: out)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        assertError(64, ["at least two"]) { try MergeRunner.runAllPairs(Array(arguments.prefix(1)), method: .comb, out: out) }
        assertError(64, ["given twice"]) { try MergeRunner.runAllPairs([arguments[0], arguments[0]], method: .cat, out: out) }
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
        for method in MergeMethod.allCases {
            assertError(65, ["t_query_only", "adapts modules query but the host t_r8", "adapts query, value", "value only in t_r8"]) {
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
        XCTAssertEqual(Set(bare.blocks.map(\.partnerScaling)), [1])
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
