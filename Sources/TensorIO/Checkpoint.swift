import Diagnostics
import JSONText

/// A full model checkpoint in safetensors form: a `.safetensors` file, a folder with
/// `model.safetensors`, or a sharded folder (`model.safetensors.index.json` and its shards).
/// Only headers are read on opening; weights are read per tensor from the mapped files.
public final class Checkpoint: Sendable {
    public let path: String
    /// Every tensor name and the file that holds it.
    private let owners: [String: SafetensorsFile]
    public let files: [SafetensorsFile]

    public init(path: String) throws(ToolError) {
        self.path = path
        switch FileKind.of(path) {
        case .missing(let problem):
            throw .missingInput(path: path, problem: problem)
        case .special:
            throw .missingInput(path: path, problem: "is not a regular file or folder")
        case .regular:
            let file = try SafetensorsFile(path: path)
            files = [file]
        case .directory:
            let single = path + "/model.safetensors", index = path + "/model.safetensors.index.json"
            if FileKind.of(single) == .regular {
                files = [try SafetensorsFile(path: single)]
            } else if FileKind.of(index) == .regular {
                files = try Self.shards(index: index, folder: path)
            } else if FileKind.of(path + "/pytorch_model.bin") == .regular {
                throw .invalidData(file: path, location: nil,
                                   problem: "holds pytorch_model.bin but no model.safetensors; tvgeo reads safetensors checkpoints")
            } else {
                throw .missingInput(path: single, problem: "no such file (nor model.safetensors.index.json); is \(path) a model folder?")
            }
        }
        var owners: [String: SafetensorsFile] = [:]
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

    private static func shards(index: String, folder: String) throws(ToolError) -> [SafetensorsFile] {
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
        var files: [SafetensorsFile] = []
        for name in names { files.append(try SafetensorsFile(path: folder + "/" + name)) }
        return files
    }
}
