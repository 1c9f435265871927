import Diagnostics
import JSONText
import TensorIO

/// `adapter_config.json` of a merged folder. `comb` and `svd` keep the host's file byte for byte;
/// `cat` rewrites the host's config for rank r_i + r_j and scaling 1 (`concatenated`).
enum MergedConfig {
    /// The host's config with `r`, `lora_alpha`, `rank_pattern`, `alpha_pattern` and `use_rslora`
    /// set so that PEFT uses rank r_i + r_j and scaling 1 for every block; every other key is kept
    /// (same order, same values). `use_rslora`, `rank_pattern` and `alpha_pattern` are written only
    /// when the host's config has them or a pattern is needed: older PEFT releases refuse unknown keys.
    static func concatenated(_ host: MergeInput, blocks: [MergedBlock], keys: [BlockKey]) throws(ToolError) -> [UInt8] {
        let configPath = host.configPath!
        guard let document = try? JSONParser.parse(host.configBytes!), var pairs = document.objectPairs else {
            throw .invalidData(file: configPath, location: nil, problem: "expected a JSON object")
        }
        let ranks = blocks.map(\.rank)
        var counts: [Int: Int] = [:]
        for rank in ranks { counts[rank, default: 0] += 1 }
        let defaultRank = counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }!.key
        let entries = zip(keys, blocks).map { PatternEntry(module: $0.0.module, path: $0.1.modulePath, layer: $0.0.layer, value: $0.1.rank) }
        let patterns = try patternKeys(entries, defaultValue: defaultRank)

        func set(_ key: String, _ value: JSONValue, addIfMissing: Bool) {
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[index].1 = value
            } else if addIfMissing {
                pairs.append((key, value))
            }
        }
        set("r", .int(defaultRank), addIfMissing: true)
        set("lora_alpha", .int(defaultRank), addIfMissing: true)
        set("use_rslora", .bool(false), addIfMissing: false)
        set("rank_pattern", .object(patterns.map { ($0.0, .int($0.1)) }), addIfMissing: !patterns.isEmpty)
        set("alpha_pattern", .object(patterns.map { ($0.0, .int($0.1)) }), addIfMissing: !patterns.isEmpty)
        let bytes = Array(JSONWriter.string(.object(pairs)).utf8)

        // The written config must give every block rank r_i + r_j and scaling 1 under PEFT's rules.
        let check = try AdapterConfig.parse(bytes, file: configPath)
        for block in blocks {
            let (rank, alpha) = check.rankAndAlpha(forModulePath: block.modulePath)
            guard rank == block.rank, check.scaling(rank: rank, alpha: alpha) == 1 else {
                throw .internalError("the cat config gives \(block.modulePath) rank \(rank), alpha \(alpha); expected rank \(block.rank), scaling 1")
            }
        }
        return bytes
    }

    /// One block as `patternKeys` sees it: its module, its module path, its layer and the value
    /// (a rank or an alpha) PEFT must give it.
    struct PatternEntry {
        var module: ModuleKey
        var path: String
        var layer: Int
        var value: Int
    }

    /// `rank_pattern` keys (PEFT's rule: a key matches a module path equal to it or ending in
    /// `.key`, as a regular expression) giving each entry its value when `defaultValue` is not it:
    /// one key per module when all its layers share a value (the shortest suffix of its in-layer
    /// path that matches no module wanting another value), otherwise one key per layer.
    static func patternKeys(_ entries: [PatternEntry], defaultValue: Int) throws(ToolError) -> [(String, Int)] {
        func acceptable(_ key: String, for targets: [PatternEntry], value: Int) -> Bool {
            let matched = entries.filter { AdapterConfig.pattern(key, matches: $0.path) }
            return targets.allSatisfy { target in matched.contains { $0.path == target.path } }
                && matched.allSatisfy { $0.value == value }
        }
        var keys: [(String, Int)] = []
        let modules = Array(Set(entries.map(\.module))).sorted()
        for module in modules {
            let members = entries.filter { $0.module == module }.sorted { $0.layer < $1.layer }
            let values = Set(members.map(\.value))
            guard values != [defaultValue] else { continue }
            if values.count == 1, let value = values.first {
                let path = module.path
                if let key = (1...max(1, path.count)).lazy.map({ path.suffix($0).joined(separator: ".") })
                    .first(where: { acceptable($0, for: members, value: value) }) {
                    keys.append((key, value))
                    continue
                }
            }
            for member in members where member.value != defaultValue {
                let components = member.path.split(separator: ".").map(String.init)
                let minimum = module.stack.isEmpty ? 1 : module.path.count + 1
                let candidates = (min(minimum, components.count)...components.count).map { components.suffix($0).joined(separator: ".") }
                guard let key = candidates.first(where: { acceptable($0, for: [member], value: member.value) }) else {
                    throw .internalError("no rank_pattern key selects \(member.path) alone")
                }
                keys.append((key, member.value))
            }
        }
        return keys
    }
}
