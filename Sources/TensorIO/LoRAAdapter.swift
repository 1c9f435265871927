#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics

/// One (module, layer) position of a study.
public struct BlockKey: Hashable, Sendable, Comparable {
    public var module: ModuleKey
    public var layer: Int

    public init(module: ModuleKey, layer: Int) {
        self.module = module
        self.layer = layer
    }

    public static func < (lhs: BlockKey, rhs: BlockKey) -> Bool {
        lhs.module == rhs.module ? lhs.layer < rhs.layer : lhs.module < rhs.module
    }
}

/// The two factors of one adapted weight, as found in the file, with PEFT's scaling.
public struct LoRAFactorPair: Sendable, Equatable {
    public var aTensor: String
    public var bTensor: String
    public var modulePath: String
    public var rank: Int
    /// d_out × d_in of ΔW = s·B·A.
    public var outFeatures: Int
    public var inFeatures: Int
    public var alpha: Double
    public var scaling: Double

    public init(aTensor: String, bTensor: String, modulePath: String, rank: Int, outFeatures: Int, inFeatures: Int,
                alpha: Double, scaling: Double) {
        (self.aTensor, self.bTensor, self.modulePath, self.rank) = (aTensor, bTensor, modulePath, rank)
        (self.outFeatures, self.inFeatures, self.alpha, self.scaling) = (outFeatures, inFeatures, alpha, scaling)
    }
}

/// A LoRA adapter: a PEFT folder (`adapter_config.json` + `adapter_model.safetensors`) or a bare
/// `.safetensors` file of LoRA tensors. Loading reads the header and the config only; factor
/// values are read per block from the mapped file.
public final class LoRAAdapter: Sendable {
    public let task: String
    /// The path as the user gave it.
    public let path: String
    /// The tensor file actually read.
    public let weightsPath: String
    public let config: AdapterConfig?
    public let blocks: [BlockKey: LoRAFactorPair]
    /// Tensors present in the file that the analysis does not use, in file order.
    public let ignoredTensors: [String]
    public let warnings: [Warning]
    private let file: any TensorSource

    public var baseModel: String? { config?.baseModel }

    /// The tensor file behind the adapter (`weightsPath`), as read: a `SafetensorsFile`, or a
    /// `TorchCheckpoint` for `.bin`, `.pt` and `.pth`. Its other tensors (classifier heads) are read here.
    public var tensorFile: any TensorSource { file }

    /// Loads `path` (a folder or a `.safetensors` file) under the task name `task`.
    public init(task: String, path: String) throws(ToolError) {
        self.task = task
        self.path = path
        var warnings: [Warning] = []
        let configPath: String?
        let weightsPath: String
        switch FileKind.of(path) {
        case .missing(let problem):
            throw .missingInput(path: path, problem: problem)
        case .special:
            throw .missingInput(path: path, problem: "is not a regular file or folder")
        case .directory:
            let config = path + "/adapter_config.json"
            let safetensors = path + "/adapter_model.safetensors"
            let bin = path + "/adapter_model.bin"
            let hasConfig = FileKind.of(config) == .regular
            let hasSafetensors = FileKind.of(safetensors) == .regular
            for file in [safetensors, bin] where FileKind.of(file) == .directory {
                throw .missingInput(path: file, problem: "is a directory, expected a \(file == bin ? ".bin" : ".safetensors") file")
            }
            guard hasSafetensors || FileKind.of(bin) == .regular else {
                if !hasConfig, let checkpoint = Checkpoint.file(inFolder: path) {
                    throw .missingInput(path: safetensors,
                                        problem: "no such file; \(path) is not a PEFT adapter folder: it holds a full checkpoint "
                                                 + "(\(checkpoint)), not LoRA factors")
                }
                throw .missingInput(path: safetensors,
                                    problem: hasConfig
                                        ? "no such file (the folder has adapter_config.json but neither adapter_model.safetensors "
                                            + "nor adapter_model.bin)"
                                        : "no such file; is \(path) a PEFT adapter folder?")
            }
            guard hasConfig else {
                throw .missingInput(path: config,
                                    problem: "no such file; a PEFT adapter folder needs its adapter_config.json "
                                             + "(or pass the .safetensors file itself to use scaling 1)")
            }
            configPath = config
            // safetensors wins when both are present.
            weightsPath = hasSafetensors ? safetensors : bin
        case .regular:
            let folder = Self.parentFolder(of: path)
            let sibling = folder + "/adapter_config.json"
            if ["adapter_model.safetensors", "adapter_model.bin"].contains(Self.fileName(of: path)), FileKind.of(sibling) == .regular {
                configPath = sibling
            } else {
                configPath = nil
                warnings.append(Warning("\(task): \(path) is a bare safetensors file without adapter_config.json; using scaling s = 1 (ΔW = B·A)"))
            }
            weightsPath = path
        }
        let config = try configPath.map { configFile throws(ToolError) in
            try AdapterConfig.parse(try readWholeFile(configFile), file: configFile)
        }
        let file: any TensorSource = Self.isTorchCheckpoint(weightsPath)
            ? try TorchCheckpoint(path: weightsPath) : try SafetensorsFile(path: weightsPath)
        self.weightsPath = weightsPath
        self.config = config
        self.file = file

        var factorsByModule: [BlockKey: (a: TensorInfo?, b: TensorInfo?, name: LoRATensorName)] = [:]
        var ignored: [String] = []
        var embedding: [String] = []
        for tensor in file.tensors {
            switch TensorNaming.role(of: tensor.name) {
            case .unsupportedMethod(let method):
                throw .invalidData(file: weightsPath, location: tensor.name,
                                   problem: "\(method) tensors found; tvgeo analyses plain LoRA adapters only")
            case .loraEmbedding:
                embedding.append(tensor.name)
                ignored.append(tensor.name)
            case .other:
                ignored.append(tensor.name)
            case .lora(let name):
                let key = BlockKey(module: name.moduleKey, layer: name.layer)
                var entry = factorsByModule[key] ?? (nil, nil, name)
                let existing = name.factor == .a ? entry.a : entry.b
                if let existing {
                    throw .invalidData(file: weightsPath, location: tensor.name,
                                       problem: "a second \(name.factor.rawValue) for module \(name.modulePath) (already \(existing.name)); "
                                                + "several adapters in one file are not supported")
                }
                if name.factor == .a { entry.a = tensor } else { entry.b = tensor }
                factorsByModule[key] = entry
            }
        }
        if !embedding.isEmpty {
            warnings.append(Warning("\(task): \(embedding.count) lora_embedding tensors (LoRA on embeddings) are ignored"))
        }
        var blocks: [BlockKey: LoRAFactorPair] = [:]
        for (key, entry) in factorsByModule {
            guard let a = entry.a else {
                throw .invalidData(file: weightsPath, location: entry.b!.name, problem: "lora_B without its lora_A")
            }
            guard let b = entry.b else {
                throw .invalidData(file: weightsPath, location: a.name, problem: "lora_A without its lora_B")
            }
            for tensor in [a, b] where tensor.shape.count != 2 {
                throw .invalidData(file: weightsPath, location: tensor.name,
                                   problem: "LoRA factor has shape \(tensor.shape); expected a 2-D matrix")
            }
            for tensor in [a, b] where !tensor.dtype.isReadableAsFloat {
                throw .invalidData(file: weightsPath, location: tensor.name,
                                   problem: "dtype \(tensor.dtype.rawValue) is not a floating-point type tvgeo reads (F64, F32, F16, BF16)")
            }
            let rank = a.shape[0]
            guard b.shape[1] == rank else {
                throw .invalidData(file: weightsPath, location: b.name,
                                   problem: "rank mismatch: lora_B is \(b.shape[0])×\(b.shape[1]) but lora_A is \(a.shape[0])×\(a.shape[1]) "
                                            + "(B's columns must equal A's rows)")
            }
            guard rank > 0, a.shape[1] > 0, b.shape[0] > 0 else {
                throw .invalidData(file: weightsPath, location: a.name, problem: "LoRA factors with an empty dimension (A \(a.shape), B \(b.shape))")
            }
            guard rank <= min(a.shape[1], b.shape[0]) else {
                throw .invalidData(file: weightsPath, location: a.name,
                                   problem: "LoRA rank \(rank) exceeds the weight's dimensions \(b.shape[0])×\(a.shape[1])")
            }
            var alpha = 1.0
            var scaling = 1.0
            if let config {
                let (configuredRank, configuredAlpha) = config.rankAndAlpha(forModulePath: entry.name.modulePath)
                guard configuredRank == rank else {
                    throw .invalidData(file: weightsPath, location: a.name,
                                       problem: "adapter_config.json gives rank \(configuredRank) for this module but lora_A has \(rank) rows")
                }
                alpha = configuredAlpha
                scaling = config.scaling(rank: rank, alpha: configuredAlpha)
            }
            blocks[key] = LoRAFactorPair(aTensor: a.name, bTensor: b.name, modulePath: entry.name.modulePath, rank: rank,
                                         outFeatures: b.shape[0], inFeatures: a.shape[1], alpha: alpha, scaling: scaling)
        }
        if blocks.isEmpty {
            throw .invalidData(file: weightsPath, location: nil,
                               problem: "no LoRA tensors (names with lora_A/lora_B) among its \(file.tensors.count) tensors")
        }
        self.blocks = blocks
        self.ignoredTensors = ignored
        self.warnings = warnings
    }

    /// Writes the factors of `block` as Double straight into a caller's buffers: B column-major
    /// (d_out × r), and A in its stored order, which is Aᵀ column-major (d_in × r).
    public func copyFactors(_ block: BlockKey, b: UnsafeMutableBufferPointer<Double>,
                            aTransposed: UnsafeMutableBufferPointer<Double>) throws(ToolError) {
        guard let pair = blocks[block] else {
            throw .internalError("\(task) has no block \(block)")
        }
        try file.copyMatrix(pair.bTensor, into: b, layout: .columnMajor)
        try file.copyMatrix(pair.aTensor, into: aTransposed, layout: .asStored)
    }

    /// `.bin`, `.pt` and `.pth` files are PyTorch checkpoints, read without running their pickle.
    public static func isTorchCheckpoint(_ path: String) -> Bool {
        let name = fileName(of: path)
        return name.hasSuffix(".bin") || name.hasSuffix(".pt") || name.hasSuffix(".pth")
    }

    /// The folder part of a path ("." for a bare name).
    public static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    public static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// What a path is on disk.
public enum FileKind: Equatable, Sendable {
    case regular, directory
    /// A FIFO, socket or device: never opened, since reading it may block forever.
    case special
    case missing(String)

    public static func of(_ path: String) -> FileKind {
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case EACCES: return .missing("permission denied")
            case ENOTDIR: return .missing("a component of the path is not a directory")
            default: return .missing("no such file or directory")
            }
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .special
        }
    }
}

/// Reads a small file (configs, CSV) whole. Missing, unreadable or directory paths are
/// `.missingInput` errors naming the path.
public func readWholeFile(_ path: String, limit: Int = 64 << 20) throws(ToolError) -> [UInt8] {
    switch FileKind.of(path) {
    case .directory: throw .missingInput(path: path, problem: "is a directory, expected a file")
    case .special: throw .missingInput(path: path, problem: "is not a regular file")
    case .missing(let problem): throw .missingInput(path: path, problem: problem)
    case .regular: break
    }
    guard let handle = fopen(path, "rb") else {
        throw .missingInput(path: path, problem: errno == EACCES ? "permission denied" : "no such file or directory")
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, handle)
        if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
        if bytes.count > limit {
            throw .invalidData(file: path, location: nil, problem: "file is larger than \(limit) bytes")
        }
        if count < chunk.count {
            if ferror(handle) != 0 { throw .missingInput(path: path, problem: "read error") }
            break
        }
    }
    return bytes
}
