/// Where a LoRA factor sits in a model, parsed from its tensor name.
///
/// `base_model.model.roberta.encoder.layer.3.attention.self.query.lora_A.default.weight` gives
/// stack `roberta.encoder.layer`, layer 3, in-layer path `attention.self.query`, factor A,
/// module path `roberta.encoder.layer.3.attention.self.query` (what PEFT's patterns match).
public struct LoRATensorName: Hashable, Sendable {
    public enum Factor: String, Sendable { case a = "lora_A", b = "lora_B" }

    /// Components before the layer index (empty for a module outside any layer stack).
    public var stack: [String]
    /// The first integer component (0 for a module outside any layer stack).
    public var layer: Int
    /// Components after the layer index.
    public var inLayerPath: [String]
    public var factor: Factor
    /// The module's path inside the model, without `base_model.model.` and the LoRA suffix.
    public var modulePath: String

    /// The identity of the module across layers and adapters.
    public var moduleKey: ModuleKey { ModuleKey(stack: stack, path: inLayerPath) }
}

/// A module of the study: a stack of layers and the path inside one layer.
public struct ModuleKey: Hashable, Sendable, Comparable {
    public var stack: [String]
    public var path: [String]

    public init(stack: [String], path: [String]) {
        self.stack = stack
        self.path = path
    }

    public static func < (lhs: ModuleKey, rhs: ModuleKey) -> Bool {
        (lhs.stack.joined(separator: "."), lhs.path.joined(separator: "."))
            < (rhs.stack.joined(separator: "."), rhs.path.joined(separator: "."))
    }
}

/// What a tensor of an adapter file is, judged from its name alone.
public enum TensorRole: Equatable, Sendable {
    case lora(LoRATensorName)
    /// `lora_embedding_A/B`: LoRA on an embedding table, listed as ignored with a warning.
    case loraEmbedding
    /// A tensor of a PEFT method tvgeo does not analyse (DoRA, IA³, AdaLoRA, prompt tuning).
    case unsupportedMethod(String)
    /// Anything else (classifier heads, `modules_to_save` copies): listed as ignored.
    case other
}

public enum TensorNaming {
    /// Classifies a tensor name from an adapter file.
    ///
    /// Works on the name's UTF-8 bytes (it runs for every tensor of every adapter, hundreds per
    /// file): the dot-separated components are byte ranges, and Strings are made only for the
    /// parts a LoRA factor's name keeps.
    public static func role(of name: String) -> TensorRole {
        if let role = name.utf8.withContiguousStorageIfAvailable({ role(utf8: $0) }) { return role }
        return Array(name.utf8).withUnsafeBufferPointer { role(utf8: $0) }
    }

    private static func role(utf8 bytes: UnsafeBufferPointer<UInt8>) -> TensorRole {
        var parts: [Range<Int>] = []
        parts.reserveCapacity(16)
        var start = 0
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: ".") {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<bytes.count)
        func equals(_ part: Range<Int>, _ text: StaticString) -> Bool {
            guard part.count == text.utf8CodeUnitCount else { return false }
            let expected = text.utf8Start
            for offset in 0..<part.count where bytes[part.lowerBound + offset] != expected[offset] { return false }
            return true
        }
        func hasPrefix(_ part: Range<Int>, _ text: StaticString) -> Bool {
            part.count >= text.utf8CodeUnitCount && equals(part.lowerBound..<(part.lowerBound + text.utf8CodeUnitCount), text)
        }
        func string(_ part: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[part]), as: UTF8.self)
        }
        if parts.count >= 2, equals(parts[0], "base_model"), equals(parts[1], "model") { parts.removeFirst(2) }
        if parts.contains(where: { equals($0, "lora_magnitude_vector") }) { return .unsupportedMethod("DoRA (lora_magnitude_vector)") }
        if let ia3 = parts.first(where: { hasPrefix($0, "ia3_") }) { return .unsupportedMethod("IA³ (\(string(ia3)))") }
        if parts.contains(where: { equals($0, "lora_E") }) { return .unsupportedMethod("AdaLoRA (lora_E)") }
        if parts.contains(where: { equals($0, "prompt_embeddings") }) { return .unsupportedMethod("prompt tuning (prompt_embeddings)") }
        if parts.contains(where: { equals($0, "lora_embedding_A") || equals($0, "lora_embedding_B") }) { return .loraEmbedding }
        guard let factorIndex = parts.lastIndex(where: { equals($0, "lora_A") || equals($0, "lora_B") }) else { return .other }
        let factor: LoRATensorName.Factor = equals(parts[factorIndex], "lora_A") ? .a : .b
        // After the factor: `weight`, or an adapter name then `weight`.
        let tailCount = parts.count - factorIndex - 1
        guard tailCount >= 1, tailCount <= 2, equals(parts[parts.count - 1], "weight") else { return .other }
        guard factorIndex > 0 else { return .other }
        let module = parts[..<factorIndex]
        let modulePath = string(module.first!.lowerBound..<module.last!.upperBound)
        func isLayerIndex(_ part: Range<Int>) -> Bool {
            !part.isEmpty && part.count <= 9 && part.allSatisfy { bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") }
        }
        if let layerIndex = module.firstIndex(where: isLayerIndex), layerIndex + 1 < module.endIndex {
            let layer = bytes[parts[layerIndex]].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            return .lora(LoRATensorName(stack: module[..<layerIndex].map(string), layer: layer,
                                        inLayerPath: module[(layerIndex + 1)...].map(string), factor: factor,
                                        modulePath: modulePath))
        }
        return .lora(LoRATensorName(stack: [], layer: 0, inLayerPath: module.map(string), factor: factor, modulePath: modulePath))
    }

    /// A full weight `….layer.3.attention.self.query.weight` as (module key, layer, module path), or
    /// nil when the name does not end in `.weight` or has no layer index.
    public static func fullWeight(_ name: String) -> (key: ModuleKey, layer: Int, modulePath: String)? {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 2, parts[0] == "base_model", parts[1] == "model" { parts.removeFirst(2) }
        guard parts.count >= 3, parts.last == "weight" else { return nil }
        let module = Array(parts.dropLast())
        guard let layerIndex = module.firstIndex(where: isLayerIndex), layerIndex + 1 < module.count else { return nil }
        return (ModuleKey(stack: Array(module[..<layerIndex]), path: Array(module[(layerIndex + 1)...])),
                Int(module[layerIndex])!, module.joined(separator: "."))
    }

    private static func isLayerIndex(_ component: String) -> Bool {
        !component.isEmpty && component.count <= 9 && component.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Display names for the modules of a whole study.
    ///
    /// A module's name is the shortest dot-suffix of its in-layer path that no other in-layer
    /// path of the same stack ends with (`query`, `c_attn`; GPT-2's `attn.c_proj` and
    /// `mlp.c_proj` stay apart). When the study has several layer stacks (T5, BART), the part of
    /// the stack prefix that tells them apart comes first: `encoder/q`, `decoder/SelfAttention.q`.
    public static func moduleNames(for keys: some Sequence<ModuleKey>) -> [ModuleKey: String] {
        let unique = Array(Set(keys)).sorted()
        let stacks = Array(Set(unique.map(\.stack).filter { !$0.isEmpty })).sorted { $0.joined(separator: ".") < $1.joined(separator: ".") }
        let stackNames = distinguishingNames(stacks)
        var names: [ModuleKey: String] = [:]
        for key in unique {
            let siblings = unique.filter { $0.stack == key.stack && $0 != key }.map(\.path)
            var name = key.path.joined(separator: ".")
            for length in 1...max(1, key.path.count) {
                let suffix = Array(key.path.suffix(length))
                if !siblings.contains(where: { $0.count >= length && Array($0.suffix(length)) == suffix }) {
                    name = suffix.joined(separator: ".")
                    break
                }
            }
            if stacks.count > 1, let stackName = stackNames[key.stack] { name = stackName + "/" + name }
            names[key] = name
        }
        // Two keys must never share a name; fall back to the full identity where they would.
        var byName: [String: [ModuleKey]] = [:]
        for (key, name) in names { byName[name, default: []].append(key) }
        for (_, clashing) in byName where clashing.count > 1 {
            for key in clashing {
                names[key] = (key.stack + key.path).joined(separator: ".")
            }
        }
        return names
    }

    /// Strips the components all stack prefixes share at the start and at the end.
    private static func distinguishingNames(_ stacks: [[String]]) -> [[String]: String] {
        guard stacks.count > 1 else { return [:] }
        let shortest = stacks.map(\.count).min() ?? 0
        var lead = 0
        while lead < shortest, stacks.allSatisfy({ $0[lead] == stacks[0][lead] }) { lead += 1 }
        var trail = 0
        while trail < shortest - lead, stacks.allSatisfy({ $0[$0.count - 1 - trail] == stacks[0][stacks[0].count - 1 - trail] }) { trail += 1 }
        var names: [[String]: String] = [:]
        for stack in stacks {
            let middle = stack[lead..<(stack.count - trail)]
            names[stack] = middle.isEmpty ? stack.joined(separator: ".") : middle.joined(separator: ".")
        }
        return names
    }
}
