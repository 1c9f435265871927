import AnalysisCore
import Foundation
import JSONText

/// A fresh folder under the system temporary directory, removed by `remove()`.
public final class TemporaryDirectory {
    public let path: String

    public init(_ label: String = "tvgeo-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` at `relative` (creating folders) and returns the full path.
    @discardableResult
    public func write(_ relative: String, bytes: [UInt8]) -> String {
        let full = path + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    @discardableResult
    public func write(_ relative: String, text: String) -> String {
        write(relative, bytes: Array(text.utf8))
    }
}

/// A PEFT adapter folder for tests: `adapter_config.json` + `adapter_model.safetensors`.
public struct AdapterFixture {
    public var rank: Int
    public var alpha: Double
    public var extraConfig: [(String, JSONValue)] = []
    public var tensors = SafetensorsBuilder()

    public init(rank: Int, alpha: Double) {
        self.rank = rank
        self.alpha = alpha
    }

    public var configJSON: String {
        let pairs: [(String, JSONValue)] = [
            ("base_model_name_or_path", .string("test/tiny-bert")),
            ("peft_type", .string("LORA")),
            ("r", .int(rank)),
            ("lora_alpha", .double(alpha)),
            ("use_rslora", .bool(false)),
            ("target_modules", .array([.string("query"), .string("value")])),
            ("fan_in_fan_out", .bool(false)),
        ]
        var merged = pairs.filter { key, _ in !extraConfig.contains { $0.0 == key } }
        merged += extraConfig
        return JSONWriter.string(.object(merged))
    }

    /// Adds B (d_out × r) and A (r × d_in) for a BERT-style module name.
    public mutating func addModule(layer: Int, module: String, b: [Double], a: [Double], outFeatures: Int, inFeatures: Int,
                                   dtype: SafetensorsBuilder.DType = .f64) {
        let prefix = "base_model.model.bert.encoder.layer.\(layer).attention.self.\(module)"
        let r = a.count / inFeatures
        tensors.add(prefix + ".lora_A.weight", dtype: dtype, shape: [r, inFeatures], values: a)
        tensors.add(prefix + ".lora_B.weight", dtype: dtype, shape: [outFeatures, r], values: b)
    }

    @discardableResult
    public func write(into directory: TemporaryDirectory, name: String) -> String {
        directory.write(name + "/adapter_config.json", text: configJSON)
        directory.write(name + "/adapter_model.safetensors", bytes: tensors.bytes())
        return directory.path + "/" + name
    }
}

/// A deterministic generator (AnalysisCore's SplitMix64) with Gaussian draws, so property tests
/// are reproducible from their seed.
public struct SeededRandom: RandomNumberGenerator {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    public mutating func gaussian() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    public mutating func gaussians(_ count: Int) -> [Double] { (0..<count).map { _ in gaussian() } }
}

/// |a − b| ≤ absolute + relative·max(|a|, |b|); NaN equals NaN.
public func isClose(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    return abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

/// The repository root, found from this file's location.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The real data committed for the tests (`Tests/Fixtures/real`, see its README). Always there:
/// a test that reads it fails if a file is missing, it never skips.
public let realDataPath: String = repositoryRoot + "/Tests/Fixtures/real"
