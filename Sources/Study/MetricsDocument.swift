import AnalysisCore
import Foundation
import JSONText

/// `metrics.json` (schema `tvgeo.metrics/2`, documented in docs/metrics-schema.md) built from a
/// `StudyAnalysis`. Undefined values are `null`; matrices are row-major in `tasks` order.
public enum MetricsDocument {
    public static let schema = "tvgeo.metrics/2"

    public static func json(_ analysis: StudyAnalysis, findings: StudyFindings? = nil, tool: ToolInfo) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("schema", .string(schema)),
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(tool.version))])),
            ("tasks", .array(analysis.tasks.map(JSONValue.string))),
            ("modules", .array(analysis.modules.map(JSONValue.string))),
            ("metrics", .array(DistanceMetric.allCases.map { .string($0.id) })),
            ("warnings", .array((analysis.warnings + (findings?.warnings ?? [])).map { .string($0.text) })),
            ("adapters", .array(analysis.adapters.map(adapterJSON))),
        ]
        var distances: [(String, JSONValue)] = []
        for metric in DistanceMetric.allCases {
            guard let byModule = analysis.distances[metric] else { continue }
            distances.append((metric.id, .object(analysis.modules.compactMap { module in
                byModule[module].map { (module, layeredJSON($0)) }
            })))
        }
        pairs.append(("distances", .object(distances)))
        if !analysis.moduleTasks.isEmpty {
            pairs.append(("module_tasks", .object(analysis.modules.compactMap { module in
                analysis.moduleTasks[module].map { (module, .array($0.map(JSONValue.string))) }
            })))
        }
        pairs.append(("subspace_ranks", .object(analysis.modules.map { module in
            let byKind = analysis.subspaceRanks[module] ?? [:]
            return (module, .object(analysis.tasks.enumerated().map { index, task in
                // Keyed by the Grassmann metric of each subspace.
                (task, .object(DistanceMetric.allCases.compactMap { metric in
                    metric.subspace.map { kind -> (String, JSONValue) in
                        let ranks: [Int?] = byKind[kind]?[index] ?? []
                        return (metric.id, .array(ranks.map { $0.map(JSONValue.int) ?? .null }))
                    }
                }))
            }))
        })))
        pairs.append(("norms", .object(analysis.modules.map { module in
            (module, .object(analysis.tasks.enumerated().map { index, task in
                (task, .array((analysis.norms[module]?[index] ?? []).map(JSONValue.number)))
            }))
        })))
        if !analysis.spectra.isEmpty {
            pairs.append(("fft", .object([
                ("subspace_rank", analysis.subspaceRank.map(JSONValue.int) ?? .null),
                ("spectra", .object(analysis.modules.map { module in
                    (module, .object(analysis.tasks.enumerated().map { index, task in
                        let spectra = analysis.spectra[module]?[index] ?? []
                        return (task, .object([
                            ("k", intArray(spectra.map(\.k))),
                            ("captured_energy", .array(spectra.map { .number($0.capturedEnergy) })),
                            ("effective_rank", .array(spectra.map { .number($0.effectiveRank) })),
                            ("randomized", .array(spectra.map { .bool($0.randomized) })),
                        ]))
                    }))
                })),
            ])))
        }
        if let findings { pairs += findingsJSON(findings, analysis: analysis) }
        return .object(pairs)
    }

    /// metric → module → value, in the analysis's order; `null` where the value is missing.
    static func byMetricAndModule<T>(_ table: [DistanceMetric: [String: T]], modules: [String], _ encode: (T) -> JSONValue) -> JSONValue {
        byMetricAndModule(table, modules: modules) { _, _, value in encode(value) }
    }

    /// The same, for values whose encoding depends on their metric and module.
    static func byMetricAndModule<T>(_ table: [DistanceMetric: [String: T]], modules: [String],
                                     _ encode: (DistanceMetric, String, T) -> JSONValue) -> JSONValue {
        .object(DistanceMetric.allCases.map { metric in
            (metric.id, .object(modules.map { module in (module, table[metric]?[module].map { encode(metric, module, $0) } ?? .null) }))
        })
    }

    /// `left_out`: the tasks a map or ordering leaves out (later duplicates, undefined distances),
    /// present only when there are some.
    static func leftOut(_ findings: StudyFindings, _ analysis: StudyAnalysis, _ metric: DistanceMetric,
                        _ module: String) -> [(String, JSONValue)] {
        guard let indices = findings.leftOutOfMaps[metric]?[module], !indices.isEmpty else { return [] }
        return [("left_out", .array(indices.map { .string(analysis.tasks[$0]) }))]
    }

    static func findingsJSON(_ findings: StudyFindings, analysis: StudyAnalysis) -> [(String, JSONValue)] {
        let modules = analysis.modules
        var pairs: [(String, JSONValue)] = [
            ("pca", byMetricAndModule(findings.pca, modules: modules) { metric, module, pca in
                .object([("coordinates", points(pca.coordinates)),
                         ("explained_variance_ratio", .array(pca.explainedVarianceRatio.map(JSONValue.number)))]
                        + leftOut(findings, analysis, metric, module))
            }),
            ("mds", byMetricAndModule(findings.mds, modules: modules) { metric, module, mds in
                .object([("coordinates", points(mds.coordinates)),
                         ("eigenvalues", .array(mds.eigenvalues.map(JSONValue.number))),
                         ("positive_mass", .number(mds.positiveMass)),
                         ("stress1", .number(mds.stress1))]
                        + leftOut(findings, analysis, metric, module))
            }),
            ("clustering", byMetricAndModule(findings.clustering, modules: modules) { metric, module, clustering in
                .object([("merges", .array(clustering.merges.map { .array([.int($0.0), .int($0.1), .number($0.2), .int($0.3)]) })),
                         ("order", intArray(clustering.order))]
                        + leftOut(findings, analysis, metric, module))
            }),
            ("clusters", byMetricAndModule(findings.clusters, modules: modules) { clusters in
                .object([("k", .int(clusters.count)), ("silhouette", optional(clusters.silhouette)),
                         ("labels", intArray(clusters.labels)), ("medoids", intArray(clusters.medoids))])
            }),
        ]
        // The task order heatmaps use: Grassmann of the first module, else the first available.
        let order = findings.clustering[.grassmann]?[modules.first ?? ""]?.order
            ?? DistanceMetric.allCases.lazy.compactMap { findings.clustering[$0]?[modules.first ?? ""]?.order }.first
        pairs.append(("order", order.map(intArray) ?? .null))
        if !findings.duplicates.isEmpty {
            pairs.append(("duplicates", .array(findings.duplicates.map { .array($0.map { .string(analysis.tasks[$0]) }) })))
        }
        pairs.append(("grassmann_vs_grassmann_b", .object(modules.map { ($0, findings.grassmannIdentity[$0].map(JSONValue.number) ?? .null) })))
        guard let scores = findings.scores, let delta = findings.delta else { return pairs }
        pairs.append(("scores", .array(scores.rows.map { row in
            var fields: [(String, JSONValue)] = [("model", .string(row.model)), ("task", .string(row.task)), ("score", .number(row.score))]
            if let metric = row.metric { fields.append(("metric", .string(metric))) }
            return .object(fields)
        })))
        pairs.append(("delta", matrixJSON(delta)))
        pairs.append(("correlations", byMetricAndModule(findings.correlations, modules: modules) { metric, module, byKind in
            var fields = summaryFields(byKind[.spearman], tasks: analysis.tasks)
            fields.append(("pearson", .object(summaryFields(byKind[.pearson], tasks: analysis.tasks))))
            fields.append(("kendall", .object(summaryFields(byKind[.kendall], tasks: analysis.tasks))))
            if let layers = findings.perLayer[metric]?[module] {
                fields.append(("per_layer", .array(layers.map { row in
                    .object([("layer", .int(row.layer)), ("mean", optional(row.mean)), ("std", optional(row.std)), ("n", .int(row.n)),
                             ("p", optional(row.p))])
                })))
            }
            return .object(fields)
        }))
        pairs.append(("best_layer", .object(modules.map { module in
            (module, findings.bestLayer[module].map { best in
                .object([("metric", .string(best.metric.id)), ("layer", .int(best.layer)), ("mean", .number(best.mean)),
                         ("std", .number(best.std)), ("n", .int(best.n)), ("p", .number(best.p)), ("p_holm", .number(best.holmP)),
                         ("tests", .int(best.tests))])
            } ?? .null)
        })))
        pairs.append(("prediction", findings.prediction.map { predictionJSON($0, tasks: analysis.tasks) } ?? .null))
        return pairs
    }

    static func optional(_ value: Double?) -> JSONValue { value.map { $0.isFinite ? .number($0) : .null } ?? .null }

    /// `prediction`: the leave-one-task-out ridge and the select-best baseline.
    static func predictionJSON(_ prediction: MergeLossPrediction, tasks: [String]) -> JSONValue {
        .object([
            ("features", .array(prediction.features.map(JSONValue.string))),
            ("ridge_lambda", .number(prediction.ridgeLambda)),
            ("per_task", .object(tasks.enumerated().map { ($1, optional(prediction.perTask[$0])) })),
            ("mean", optional(prediction.mean)),
            ("std", optional(prediction.std)),
            ("select_best", .object([
                ("per_task", .object(tasks.enumerated().map { index, task in
                    (task, prediction.selectBest[index].map { .object([("feature", .string($0.feature)), ("rho", optional($0.rho))]) } ?? .null)
                })),
                ("mean", optional(prediction.selectBestMean)),
                ("std", optional(prediction.selectBestStd)),
            ])),
        ])
    }

    static func summaryFields(_ summary: CorrelationSummary?, tasks: [String]) -> [(String, JSONValue)] {
        guard let summary else { return [] }
        return [
            ("per_task", .object(tasks.enumerated().map { index, task in
                let result = summary.perTask[index]
                return (task, .object([("rho", result.map { .number($0.value) } ?? .null),
                                       ("n", .int(summary.perTaskCounts[index])),
                                       ("p", result.map { .number($0.p) } ?? .null)]))
            })),
            ("mean", summary.mean.map(JSONValue.number) ?? .null),
            ("std", summary.std.map(JSONValue.number) ?? .null),
            ("pooled", summary.pooled.map { .number($0.value) } ?? .null),
            ("pooled_n", summary.pooled.map { .int($0.n) } ?? .null),
            ("pooled_p", summary.pooled.map { .number($0.p) } ?? .null),
            ("ci95", summary.ci95.map { .array([.number($0.0), .number($0.1)]) } ?? .null),
        ]
    }

    static func points(_ coordinates: [[Double]]) -> JSONValue {
        .array(coordinates.map { .array($0.map(JSONValue.number)) })
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

/// File names made from module names (which may hold `/` for encoder/decoder stacks).
public enum OutputNaming {
    /// ASCII letters, digits, `.`, `_` and `-` kept, anything else `_`; a leading `.` becomes `_`
    /// too, so a name never makes a hidden file or `..`.
    public static func component(_ text: String) -> String {
        var name = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        if name.hasPrefix(".") { name = "_" + name.dropFirst() }
        return name
    }

    /// One file-name component per name of `names`: `component(name)`, unless an earlier name
    /// already has it (compared ignoring case, as macOS's file systems do); then `-2`, `-3`, … is
    /// appended, passing over any component that another name has as it is. Names that differ only
    /// in characters `component` replaces (`<a>` and `(a)`) thus get files of their own.
    public static func components(_ names: [String]) -> [String: String] {
        let plain = names.map(component)
        let plainKeys = Set(plain.map { $0.lowercased() })
        var taken: Set<String> = []
        var result: [String: String] = [:]
        for (name, stem) in zip(names, plain) where result[name] == nil {
            var candidate = stem
            var suffix = 2
            while taken.contains(candidate.lowercased()) || (candidate != stem && plainKeys.contains(candidate.lowercased())) {
                candidate = "\(stem)-\(suffix)"
                suffix += 1
            }
            taken.insert(candidate.lowercased())
            result[name] = candidate
        }
        return result
    }
}
