@testable import TensorIO
import TVGeoTestSupport
import XCTest

/// `TensorNaming.role(of:)` works on UTF-8 bytes for speed; this checks it against the plain
/// String version it replaced, on generated names built from the components that matter
/// (markers, layer indices, empty parts, non-ASCII digits and letters).
final class TensorNamingDifferentialTests: XCTestCase {
    /// The String-based classification, kept here as the reference.
    static func referenceRole(of name: String) -> TensorRole {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 2, parts[0] == "base_model", parts[1] == "model" { parts.removeFirst(2) }
        if parts.contains("lora_magnitude_vector") { return .unsupportedMethod("DoRA (lora_magnitude_vector)") }
        if parts.contains(where: { $0.hasPrefix("ia3_") }) { return .unsupportedMethod("IA³ (\(parts.first { $0.hasPrefix("ia3_") }!))") }
        if parts.contains("lora_E") { return .unsupportedMethod("AdaLoRA (lora_E)") }
        if parts.contains("prompt_embeddings") { return .unsupportedMethod("prompt tuning (prompt_embeddings)") }
        if parts.contains("lora_embedding_A") || parts.contains("lora_embedding_B") { return .loraEmbedding }
        guard let factorIndex = parts.lastIndex(where: { $0 == "lora_A" || $0 == "lora_B" }),
              let factor = LoRATensorName.Factor(rawValue: parts[factorIndex]) else { return .other }
        let tail = parts[(factorIndex + 1)...]
        guard tail.last == "weight", tail.count <= 2 else { return .other }
        let module = Array(parts[..<factorIndex])
        guard !module.isEmpty else { return .other }
        let modulePath = module.joined(separator: ".")
        let isLayerIndex = { (part: String) in !part.isEmpty && part.count <= 9 && part.allSatisfy { $0.isASCII && $0.isNumber } }
        if let layerIndex = module.firstIndex(where: isLayerIndex), layerIndex + 1 < module.count {
            return .lora(LoRATensorName(stack: Array(module[..<layerIndex]), layer: Int(module[layerIndex])!,
                                        inLayerPath: Array(module[(layerIndex + 1)...]), factor: factor, modulePath: modulePath))
        }
        return .lora(LoRATensorName(stack: [], layer: 0, inLayerPath: module, factor: factor, modulePath: modulePath))
    }

    func testByteLevelClassificationMatchesTheStringVersion() {
        let vocabulary = ["base_model", "model", "encoder", "layer", "layers", "h", "0", "3", "11", "007", "123456789", "1234567890",
                          "attention", "self", "query", "q_proj", "lora_A", "lora_B", "default", "weight", "bias",
                          "lora_embedding_A", "lora_magnitude_vector", "ia3_l", "ia3", "lora_E", "prompt_embeddings",
                          "", "é", "٣", "¹", "1a", "lora_a", "weight ", "ß.x"]
        var rng = SeededRandom(seed: 99)
        var checked = 0
        for _ in 0..<4000 {
            let count = 1 + Int(rng.next() % 9)
            var parts = (0..<count).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
            // Most names end like real ones, so the LoRA branches are exercised often.
            if rng.next() % 3 != 0 { parts += rng.next() % 2 == 0 ? ["lora_A", "weight"] : ["lora_B", "default", "weight"] }
            if rng.next() % 2 == 0 { parts = ["base_model", "model"] + parts }
            let name = parts.joined(separator: ".")
            XCTAssertEqual(TensorNaming.role(of: name), Self.referenceRole(of: name), name)
            checked += 1
        }
        XCTAssertEqual(checked, 4000)
    }
}
