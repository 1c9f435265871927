import Diagnostics
import TensorIO

/// One adapter as a merge input: loaded, with the bytes of its config and the SHA-256 of its files.
/// The weights are `adapter_model.safetensors` or `adapter_model.bin` (PyTorch's zip format, read
/// by `LoRAAdapter` without running its pickle), or a bare `.safetensors` file.
public final class MergeInput: Sendable {
    public let adapter: LoRAAdapter
    /// The task name and the path as given.
    public var task: String { adapter.task }
    public var path: String { adapter.path }
    /// `adapter_config.json` beside the weights (nil for a bare .safetensors file) and its bytes.
    public let configPath: String?
    public let configBytes: [UInt8]?
    /// (file name, path, lowercase hex SHA-256) of the config (when there is one) and the weights.
    public let files: [FileDigest]
    /// The tensor file `adapter` read (safetensors or PyTorch checkpoint).
    let weights: any TensorSource

    public struct FileDigest: Sendable, Equatable {
        public var name: String
        public var path: String
        public var sha256: String
    }

    public convenience init(_ argument: AdapterArgument) throws(ToolError) {
        try self.init(try LoRAAdapter(task: argument.task, path: argument.path))
    }

    public init(_ adapter: LoRAAdapter) throws(ToolError) {
        self.adapter = adapter
        var files: [FileDigest] = []
        if adapter.config != nil {
            let folder = FileKind.of(adapter.path) == .directory ? adapter.path : LoRAAdapter.parentFolder(of: adapter.weightsPath)
            let configPath = folder + "/adapter_config.json"
            let bytes = try readWholeFile(configPath)
            // The config LoRAAdapter parsed must be the one copied and hashed.
            guard (try? AdapterConfig.parse(bytes, file: configPath)) == adapter.config else {
                throw .invalidData(file: configPath, location: nil, problem: "the file changed while tvgeo was reading it")
            }
            self.configPath = configPath
            self.configBytes = bytes
            files.append(FileDigest(name: "adapter_config.json", path: configPath, sha256: SHA256.hex(bytes)))
        } else {
            self.configPath = nil
            self.configBytes = nil
        }
        files.append(FileDigest(name: LoRAAdapter.fileName(of: adapter.weightsPath), path: adapter.weightsPath,
                                sha256: try SHA256.hex(ofFile: adapter.weightsPath)))
        self.files = files
        self.weights = adapter.tensorFile
    }

    /// Whether the weights are a PyTorch checkpoint (`adapter_model.bin`) rather than safetensors.
    public var isTorchCheckpoint: Bool { weights is TorchCheckpoint }

    /// The weights file's `__metadata__` (none for a PyTorch checkpoint).
    var metadata: [String: String] { (weights as? SafetensorsFile)?.metadata ?? [:] }
}

extension MergeInput {
    /// The module names of a pair, as the records and messages give them (TensorNaming's names
    /// for both adapters' modules together).
    static func moduleNames(host: MergeInput, partner: MergeInput) -> [ModuleKey: String] {
        TensorNaming.moduleNames(for: host.adapter.blocks.keys.map(\.module) + partner.adapter.blocks.keys.map(\.module))
    }

    /// The blocks a merge writes, in merge order (by module name, then layer): every block of the
    /// host, and with `partnerOnly` (cat with different module sets) the partner's blocks of
    /// modules the host does not adapt. Each comes with where its factors come from.
    static func blockPlan(host: MergeInput, partner: MergeInput, names: [ModuleKey: String],
                          partnerOnly: Bool) -> [(key: BlockKey, origin: MergedBlock.Origin)] {
        let hostModules = Set(host.adapter.blocks.keys.map(\.module))
        let partnerModules = Set(partner.adapter.blocks.keys.map(\.module))
        var plan: [(key: BlockKey, origin: MergedBlock.Origin)] = host.adapter.blocks.keys.map { key in
            (key, partnerModules.contains(key.module) ? .merged : .hostOnly)
        }
        if partnerOnly {
            plan += partner.adapter.blocks.keys.filter { !hostModules.contains($0.module) }.map { ($0, .partnerOnly) }
        }
        return plan.sorted { lhs, rhs in
            let (a, b) = (names[lhs.key.module]!, names[rhs.key.module]!)
            return a == b ? lhs.key.layer < rhs.key.layer : a < b
        }
    }
}
