import Diagnostics
import JSONText

/// A full model checkpoint: a `.safetensors` or `.bin` file, a folder with `model.safetensors` or
/// `pytorch_model.bin`, or a sharded folder (`model.safetensors.index.json` or
/// `pytorch_model.bin.index.json` and its shards). Only headers (or the `.bin` pickles) are read
/// on opening; weights are read per tensor from the mapped files.
public final class Checkpoint: Sendable {
    public let path: String
    /// Every tensor name and the file that holds it.
    private let owners: [String: any TensorSource]
    public let files: [any TensorSource]

    /// The files that make a folder a checkpoint, in the order they are looked for.
    public static let folderFiles = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]

    /// The name of the first of `folderFiles` that is a regular file in `folder`; nil when none is.
    public static func file(inFolder folder: String) -> String? {
        folderFiles.first { FileKind.of(folder + "/" + $0) == .regular }
    }

    public init(path: String) throws(ToolError) {
        self.path = path
        switch FileKind.of(path) {
        case .missing(let problem):
            throw .missingInput(path: path, problem: problem)
        case .special:
            throw .missingInput(path: path, problem: "is not a regular file or folder")
        case .regular:
            files = [try Self.open(path)]
        case .directory:
            guard let found = Self.file(inFolder: path) else {
                throw .missingInput(path: path + "/model.safetensors",
                                    problem: "no such file (nor model.safetensors.index.json, pytorch_model.bin or its index); "
                                             + "is \(path) a model folder?")
            }
            files = found.hasSuffix(".index.json") ? try Self.shards(index: path + "/" + found, folder: path) : [try Self.open(path + "/" + found)]
        }
        var owners: [String: any TensorSource] = [:]
        for file in files {
            for tensor in file.tensors {
                if let other = owners[tensor.name] {
                    throw .invalidData(file: file.path, location: tensor.name, problem: "tensor also present in \(other.path)")
                }
                owners[tensor.name] = file
            }
        }
        self.owners = owners
    }

    public var tensorNames: [String] { files.flatMap { $0.tensors.map(\.name) } }

    public func info(_ name: String) -> TensorInfo? { owners[name]?.info(name) }

    /// The file holding `name`, for error messages.
    public func file(of name: String) -> String { owners[name]?.path ?? path }

    public func copyMatrix(_ name: String, into destination: UnsafeMutableBufferPointer<Double>,
                           layout: SafetensorsFile.DestinationLayout) throws(ToolError) {
        guard let file = owners[name] else {
            throw .invalidData(file: path, location: name, problem: "no such tensor in this checkpoint")
        }
        try file.copyMatrix(name, into: destination, layout: layout)
    }

    private static func open(_ path: String) throws(ToolError) -> any TensorSource {
        LoRAAdapter.isTorchCheckpoint(path) ? try TorchCheckpoint(path: path) : try SafetensorsFile(path: path)
    }

    private static func shards(index: String, folder: String) throws(ToolError) -> [any TensorSource] {
        let bytes = try readWholeFile(index)
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidData(file: index, location: nil, problem: error.description)
        }
        guard let map = document["weight_map"]?.objectPairs else {
            throw .invalidData(file: index, location: "weight_map", problem: "missing or not an object of tensor: shard file")
        }
        var names: [String] = []
        for (tensor, shard) in map {
            guard let shard = shard.stringValue, !shard.contains("/") else {
                throw .invalidData(file: index, location: "weight_map.\(tensor)", problem: "shard must be a file name in the same folder")
            }
            if !names.contains(shard) { names.append(shard) }
        }
        var files: [any TensorSource] = []
        for name in names { files.append(try open(folder + "/" + name)) }
        return files
    }
}
