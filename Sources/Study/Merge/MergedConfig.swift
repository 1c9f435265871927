import Diagnostics
import JSONText
import TensorIO

/// `adapter_config.json` of a merged folder. `comb` and `svd` keep the host's file byte for byte;
/// `cat` rewrites the host's config for rank r_i + r_j and scaling 1 (`concatenated`), and for the
/// blocks kept from one adapter, their own rank and scaling.
enum MergedConfig {
    /// The host's config with `r`, `lora_alpha`, `rank_pattern`, `alpha_pattern` and `use_rslora`
    /// set so that PEFT gives every block the rank and scaling of `blocks` (`merged`), and, when
    /// the partner adapts modules the host does not, `target_modules` extended to select them;
    /// every other key is kept (same order, same values). `use_rslora`, `rank_pattern` and
    /// `alpha_pattern` are written only when the host's config has them or a pattern is needed:
    /// older PEFT releases refuse unknown keys. `keys` are the blocks' positions, same order.
    static func concatenated(_ host: MergeInput, blocks: [MergedBlock], keys: [BlockKey]) throws(ToolError) -> [UInt8] {
        let configPath = host.configPath!
        guard let document = try? JSONParser.parse(host.configBytes!), var pairs = document.objectPairs else {
            throw .invalidData(file: configPath, location: nil, problem: "expected a JSON object")
        }
        // r and lora_alpha: the most common rank and alpha (ties: the smaller); patterns for the rest.
        func mostCommon(_ values: [Double]) -> Double {
            var counts: [Double: Int] = [:]
            for value in values { counts[value, default: 0] += 1 }
            return counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }!.key
        }
        let defaultRank = mostCommon(blocks.map { Double($0.merged.rank) })
        let defaultAlpha = mostCommon(blocks.map(\.merged.alpha))
        func entries(_ value: (MergedBlock) -> Double) -> [PatternEntry] {
            zip(keys, blocks).map { PatternEntry(module: $0.0.module, path: $0.1.modulePath, layer: $0.0.layer, value: value($0.1)) }
        }
        let rankPattern = try patternKeys(entries { Double($0.merged.rank) }, defaultValue: defaultRank)
        let alphaPattern = try patternKeys(entries(\.merged.alpha), defaultValue: defaultAlpha)

        func set(_ key: String, _ value: JSONValue, addIfMissing: Bool) {
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[index].1 = value
            } else if addIfMissing {
                pairs.append((key, value))
            }
        }
        let patternsNeeded = !rankPattern.isEmpty || !alphaPattern.isEmpty
        set("r", .int(Int(defaultRank)), addIfMissing: true)
        set("lora_alpha", json(defaultAlpha), addIfMissing: true)
        set("use_rslora", .bool(false), addIfMissing: false)
        set("rank_pattern", .object(rankPattern.map { ($0.0, .int(Int($0.1))) }), addIfMissing: patternsNeeded)
        set("alpha_pattern", .object(alphaPattern.map { ($0.0, json($0.1)) }), addIfMissing: patternsNeeded)
        let added = blocks.filter { $0.origin == .partnerOnly }.map(\.modulePath)
        if !added.isEmpty {
            let targets = extendedTargets(pairs.first { $0.0 == "target_modules" }?.1 ?? .null, adding: added,
                                          allPaths: blocks.map(\.modulePath))
            set("target_modules", targets, addIfMissing: true)
            // Every module added for the partner must be selected.
            for path in added where !targetSelects(targets, path) {
                throw .internalError("the cat config's target_modules do not select \(path)")
            }
        }
        let bytes = Array(JSONWriter.string(.object(pairs)).utf8)

        // The written config must give every block its rank and scaling under PEFT's rules: exactly
        // 1 for a concatenated block; for a kept block, lora_alpha / r with lora_alpha = s·r, which
        // may differ from s in the last bit.
        let check = try AdapterConfig.parse(bytes, file: configPath)
        for block in blocks {
            let (rank, alpha) = check.rankAndAlpha(forModulePath: block.modulePath)
            let scaling = check.scaling(rank: rank, alpha: alpha), expected = block.merged.scaling
            let tolerance = block.origin == .merged ? 0 : 4 * expected.ulp
            guard rank == block.merged.rank, abs(scaling - expected) <= tolerance else {
                throw .internalError("the cat config gives \(block.modulePath) rank \(rank), alpha \(alpha); "
                                     + "expected rank \(block.merged.rank), scaling \(block.merged.scaling)")
            }
        }
        return bytes
    }

    /// A rank or alpha as JSON: an integer when it is one.
    private static func json(_ value: Double) -> JSONValue {
        value == value.rounded() && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
    }

    /// `target_modules` that also select the modules at `paths` (full module paths, which PEFT
    /// matches exactly): a list gets the paths appended; a regular expression gets them as
    /// alternatives; `all-linear` already selects every linear layer and is kept; a missing value
    /// (PEFT's defaults for the model type, unknown here) becomes the list of `allPaths`.
    static func extendedTargets(_ targets: JSONValue, adding paths: [String], allPaths: [String]) -> JSONValue {
        if let list = targets.arrayValue {
            return .array(list + paths.filter { !list.contains(.string($0)) }.map(JSONValue.string))
        }
        if let pattern = targets.stringValue {
            if pattern == "all-linear" { return targets }
            return .string("(?:\(pattern))|" + paths.map(escapedForRegex).joined(separator: "|"))
        }
        return .array(allPaths.map(JSONValue.string))
    }

    /// PEFT's rule for `target_modules`: a list entry equal to the module path or a dot-suffix of
    /// it; a string is a regular expression the whole path must match (`all-linear`: every linear
    /// layer). A pattern Swift cannot compile is taken as selecting.
    static func targetSelects(_ targets: JSONValue, _ path: String) -> Bool {
        if let list = targets.arrayValue {
            return list.compactMap(\.stringValue).contains { path == $0 || path.hasSuffix("." + $0) }
        }
        guard let pattern = targets.stringValue, pattern != "all-linear" else { return true }
        guard let regex = try? Regex(pattern) else { return true }
        return (try? regex.wholeMatch(in: path)) != nil
    }

    /// `text` with Python's regular-expression metacharacters escaped.
    static func escapedForRegex(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\.^$*+?{}[]|()".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// Refuses a `cat` merge whose partner adapts modules the host does not, when the host's config
    /// would keep PEFT from creating them: `layers_to_transform` leaving out one of their layers,
    /// or `exclude_modules` selecting one of them.
    static func checkCanAdd(_ partnerOnly: [BlockKey: LoRAFactorPair], host: MergeInput, partner: MergeInput) throws(ToolError) {
        guard !partnerOnly.isEmpty, let bytes = host.configBytes, let document = try? JSONParser.parse(bytes) else { return }
        let configPath = host.configPath!
        let layers: [Int]? = document["layers_to_transform"].flatMap { value in
            value.intValue.map { [$0] } ?? value.arrayValue?.compactMap(\.intValue)
        }
        for (key, pair) in partnerOnly.sorted(by: { $0.value.modulePath < $1.value.modulePath }) {
            if let layers, !layers.contains(key.layer) {
                throw .invalidData(file: configPath, location: "layers_to_transform",
                                   problem: "the host \(host.task) adapts layers \(layers.map(String.init).joined(separator: ", ")) only, "
                                            + "but the partner \(partner.task) adapts \(pair.modulePath), which the host does not adapt; "
                                            + "cat cannot keep it in a folder with this config")
            }
            if let excluded = document["exclude_modules"], excluded.arrayValue != nil || excluded.stringValue != nil,
               targetSelects(excluded, pair.modulePath) {
                throw .invalidData(file: configPath, location: "exclude_modules",
                                   problem: "excludes \(pair.modulePath), which the partner \(partner.task) adapts and the host \(host.task) "
                                            + "does not; cat cannot keep it in a folder with this config")
            }
        }
    }

    /// One block as `patternKeys` sees it: its module, its module path, its layer and the value
    /// (a rank or an alpha) PEFT must give it.
    struct PatternEntry {
        var module: ModuleKey
        var path: String
        var layer: Int
        var value: Double
    }

    /// `rank_pattern` keys (PEFT's rule: a key matches a module path equal to it or ending in
    /// `.key`, as a regular expression) giving each entry its value when `defaultValue` is not it:
    /// one key per module when all its layers share a value (the shortest suffix of its in-layer
    /// path that matches no module wanting another value), otherwise one key per layer.
    static func patternKeys(_ entries: [PatternEntry], defaultValue: Double) throws(ToolError) -> [(String, Double)] {
        func acceptable(_ key: String, for targets: [PatternEntry], value: Double) -> Bool {
            let matched = entries.filter { AdapterConfig.pattern(key, matches: $0.path) }
            return targets.allSatisfy { target in matched.contains { $0.path == target.path } }
                && matched.allSatisfy { $0.value == value }
        }
        var keys: [(String, Double)] = []
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
