import Diagnostics
import JSONText
import TensorIO
import TVGeoTestSupport
import XCTest

final class TensorNamingTests: XCTestCase {
    func lora(_ name: String) -> LoRATensorName? {
        if case .lora(let parsed) = TensorNaming.role(of: name) { return parsed }
        return nil
    }

    func testParsesStackLayerPathAndFactor() throws {
        let bert = try XCTUnwrap(lora("base_model.model.roberta.encoder.layer.3.attention.self.query.lora_A.weight"))
        XCTAssertEqual(bert.stack, ["roberta", "encoder", "layer"])
        XCTAssertEqual(bert.layer, 3)
        XCTAssertEqual(bert.inLayerPath, ["attention", "self", "query"])
        XCTAssertEqual(bert.factor, .a)
        XCTAssertEqual(bert.modulePath, "roberta.encoder.layer.3.attention.self.query")
        let named = try XCTUnwrap(lora("base_model.model.model.layers.11.self_attn.v_proj.lora_B.default.weight"))
        XCTAssertEqual(named.layer, 11)
        XCTAssertEqual(named.factor, .b)
        XCTAssertEqual(named.inLayerPath, ["self_attn", "v_proj"])
        let outside = try XCTUnwrap(lora("base_model.model.pre_classifier.lora_A.weight"))
        XCTAssertEqual(outside.stack, [])
        XCTAssertEqual(outside.inLayerPath, ["pre_classifier"])
    }

    func testClassifiesOtherRoles() {
        XCTAssertEqual(TensorNaming.role(of: "base_model.model.classifier.modules_to_save.default.weight"), .other)
        XCTAssertEqual(TensorNaming.role(of: "base_model.model.embeddings.word_embeddings.lora_embedding_A"), .loraEmbedding)
        guard case .unsupportedMethod(let dora) =
            TensorNaming.role(of: "base_model.model.encoder.layer.0.attention.self.query.lora_magnitude_vector") else {
            return XCTFail("DoRA not recognised")
        }
        XCTAssertTrue(dora.contains("DoRA"))
        guard case .unsupportedMethod(let ia3) = TensorNaming.role(of: "base_model.model.encoder.layer.0.attention.self.key.ia3_l") else {
            return XCTFail("IA3 not recognised")
        }
        XCTAssertTrue(ia3.contains("IA³"))
    }

    func names(_ tensorNames: [String]) -> [String] {
        let keys = tensorNames.compactMap { lora($0)?.moduleKey }
        let map = TensorNaming.moduleNames(for: keys)
        return keys.map { map[$0]! }
    }

    func testModuleNamesAreShortestUniqueSuffixes() {
        XCTAssertEqual(names(["base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                              "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight"]), ["query", "value"])
        XCTAssertEqual(names(["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                              "base_model.model.transformer.h.0.attn.c_proj.lora_A.weight",
                              "base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight"]), ["c_attn", "attn.c_proj", "mlp.c_proj"])
        XCTAssertEqual(names(["base_model.model.bert.encoder.layer.0.attention.output.dense.lora_A.weight",
                              "base_model.model.bert.encoder.layer.0.output.dense.lora_A.weight",
                              "base_model.model.bert.encoder.layer.0.intermediate.dense.lora_A.weight"]),
                       ["attention.output.dense", "output.dense", "intermediate.dense"])
        XCTAssertEqual(names(["base_model.model.distilbert.transformer.layer.0.attention.q_lin.lora_A.weight"]), ["q_lin"])
    }

    func testSeveralStacksNameTheirStack() {
        XCTAssertEqual(names(["base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight",
                              "base_model.model.decoder.block.0.layer.0.SelfAttention.q.lora_A.weight",
                              "base_model.model.decoder.block.0.layer.1.EncDecAttention.q.lora_A.weight"]),
                       ["encoder/q", "decoder/SelfAttention.q", "decoder/EncDecAttention.q"])
        XCTAssertEqual(names(["base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_A.weight",
                              "base_model.model.model.decoder.layers.0.self_attn.q_proj.lora_A.weight",
                              "base_model.model.model.decoder.layers.0.encoder_attn.q_proj.lora_A.weight"]),
                       ["encoder/q_proj", "decoder/self_attn.q_proj", "decoder/encoder_attn.q_proj"])
    }
}

final class AdapterConfigTests: XCTestCase {
    func parse(_ text: String) throws -> AdapterConfig {
        try AdapterConfig.parse(Array(text.utf8), file: "adapter_config.json")
    }

    func testPatternsOverrideRankAndAlphaLikePEFT() throws {
        let config = try parse(#"{"r": 8, "lora_alpha": 16, "rank_pattern": {"value": 4, "layer.1.attention.self.query": 2}, "#
                               + #""alpha_pattern": {"^bert.encoder.layer.[0-2].attention.self.query": 32}}"#)
        XCTAssertTrue(config.rankAndAlpha(forModulePath: "bert.encoder.layer.0.attention.self.value") == (4, 16))
        XCTAssertTrue(config.rankAndAlpha(forModulePath: "bert.encoder.layer.1.attention.self.query") == (2, 32))
        XCTAssertTrue(config.rankAndAlpha(forModulePath: "bert.encoder.layer.5.attention.self.query") == (8, 16))
        XCTAssertTrue(config.rankAndAlpha(forModulePath: "bert.encoder.layer.11.attention.self.query") == (8, 16), "layer.1 must not match layer.11")
        XCTAssertEqual(config.scaling(rank: 8, alpha: 16), 2)
    }

    func testRSLoRAScaling() throws {
        let config = try parse(#"{"r": 16, "lora_alpha": 16, "use_rslora": true}"#)
        XCTAssertEqual(config.scaling(rank: 16, alpha: 16), 4)
    }

    func testRefusesWhatIsNotPlainLoRA() {
        for (text, fragment) in [(#"{"peft_type": "IA3", "r": 8}"#, "IA3"),
                                 (#"{"peft_type": "LORA", "r": 8, "use_dora": true}"#, "DoRA"),
                                 (#"{"lora_alpha": 16}"#, "missing LoRA rank"),
                                 (#"{"r": 0}"#, "positive integer"),
                                 (#"{"r": "8"}"#, "positive integer"),
                                 (#"{"r": 8, "lora_alpha": "x"}"#, "must be a number"),
                                 (#"{"r": 8, "rank_pattern": {"q": -1}}"#, "rank_pattern.q"),
                                 ("[]", "JSON object"), ("{", "invalid JSON")] {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertEqual((error as? ToolError)?.exitCode, 65)
                XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)")
            }
        }
    }
}

final class LoRAAdapterTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("adapters") }
    override func tearDown() { directory.remove() }

    func smallAdapter(rank: Int = 2, alpha: Double = 4) -> AdapterFixture {
        var fixture = AdapterFixture(rank: rank, alpha: alpha)
        for layer in 0..<2 {
            for module in ["query", "value"] {
                fixture.addModule(layer: layer, module: module, b: (0..<(6 * rank)).map { Double($0 % 5) - 2 },
                                  a: (0..<(rank * 5)).map { Double($0 % 3) + 0.5 }, outFeatures: 6, inFeatures: 5)
            }
        }
        fixture.tensors.add("base_model.model.classifier.weight", shape: [2, 6], values: Array(repeating: 0.1, count: 12))
        return fixture
    }

    func assertRefused(_ path: String, code: Int32, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try LoRAAdapter(task: "t", path: path), file: file, line: line) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, code, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
        }
    }

    func testLoadsAFolderWithScalingAndIgnoredTensors() throws {
        let path = smallAdapter().write(into: directory, name: "task")
        let adapter = try LoRAAdapter(task: "task", path: path)
        XCTAssertEqual(adapter.blocks.count, 4)
        XCTAssertEqual(adapter.ignoredTensors, ["base_model.model.classifier.weight"])
        let pair = try XCTUnwrap(adapter.blocks.values.first)
        XCTAssertEqual(pair.scaling, 2)
        XCTAssertEqual(pair.outFeatures, 6)
        XCTAssertEqual(pair.inFeatures, 5)
        XCTAssertEqual(adapter.baseModel, "test/tiny-bert")
        XCTAssertTrue(adapter.warnings.isEmpty)
    }

    func testBareFileUsesScalingOneWithAWarning() throws {
        let path = directory.write("bare.safetensors", bytes: smallAdapter().tensors.bytes())
        let adapter = try LoRAAdapter(task: "bare", path: path)
        XCTAssertEqual(adapter.blocks.values.first?.scaling, 1)
        XCTAssertTrue(adapter.warnings.contains { $0.text.contains("scaling s = 1") })
        // The file inside a folder with its config is read as the folder.
        let folder = smallAdapter().write(into: directory, name: "full")
        XCTAssertEqual(try LoRAAdapter(task: "full", path: folder + "/adapter_model.safetensors").blocks.values.first?.scaling, 2)
    }

    func testFolderProblemsAreNamed() {
        directory.write("empty/.keep", text: "")
        assertRefused(directory.path + "/empty", code: 66, "adapter_model.safetensors")
        directory.write("noconfig/adapter_model.safetensors", bytes: smallAdapter().tensors.bytes())
        assertRefused(directory.path + "/noconfig", code: 66, "adapter_config.json")
        directory.write("bin/adapter_config.json", text: smallAdapter().configJSON)
        directory.write("bin/adapter_model.bin", bytes: [0x50, 0x4B])
        assertRefused(directory.path + "/bin", code: 65, "adapter_model.bin")
        assertRefused(directory.path + "/absent", code: 66, "no such file")
    }

    func testConfigRankMustAgreeWithTensors() {
        var fixture = smallAdapter(rank: 2)
        fixture.rank = 8
        assertRefused(fixture.write(into: directory, name: "wrong-r"), code: 65, "gives rank 8 for this module but lora_A has 2 rows")
    }

    func testFactorProblemsNameTheTensor() {
        var lonely = AdapterFixture(rank: 2, alpha: 2)
        lonely.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                           shape: [2, 3], values: Array(repeating: 1, count: 6))
        assertRefused(lonely.write(into: directory, name: "lonely"), code: 65, "lora_A without its lora_B")

        var mismatched = AdapterFixture(rank: 2, alpha: 2)
        mismatched.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                               shape: [2, 3], values: Array(repeating: 1, count: 6))
        mismatched.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
                               shape: [4, 3], values: Array(repeating: 1, count: 12))
        assertRefused(mismatched.write(into: directory, name: "mismatch"), code: 65, "rank mismatch")

        var flat = AdapterFixture(rank: 2, alpha: 2)
        flat.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                         shape: [6], values: Array(repeating: 1, count: 6))
        flat.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
                         shape: [4, 2], values: Array(repeating: 1, count: 8))
        assertRefused(flat.write(into: directory, name: "flat"), code: 65, "expected a 2-D matrix")

        var wide = AdapterFixture(rank: 4, alpha: 2)
        wide.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                         shape: [4, 3], values: Array(repeating: 1, count: 12))
        wide.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
                         shape: [5, 4], values: Array(repeating: 1, count: 20))
        assertRefused(wide.write(into: directory, name: "wide"), code: 65, "rank 4 exceeds the weight's dimensions 5×3")

        var none = AdapterFixture(rank: 2, alpha: 2)
        none.tensors.add("base_model.model.classifier.weight", shape: [2], values: [1, 2])
        assertRefused(none.write(into: directory, name: "none"), code: 65, "no LoRA tensors")
    }

    func testOtherPEFTMethodsAreRefusedAndEmbeddingsIgnored() throws {
        var dora = smallAdapter()
        dora.tensors.add("base_model.model.bert.encoder.layer.0.attention.self.query.lora_magnitude_vector",
                         shape: [6], values: Array(repeating: 1, count: 6))
        assertRefused(dora.write(into: directory, name: "dora"), code: 65, "DoRA")
        var doraConfig = smallAdapter()
        doraConfig.extraConfig = [("use_dora", .bool(true))]
        assertRefused(doraConfig.write(into: directory, name: "dora-config"), code: 65, "DoRA")

        var embedding = smallAdapter()
        embedding.tensors.add("base_model.model.bert.embeddings.word_embeddings.lora_embedding_A",
                              shape: [2, 10], values: Array(repeating: 1, count: 20))
        let adapter = try LoRAAdapter(task: "e", path: embedding.write(into: directory, name: "embedding"))
        XCTAssertTrue(adapter.ignoredTensors.contains("base_model.model.bert.embeddings.word_embeddings.lora_embedding_A"))
        XCTAssertTrue(adapter.warnings.contains { $0.text.contains("lora_embedding") })
    }

    // MARK: real adapters

    func testRealMiniLMAdapter() throws {
        let adapter = try LoRAAdapter(task: "cola", path: repositoryRoot + "/examples/minilm-glue8/adapters/cola")
        XCTAssertEqual(adapter.blocks.count, 12)
        XCTAssertEqual(Set(adapter.blocks.values.map(\.scaling)), [2])
        XCTAssertEqual(Set(adapter.blocks.values.map(\.outFeatures)), [384])
        XCTAssertEqual(adapter.ignoredTensors, ["base_model.model.classifier.bias", "base_model.model.classifier.weight"])
        XCTAssertEqual(adapter.baseModel, "sentence-transformers/all-MiniLM-L6-v2")
        let key = try XCTUnwrap(adapter.blocks.keys.min())
        var b = [Double](repeating: .nan, count: 384 * 8), aTransposed = [Double](repeating: .nan, count: 8 * 384)
        try b.withUnsafeMutableBufferPointer { b in
            try aTransposed.withUnsafeMutableBufferPointer { a in try adapter.copyFactors(key, b: b, aTransposed: a) }
        }
        XCTAssertTrue(b.allSatisfy(\.isFinite) && aTransposed.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(b.map { abs($0) }.max() ?? 0, 0, "a trained adapter's B is not zero")
    }

    func testRealThirdPartyAdapters() throws {
        let data = realDataPath
        let gpt2 = try LoRAAdapter(task: "med", path: data + "/third-party/gpt2/medqpairs_deepbiolab_attn_mlp")
        let byPath = Dictionary(grouping: gpt2.blocks.values, by: { $0.modulePath.split(separator: ".").suffix(2).joined(separator: ".") })
        XCTAssertEqual(Set(byPath.keys), ["attn.c_attn", "attn.c_proj", "mlp.c_proj"])
        XCTAssertEqual(byPath["attn.c_attn"]?.first?.outFeatures, 2304, "fused q,k,v: ΔW is out × in, never transposed")
        XCTAssertEqual(byPath["attn.c_attn"]?.first?.inFeatures, 768)
        XCTAssertEqual(byPath["mlp.c_proj"]?.first?.inFeatures, 3072)
        XCTAssertEqual(gpt2.config?.fanInFanOut, true)
        XCTAssertEqual(gpt2.ignoredTensors, ["base_model.model.score.weight"])

        let distil = try LoRAAdapter(task: "imdb", path: data + "/third-party/distilbert/imdb_RaghavaRam_r4")
        XCTAssertEqual(Set(distil.blocks.values.map(\.rank)), [4])
        XCTAssertEqual(Set(distil.blocks.values.map(\.scaling)), [8])
        XCTAssertEqual(distil.blocks.count, 12)
    }
}

final class TorchAdapterTests: XCTestCase {
    /// A PEFT folder saved with safe_serialization=False loads like its safetensors twin.
    func testBinAdapterFoldersMatchTheirSafetensorsTwins() throws {
        let data = realDataPath
        for task in ["emotion", "sst2"] {
            let bin = try LoRAAdapter(task: task, path: data + "/minilm-glue8-bin/" + task)
            let twin = try LoRAAdapter(task: task, path: repositoryRoot + "/examples/minilm-glue8/adapters/" + task)
            XCTAssertTrue(bin.weightsPath.hasSuffix("adapter_model.bin"))
            XCTAssertEqual(bin.blocks, twin.blocks.mapValues { $0 }, "\(task): same blocks, ranks and scalings")
            XCTAssertEqual(bin.ignoredTensors.sorted(), twin.ignoredTensors.sorted(), "the same tensors, in each file's order")
            for key in bin.blocks.keys {
                let pair = bin.blocks[key]!
                var b1 = [Double](repeating: .nan, count: pair.outFeatures * pair.rank),
                    a1 = [Double](repeating: .nan, count: pair.rank * pair.inFeatures)
                var b2 = b1, a2 = a1
                try b1.withUnsafeMutableBufferPointer { b in
                    try a1.withUnsafeMutableBufferPointer { a in try bin.copyFactors(key, b: b, aTransposed: a) }
                }
                try b2.withUnsafeMutableBufferPointer { b in
                    try a2.withUnsafeMutableBufferPointer { a in try twin.copyFactors(key, b: b, aTransposed: a) }
                }
                XCTAssertEqual(b1, b2)
                XCTAssertEqual(a1, a2)
            }
        }
    }
}
