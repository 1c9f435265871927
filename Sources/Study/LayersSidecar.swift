import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

#if _endian(big)
#error("layers.safetensors is written from the matrices' memory, which must be little-endian")
#endif

/// `layers.safetensors`, the binary sidecar of `metrics.json` (docs/metrics-schema.md): every
/// per-layer N×N distance matrix and every layer-mean matrix, F64 little-endian, NaN where a
/// distance is undefined. Tensors: `<metric>/<module>` of shape [layers, N, N] (layer k is
/// `layer_ids[k]`; rows and columns in `tasks` order; asymmetric metrics: row = host) and
/// `mean/<metric>/<module>` of shape [N, N] (metric ids hold no `/` and none is `mean`, so the
/// names never collide, whatever the module names). `__metadata__`: `schema`, `tasks` (a JSON
/// array) and `layer_ids` (a JSON object, module → ids).
///
/// At N tasks, M metrics, m modules and L layers the file holds 8·M·m·(L + 1)·N² bytes (N = 500,
/// 7 metrics, 2 modules, 12 layers: 364 MB); it is written from the analysis's matrices piece by
/// piece, never assembled in memory.
public enum LayersSidecar {
    public static let fileName = "layers.safetensors"
    public static let schema = "tvgeo.layers/1"

    /// The tensor of the per-layer matrices of `metric` and `module`.
    public static func layersTensor(_ metric: DistanceMetric, _ module: String) -> String { "\(metric.id)/\(module)" }

    /// The tensor of their layer mean.
    public static func meanTensor(_ metric: DistanceMetric, _ module: String) -> String { "mean/\(metric.id)/\(module)" }

    /// What `metrics.json` records of the sidecar (`layers_file`): its path relative to the folder
    /// of `metrics.json`, its size in bytes and its SHA-256 (lowercase hex).
    public struct Record: Sendable, Equatable {
        public var path: String
        public var bytes: Int
        public var sha256: String

        public var json: JSONValue {
            .object([("path", .string(path)), ("schema", .string(LayersSidecar.schema)), ("dtype", .string("F64")),
                     ("bytes", .int(bytes)), ("sha256", .string(sha256))])
        }

        /// Reads `layers_file` of a metrics document (`file` names it in errors).
        public init(json: JSONValue?, file: String) throws(ToolError) {
            guard let json, let path = json["path"]?.stringValue, let bytes = json["bytes"]?.intValue,
                  let sha256 = json["sha256"]?.stringValue else {
                throw .invalidData(file: file, location: "layers_file", problem: "missing, or without path, bytes and sha256")
            }
            guard json["schema"]?.stringValue == LayersSidecar.schema else {
                throw .invalidData(file: file, location: "layers_file.schema",
                                   problem: "is \(json["schema"].map(JSONWriter.string) ?? "missing"), expected \"\(LayersSidecar.schema)\"")
            }
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw .invalidData(file: file, location: "layers_file.path", problem: "\(path) leaves the output folder")
            }
            self.init(path: path, bytes: bytes, sha256: sha256)
        }

        public init(path: String, bytes: Int, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// The sidecar of an analysis, ready to write, and its record for `metrics.json`.
    public struct Sidecar: Sendable {
        public var file: OutputFile
        public var record: Record
    }

    /// The sidecar of `analysis` at `path` (relative to the output folder). The bytes are hashed
    /// here in one pass and produced again, piece by piece, when the file is written.
    public static func make(for analysis: StudyAnalysis, path: String = fileName) -> Sidecar {
        let count = analysis.tasks.count
        var specs: [TensorSpec] = []
        var sources: [[PairMatrix]] = []
        var layerIDs: [(String, JSONValue)] = []
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                if !layerIDs.contains(where: { $0.0 == module }) {
                    layerIDs.append((module, .array(layered.layerIDs.map(JSONValue.int))))
                }
                specs.append(TensorSpec(name: layersTensor(metric, module), dtype: .f64, shape: [layered.layers.count, count, count]))
                sources.append(layered.layers)
                specs.append(TensorSpec(name: meanTensor(metric, module), dtype: .f64, shape: [count, count]))
                sources.append([layered.mean])
            }
        }
        let metadata = ["schema": schema, "tasks": compact(.array(analysis.tasks.map(JSONValue.string))),
                        "layer_ids": compact(.object(layerIDs))]
        let layout: SafetensorsLayout
        do {
            layout = try SafetensorsWriter.layout(specs, metadata: metadata, file: path)
        } catch {
            // Metric ids and module names are unique, so the names are; shapes are counts.
            preconditionFailure("layers.safetensors: \(error.message)")
        }
        let matrices = sources
        let stream = OutputStreamSource(byteCount: layout.fileSize) { sink in
            guard layout.header.withUnsafeBytes(sink) else { return }
            for index in layout.order {
                for matrix in matrices[index] {
                    // A matrix of the wrong size shows as a byte count the writer refuses.
                    guard matrix.values.withUnsafeBytes(sink) else { return }
                }
            }
        }
        var hash = SHA256()
        stream.produce { piece in
            hash.update(piece)
            return true
        }
        let record = Record(path: path, bytes: layout.fileSize, sha256: SHA256.hexString(hash.finish()))
        return Sidecar(file: OutputFile(path, stream: stream), record: record)
    }

    /// One-line JSON of strings, integers, arrays and objects (the metadata values).
    static func compact(_ value: JSONValue) -> String {
        var out = ""
        switch value {
        case .string(let text): JSONWriter.writeString(text, into: &out)
        case .array(let items): out = "[" + items.map(compact).joined(separator: ",") + "]"
        case .object(let pairs): out = "{" + pairs.map { compact(.string($0.0)) + ":" + compact($0.1) }.joined(separator: ",") + "}"
        default: out = JSONWriter.string(value).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return out
    }

    /// Opens the sidecar a `metrics.json` in `folder` records, after checking its size and SHA-256
    /// against the record (exit 65 when they differ: the file was replaced or damaged; 66 when it
    /// is missing).
    public static func open(_ record: Record, folder: String) throws(ToolError) -> SafetensorsFile {
        let path = folder + "/" + record.path
        guard case .regular = FileKind.of(path) else {
            if case .missing(let problem) = FileKind.of(path) {
                throw .missingInput(path: path, problem: problem + " (metrics.json keeps the per-layer matrices in this file)")
            }
            throw .missingInput(path: path, problem: "not a regular file")
        }
        let file = try SafetensorsFile(path: path)
        let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        guard size == record.bytes else {
            throw .invalidData(file: path, location: nil,
                               problem: "is \(size.map(String.init) ?? "?") bytes, metrics.json records \(record.bytes): "
                                        + "the file was replaced or damaged since metrics.json was written")
        }
        let digest = try SHA256.hex(ofFile: path)
        guard digest == record.sha256 else {
            throw .invalidData(file: path, location: nil,
                               problem: "its SHA-256 is \(digest), metrics.json records \(record.sha256): "
                                        + "the file was replaced or damaged since metrics.json was written")
        }
        return file
    }

    /// The `count` × `count` matrices of F64 tensor `name` (NaN kept), one per leading index:
    /// `layers` matrices for a [layers, N, N] tensor, one for an [N, N] tensor.
    public static func matrices(_ file: SafetensorsFile, _ name: String, count: Int) throws(ToolError) -> [PairMatrix] {
        guard let info = file.info(name) else {
            throw .invalidData(file: file.path, location: name, problem: "no such tensor (metrics.json names it)")
        }
        let square = count * count
        guard info.dtype == .f64, info.shape.suffix(2) == [count, count], info.shape.count <= 3 else {
            throw .invalidData(file: file.path, location: name,
                               problem: "is \(info.dtype.rawValue) \(info.shape), "
                                        + "expected F64 of shape [layers, \(count), \(count)] or [\(count), \(count)]")
        }
        let bytes = try file.rawBytes(name)
        let layers = info.shape.count == 3 ? info.shape[0] : 1
        return (0..<layers).map { layer in
            var matrix = PairMatrix(count: count)
            matrix.values.withUnsafeMutableBytes { destination in
                bytes.withUnsafeBytes { source in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(layer * square * 8)..<((layer + 1) * square * 8)]))
                }
            }
            return matrix
        }
    }
}
