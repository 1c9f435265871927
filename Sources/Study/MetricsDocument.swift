import AnalysisCore
import Foundation
import JSONText

/// `metrics.json` (schema `tvgeo.metrics/1`, documented in docs/metrics-schema.md) built from a
/// `StudyAnalysis`. Undefined values are `null`; matrices are row-major in `tasks` order.
public enum MetricsDocument {
    public static let schema = "tvgeo.metrics/1"

    public static func json(_ analysis: StudyAnalysis, tool: ToolInfo) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("schema", .string(schema)),
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(tool.version))])),
            ("tasks", .array(analysis.tasks.map(JSONValue.string))),
            ("modules", .array(analysis.modules.map(JSONValue.string))),
            ("metrics", .array(DistanceMetric.allCases.map { .string($0.rawValue) })),
            ("warnings", .array(analysis.warnings.map { .string($0.text) })),
            ("adapters", .array(analysis.adapters.map(adapterJSON))),
        ]
        var distances: [(String, JSONValue)] = []
        for metric in DistanceMetric.allCases {
            guard let byModule = analysis.distances[metric] else { continue }
            distances.append((metric.rawValue, .object(analysis.modules.compactMap { module in
                byModule[module].map { (module, layeredJSON($0)) }
            })))
        }
        pairs.append(("distances", .object(distances)))
        pairs.append(("subspace_ranks", .object(analysis.modules.map { module in
            let byKind = analysis.subspaceRanks[module] ?? [:]
            return (module, .object(analysis.tasks.enumerated().map { index, task in
                (task, .object([
                    ("grassmann", intArray(byKind[.delta]?[index] ?? [])),
                    ("grassmann_b", intArray(byKind[.b]?[index] ?? [])),
                    ("grassmann_a", intArray(byKind[.a]?[index] ?? [])),
                ]))
            }))
        })))
        pairs.append(("norms", .object(analysis.modules.map { module in
            (module, .object(analysis.tasks.enumerated().map { index, task in
                (task, .array((analysis.norms[module]?[index] ?? []).map(JSONValue.number)))
            }))
        })))
        return .object(pairs)
    }

    static func adapterJSON(_ adapter: AdapterSummary) -> JSONValue {
        .object([
            ("task", .string(adapter.task)),
            ("path", .string(adapter.path)),
            ("weights", .string(adapter.weightsPath)),
            ("kind", .string(adapter.kind)),
            ("base_model", adapter.baseModel.map(JSONValue.string) ?? .null),
            ("modules", .array(adapter.modules.map(moduleJSON))),
            ("ignored_tensors", .array(adapter.ignoredTensors.map(JSONValue.string))),
        ])
    }

    /// rank / alpha / scaling as numbers when every layer agrees; otherwise `null` there and the
    /// per-layer values under `per_layer`.
    static func moduleJSON(_ module: AdapterSummary.Module) -> JSONValue {
        let uniform = Set(module.ranks).count <= 1 && Set(module.alphas).count <= 1 && Set(module.scalings).count <= 1
        var pairs: [(String, JSONValue)] = [
            ("name", .string(module.name)),
            ("layers", intArray(module.layers)),
            ("rank", uniform ? (module.ranks.first.map(JSONValue.int) ?? .null) : .null),
            ("alpha", uniform ? (module.alphas.first.map(JSONValue.number) ?? .null) : .null),
            ("scaling", uniform ? (module.scalings.first.map(JSONValue.number) ?? .null) : .null),
        ]
        if !uniform {
            pairs.append(("per_layer", .array(module.layers.indices.map { k in
                .object([("layer", .int(module.layers[k])), ("rank", .int(module.ranks[k])),
                         ("alpha", .number(module.alphas[k])), ("scaling", .number(module.scalings[k]))])
            })))
        }
        return .object(pairs)
    }

    static func layeredJSON(_ layered: LayeredDistances) -> JSONValue {
        .object([
            ("layer_ids", intArray(layered.layerIDs)),
            ("layers", .array(layered.layers.map(matrixJSON))),
            ("mean", matrixJSON(layered.mean)),
        ])
    }

    public static func matrixJSON(_ matrix: PairMatrix) -> JSONValue {
        .array(matrix.rows.map { .array($0.map(JSONValue.number)) })
    }

    static func intArray(_ values: [Int]) -> JSONValue { .array(values.map(JSONValue.int)) }
}

/// The version and command line recorded in outputs.
public struct ToolInfo: Sendable {
    public static let version = "0.1.0"
    public var version: String
    public init(version: String = ToolInfo.version) { self.version = version }
}

/// A CSV table of one N×N matrix: a header row of task names, then one row per task.
/// Undefined values are empty cells; fields are quoted when they hold a comma, quote or newline.
public enum MatrixCSV {
    public static func text(tasks: [String], matrix: PairMatrix) -> String {
        var lines = [(["task"] + tasks).map(field).joined(separator: ",")]
        for (index, row) in matrix.rows.enumerated() {
            lines.append(([field(tasks[index])] + row.map { $0.isNaN ? "" : "\($0)" }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// File names made from module names (which may hold `/` for encoder/decoder stacks).
public enum OutputNaming {
    public static func component(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
    }
}
