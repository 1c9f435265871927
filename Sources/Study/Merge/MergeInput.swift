import Diagnostics
import TensorIO

/// One adapter as a merge input: loaded, with the bytes of its config and the SHA-256 of its files.
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
    let weights: SafetensorsFile

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
        if LoRAAdapter.isTorchCheckpoint(adapter.weightsPath) {
            throw .invalidData(file: adapter.weightsPath, location: nil,
                               problem: "merge reads and writes safetensors adapters; "
                                        + "convert this one first with `tvgeo convert \(adapter.weightsPath) adapter_model.safetensors`")
        }
        files.append(FileDigest(name: LoRAAdapter.fileName(of: adapter.weightsPath), path: adapter.weightsPath,
                                sha256: try SHA256.hex(ofFile: adapter.weightsPath)))
        self.files = files
        self.weights = try SafetensorsFile(path: adapter.weightsPath)
    }
}

extension MergeInput {
    /// The module names of a pair, as the records and messages give them (TensorNaming's names
    /// for both adapters' modules together).
    static func moduleNames(host: MergeInput, partner: MergeInput) -> [ModuleKey: String] {
        TensorNaming.moduleNames(for: host.adapter.blocks.keys.map(\.module) + partner.adapter.blocks.keys.map(\.module))
    }

    /// The host's blocks in merge order: by module name, then by layer.
    static func blockKeys(of host: MergeInput, names: [ModuleKey: String]) -> [BlockKey] {
        host.adapter.blocks.keys.sorted { names[$0.module]! == names[$1.module]! ? $0.layer < $1.layer : names[$0.module]! < names[$1.module]! }
    }
}
