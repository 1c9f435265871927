import Diagnostics
import JSONText

/// The fields of PEFT's `adapter_config.json` that decide what ΔW is.
public struct AdapterConfig: Sendable, Equatable {
    public var peftType: String?
    public var rank: Int
    public var loraAlpha: Double
    public var useRSLoRA: Bool
    /// Pattern → rank, in file order (PEFT takes the first key that matches).
    public var rankPattern: [(String, Int)]
    /// Pattern → lora_alpha, in file order.
    public var alphaPattern: [(String, Double)]
    public var targetModules: [String]
    public var baseModel: String?
    public var fanInFanOut: Bool

    public static func == (lhs: AdapterConfig, rhs: AdapterConfig) -> Bool {
        lhs.peftType == rhs.peftType && lhs.rank == rhs.rank && lhs.loraAlpha == rhs.loraAlpha
            && lhs.useRSLoRA == rhs.useRSLoRA && lhs.rankPattern.elementsEqual(rhs.rankPattern, by: ==)
            && lhs.alphaPattern.elementsEqual(rhs.alphaPattern, by: ==) && lhs.targetModules == rhs.targetModules
            && lhs.baseModel == rhs.baseModel && lhs.fanInFanOut == rhs.fanInFanOut
    }

    /// Parses and checks a config; `file` is used in error messages.
    public static func parse(_ bytes: [UInt8], file: String) throws(ToolError) -> AdapterConfig {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidData(file: file, location: nil, problem: error.description)
        }
        guard document.objectPairs != nil else {
            throw .invalidData(file: file, location: nil, problem: "expected a JSON object")
        }
        func field(_ key: String) -> JSONValue? {
            guard let value = document[key], !value.isNull else { return nil }
            return value
        }
        let peftType = field("peft_type")?.stringValue
        if let peftType, peftType.uppercased() != "LORA" {
            throw .invalidData(file: file, location: "peft_type",
                               problem: "PEFT type \(peftType) is not supported; tvgeo analyses LoRA adapters (ΔW = s·B·A)")
        }
        if field("use_dora")?.boolValue == true {
            throw .invalidData(file: file, location: "use_dora",
                               problem: "DoRA adapters are not supported: their update is not s·B·A (a magnitude vector rescales the columns)")
        }
        guard let rankValue = field("r") else {
            throw .invalidData(file: file, location: "r", problem: "missing LoRA rank \"r\"")
        }
        guard let rank = rankValue.intValue, rank > 0 else {
            throw .invalidData(file: file, location: "r", problem: "LoRA rank must be a positive integer")
        }
        let alpha: Double
        if let alphaValue = field("lora_alpha") {
            guard let number = alphaValue.numberValue, number.isFinite else {
                throw .invalidData(file: file, location: "lora_alpha", problem: "must be a number")
            }
            alpha = number
        } else {
            alpha = 8  // PEFT's default
        }
        var useRSLoRA = false
        if let value = field("use_rslora") {
            guard let flag = value.boolValue else {
                throw .invalidData(file: file, location: "use_rslora", problem: "must be true or false")
            }
            useRSLoRA = flag
        }
        var rankPattern: [(String, Int)] = []
        if let value = field("rank_pattern") {
            guard let pairs = value.objectPairs else {
                throw .invalidData(file: file, location: "rank_pattern", problem: "must be an object of pattern: rank")
            }
            for (key, entry) in pairs {
                guard let number = entry.intValue, number > 0 else {
                    throw .invalidData(file: file, location: "rank_pattern.\(key)", problem: "rank must be a positive integer")
                }
                rankPattern.append((key, number))
            }
        }
        var alphaPattern: [(String, Double)] = []
        if let value = field("alpha_pattern") {
            guard let pairs = value.objectPairs else {
                throw .invalidData(file: file, location: "alpha_pattern", problem: "must be an object of pattern: alpha")
            }
            for (key, entry) in pairs {
                guard let number = entry.numberValue, number.isFinite else {
                    throw .invalidData(file: file, location: "alpha_pattern.\(key)", problem: "alpha must be a number")
                }
                alphaPattern.append((key, number))
            }
        }
        var targets: [String] = []
        if let value = field("target_modules") {
            if let text = value.stringValue {
                targets = [text]
            } else if let items = value.arrayValue {
                targets = items.compactMap(\.stringValue)
            }
        }
        var fanInFanOut = false
        if let value = field("fan_in_fan_out") {
            guard let flag = value.boolValue else {
                throw .invalidData(file: file, location: "fan_in_fan_out", problem: "must be true or false")
            }
            fanInFanOut = flag
        }
        return AdapterConfig(peftType: peftType, rank: rank, loraAlpha: alpha, useRSLoRA: useRSLoRA,
                             rankPattern: rankPattern, alphaPattern: alphaPattern, targetModules: targets,
                             baseModel: field("base_model_name_or_path")?.stringValue, fanInFanOut: fanInFanOut)
    }

    /// The rank and lora_alpha PEFT uses for the module at `modulePath`
    /// (e.g. `bert.encoder.layer.3.attention.self.query`).
    public func rankAndAlpha(forModulePath modulePath: String) -> (rank: Int, alpha: Double) {
        let rank = rankPattern.first { Self.pattern($0.0, matches: modulePath) }?.1 ?? self.rank
        let alpha = alphaPattern.first { Self.pattern($0.0, matches: modulePath) }?.1 ?? loraAlpha
        return (rank, alpha)
    }

    /// s = alpha / r, or alpha / √r with rsLoRA.
    public func scaling(rank: Int, alpha: Double) -> Double {
        useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
    }

    /// Whether a `rank_pattern` / `alpha_pattern` key selects the module at `path`, by PEFT's rule:
    /// the key equals the path, or the path matches the regular expression `(.*\.)?(key)$` from
    /// its start. A key that is not a valid regular expression is compared as a dot-suffix.
    public static func pattern(_ key: String, matches path: String) -> Bool {
        if key == path { return true }
        if let regex = try? Regex("(.*\\.)?(" + key + ")") {
            return (try? regex.wholeMatch(in: path)) != nil
        }
        return path.hasSuffix("." + key)
    }
}
