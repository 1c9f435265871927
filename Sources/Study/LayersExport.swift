import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

/// `tvgeo export --json-layers`: a `metrics.json` (`tvgeo.metrics/3`, or `tvgeo.kinds/2` of a study
/// of both kinds) rewritten in the earlier inline layout (`tvgeo.metrics/2`, `tvgeo.kinds/1`),
/// for readers that expect every distance matrix in the JSON: `layers_file` goes, and each
/// `distances.<metric>.<module>` becomes `{"layer_ids", "layers": [N×N per layer], "mean": N×N}`
/// again, read from the sidecar after its size and SHA-256 are checked. Everything else is kept
/// as it is, in its order.
public enum LayersExport {
    /// The default file name, beside `metrics.json`.
    public static let defaultName = "metrics-inline.json"

    /// Writes the inline document of `folder`'s metrics.json to `target` (an existing file only
    /// with `force`); returns its size in bytes.
    public static func write(folder: String, to target: String, force: Bool) throws(ToolError) -> Int {
        try OutputFolder.checkFileTarget(target, force: force)
        let file = OutputFile(target, text: JSONWriter.stringInParallel(try inlineDocument(folder: folder)))
        try OutputFolder.writeFile(file, to: target, force: force)
        return file.byteCount
    }

    /// The inline document of the `metrics.json` in `folder`.
    public static func inlineDocument(folder: String) throws(ToolError) -> JSONValue {
        let metricsPath = folder + "/metrics.json"
        guard case .regular = FileKind.of(metricsPath) else {
            throw .missingInput(path: metricsPath, problem: "no metrics.json here; give the output folder of tvgeo analyze or report")
        }
        guard let bytes = FileManager.default.contents(atPath: metricsPath) else {
            throw .missingInput(path: metricsPath, problem: "cannot be read")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidData(file: metricsPath, location: nil, problem: error.description)
        }
        switch document["schema"]?.stringValue {
        case MetricsDocument.schema:
            return try inline(document, folder: folder, file: metricsPath, location: nil)
        case KindComparisonDocument.schema:
            var pairs = document.objectPairs ?? []
            for (index, pair) in pairs.enumerated() {
                if pair.0 == "schema" { pairs[index].1 = .string(KindComparisonDocument.inlineSchema) }
                guard pair.0 == "kinds", var kinds = pair.1.objectPairs else { continue }
                for (kindIndex, kind) in kinds.enumerated() {
                    kinds[kindIndex].1 = try inline(kind.1, folder: folder, file: metricsPath, location: "kinds.\(kind.0)")
                }
                pairs[index].1 = .object(kinds)
            }
            return .object(pairs)
        case let other:
            let found = other.map { "\"\($0)\"" } ?? "missing"
            throw .invalidData(file: metricsPath, location: "schema",
                               problem: "is \(found); export reads \"\(MetricsDocument.schema)\" or \"\(KindComparisonDocument.schema)\""
                                        + " (earlier schemas already hold the matrices inline)")
        }
    }

    /// One analysis document with its matrices inline.
    static func inline(_ document: JSONValue, folder: String, file: String, location: String?) throws(ToolError) -> JSONValue {
        let prefix = location.map { $0 + "." } ?? ""
        let record = try LayersSidecar.Record(json: document["layers_file"], file: file)
        let sidecar = try LayersSidecar.open(record, folder: folder)
        guard let count = document["tasks"]?.arrayValue?.count else {
            throw .invalidData(file: file, location: prefix + "tasks", problem: "missing")
        }
        var pairs: [(String, JSONValue)] = []
        for (key, value) in document.objectPairs ?? [] {
            switch key {
            case "layers_file":
                continue
            case "schema":
                pairs.append((key, .string(MetricsDocument.inlineSchema)))
            case "distances":
                var metrics: [(String, JSONValue)] = []
                for (metric, byModule) in value.objectPairs ?? [] {
                    guard let moduleEntries = byModule.objectPairs else {
                        metrics.append((metric, byModule))
                        continue
                    }
                    var modules: [(String, JSONValue)] = []
                    for (module, entry) in moduleEntries {
                        guard !entry.isNull else {
                            modules.append((module, entry))
                            continue
                        }
                        let here = "\(prefix)distances.\(metric).\(module)"
                        guard let layersName = entry["tensor"]?.stringValue, let meanName = entry["mean_tensor"]?.stringValue,
                              let layerIDs = entry["layer_ids"] else {
                            throw .invalidData(file: file, location: here, problem: "tensor, mean_tensor or layer_ids is missing")
                        }
                        let layers = try LayersSidecar.matrices(sidecar, layersName, count: count)
                        let means = try LayersSidecar.matrices(sidecar, meanName, count: count)
                        guard layers.count == layerIDs.arrayValue?.count, let mean = means.first else {
                            throw .invalidData(file: sidecar.path, location: layersName,
                                               problem: "has \(layers.count) layers, metrics.json lists \(layerIDs.arrayValue?.count ?? 0) layer ids")
                        }
                        modules.append((module, .object([("layer_ids", layerIDs),
                                                         ("layers", .array(layers.map(MetricsDocument.matrixJSON))),
                                                         ("mean", MetricsDocument.matrixJSON(mean))])))
                    }
                    metrics.append((metric, .object(modules)))
                }
                pairs.append((key, .object(metrics)))
            default:
                pairs.append((key, value))
            }
        }
        return .object(pairs)
    }
}
