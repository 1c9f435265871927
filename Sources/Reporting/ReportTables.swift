import AnalysisCore
import Charts
import CSVText
import Diagnostics
import Study

/// The report's tables as plain `TableData` rows, computed once and handed to every writer.
enum ReportTables {
    /// The poster's table: rows are modules, columns metrics, cells the Spearman ρ between δ(i,j)
    /// and the layer-mean distance as "mean (std)" over tasks; the largest mean of each row bold.
    /// A table's note: "Values: metrics.json → path." (when metrics.json is written beside the
    /// report) and then `more`; nil when that leaves nothing.
    static func notes(_ path: String, cite: Bool, _ more: String? = nil) -> String? {
        let parts = [cite ? "Values: metrics.json → \(path)." : nil, more].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// Each metric's id mapped to its LaTeX symbol, for `ReportTable.latexHeaders`.
    static func latexSymbols(_ metrics: [DistanceMetric]) -> [String: String] {
        Dictionary(metrics.map { ($0.id, $0.descriptor.latexSymbol) }, uniquingKeysWith: { first, _ in first })
    }

    static func correlations(_ findings: StudyFindings, tasks: [String], modules: [String], metrics: [DistanceMetric],
                             cite: Bool = true) -> ReportTable {
        let rows = modules.map { module -> TableData.Row in
            let summaries = metrics.map { findings.correlations[$0]?[module]?[.spearman] }
            let best = summaries.compactMap { $0?.mean }.max()
            return TableData.Row(header: module, cells: summaries.map { summary in
                guard let summary, let mean = summary.mean, let std = summary.std else { return TableData.Cell("—") }
                return TableData.Cell("\(fixed(mean)) (\(fixed(std)))", emphasis: mean == best ? .bold : [], value: mean)
            })
        }
        let data = TableData(title: "Spearman ρ between the merge loss δ(i,j) and each distance",
                             caption: "Mean (std) over tasks of the per-task Spearman correlation; best per module in bold.",
                             cornerHeader: "Module", columnHeaders: metrics.map(\.id), rows: rows)
        return ReportTable(name: "correlations", data: data,
                           notes: notes("correlations.<metric>.<module>.mean and .std", cite: cite, "— : no task has a defined ρ."),
                           csv: TableCSV.correlations(findings, tasks: tasks, modules: modules, metrics: metrics),
                           latexHeaders: latexSymbols(metrics))
    }

    /// Per metric and module: mean, std, the bootstrap interval of the mean, and the pooled ρ of the
    /// relative loss with its p-value.
    static func correlationDetails(_ findings: StudyFindings, modules: [String], metrics: [DistanceMetric],
                                   cite: Bool = true) -> ReportTable {
        var rows: [TableData.Row] = []
        for module in modules {
            for metric in metrics {
                guard let summary = findings.correlations[metric]?[module]?[.spearman] else { continue }
                let tasksWithValue = summary.perTask.compactMap { $0 }.count
                rows.append(TableData.Row(header: "\(module) · \(metric.id)", cells: [
                    number(summary.mean), number(summary.std),
                    TableData.Cell(summary.ci95.map { "[\(fixed($0.0)), \(fixed($0.1))]" } ?? "—"),
                    TableData.Cell("\(tasksWithValue)"),
                    number(summary.pooled?.value), pValue(summary.pooled?.p),
                    TableData.Cell(summary.pooled.map { "\($0.n)" } ?? "—"),
                ]))
            }
        }
        let data = TableData(title: "Spearman ρ: spread over tasks and pooled",
                             caption: "95 % bootstrap interval of the mean over tasks (10 000 resamples); "
                                      + "pooled: all pairs of δ(i,j)/|score(i on i)|.",
                             cornerHeader: "Module · metric",
                             columnHeaders: ["mean", "std", "95 % CI", "tasks", "pooled ρ", "pooled p", "pairs"],
                             rows: rows)
        return ReportTable(name: "correlations-detail", data: data,
                           notes: notes("correlations.<metric>.<module> (mean, std, ci95, pooled, pooled_p, pooled_n)", cite: cite),
                           latexHeaders: latexSymbols(metrics))
    }

    /// For one module: per task (rows) and metric (columns), Spearman ρ with its p-value.
    /// `fileModule` is the module as file names spell it (`StudyAnalysis.fileComponent(ofModule:)`).
    static func correlationsPerTask(_ findings: StudyFindings, tasks: [String], module: String, fileModule: String,
                                    metrics: [DistanceMetric], cite: Bool = true) -> ReportTable {
        let rows = tasks.enumerated().map { index, task in
            TableData.Row(header: task, cells: metrics.map { metric in
                guard let summary = findings.correlations[metric]?[module]?[.spearman] else { return TableData.Cell("—") }
                guard let result = summary.perTask[index] else { return TableData.Cell("— (n = \(summary.perTaskCounts[index]))") }
                return TableData.Cell("\(fixed(result.value)) (p \(pText(result.p)))", value: result.value)
            })
        }
        let data = TableData(title: "Per-task Spearman ρ · \(module)",
                             caption: "ρ between δ(i,j) and the distance over the partners j of task i, "
                                      + "with its two-sided p-value (exact permutation for n ≤ 9).",
                             cornerHeader: "Task", columnHeaders: metrics.map(\.id), rows: rows)
        return ReportTable(name: "correlations-per-task-\(fileModule)", data: data,
                           notes: notes("correlations.<metric>.\(module).per_task", cite: cite,
                                        "— : undefined (a constant δ row or fewer than three partners)."),
                           latexHeaders: latexSymbols(metrics))
    }

    /// The layer-mean distance matrix of one metric and module, in task order.
    /// `fileModule` is the module as file names spell it (`StudyAnalysis.fileComponent(ofModule:)`).
    static func distances(_ layered: LayeredDistances, tasks: [String], metric: DistanceMetric, module: String, fileModule: String,
                          cite: Bool = true) -> ReportTable {
        let rows = tasks.enumerated().map { i, task in
            TableData.Row(header: task, cells: (0..<tasks.count).map { j in
                let value = layered.mean[i, j]
                return value.isFinite ? TableData.Cell(NumberFormat.fixed(value, decimals: 4, asciiMinus: true), value: value) : TableData.Cell("—")
            })
        }
        let data = TableData(title: "\(ReportText.metricTitle(metric)) · \(module)",
                             caption: "Mean over \(layered.layerIDs.count) layer\(layered.layerIDs.count == 1 ? "" : "s") "
                                      + "(\(ReportText.unit(metric)))."
                                      + (metric.descriptor.isSymmetric ? "" : " Asymmetric: row = host i, column = partner j."),
                             cornerHeader: metric.descriptor.isSymmetric ? "" : "host / partner", columnHeaders: tasks, rows: rows)
        return ReportTable(name: "distances-\(metric.id)-\(fileModule)", data: data,
                           notes: cite ? "Values: \(LayersSidecar.fileName) → \(LayersSidecar.meanTensor(metric, module))." : nil,
                           csv: MatrixCSV.text(tasks: tasks, matrix: layered.mean))
    }

    /// One row per adapter: what was read (the full list, written to tables/adapters.csv).
    static func adapterRows(_ analysis: StudyAnalysis) -> TableData {
        let rows = analysis.adapters.map { adapter in
            TableData.Row(header: adapter.task, cells: [
                TableData.Cell(adapter.kind),
                TableData.Cell(adapter.modules.map(\.name).joined(separator: ", ")),
                TableData.Cell(distinct(adapter.modules.flatMap(\.ranks).map { "\($0)" })),
                TableData.Cell(distinct(adapter.modules.flatMap(\.alphas).map {
                    NumberFormat.fixed($0, decimals: $0 == $0.rounded() ? 0 : 2, asciiMinus: true)
                })),
                TableData.Cell("\(Set(adapter.modules.flatMap(\.layers)).count)"),
                TableData.Cell(adapter.baseModel ?? "—"),
            ])
        }
        return TableData(title: "Adapters", cornerHeader: "Task",
                         columnHeaders: ["kind", "modules", "rank r", "alpha", "layers", "base model"],
                         rows: rows, columnAlignments: [.leading, .leading, .trailing, .trailing, .trailing, .leading])
    }

    /// One row per distinct configuration (`StudySummaries.configurationGroups`), largest first:
    /// what the report shows; every adapter is in the CSV (tables/adapters.csv).
    static func adapters(_ analysis: StudyAnalysis, cite: Bool = true) -> ReportTable {
        let groups = StudySummaries.configurationGroups(analysis.adapters)
        // One configuration: every adapter is in the row, so the tasks are not listed again.
        let listsTasks = groups.count > 1
        let rows = groups.map { group in
            TableData.Row(header: Wording.count(group.tasks.count, "adapter"), cells: [
                TableData.Cell(group.kind), TableData.Cell(group.modules.replacingOccurrences(of: "+", with: ", ")),
                TableData.Cell(group.ranks), TableData.Cell(group.alphas), TableData.Cell("\(group.layerCount)"),
                TableData.Cell(group.baseModel ?? "—"),
            ] + (listsTasks ? [TableData.Cell(StudySummaries.abbreviated(group.tasks, limit: 4))] : []))
        }
        let alignments: [TableData.Alignment] = [.leading, .leading, .trailing, .trailing, .trailing, .leading] + (listsTasks ? [.leading] : [])
        let data = TableData(title: listsTasks ? "Adapters by configuration" : "Adapters: one configuration",
                             caption: listsTasks ? "One row per distinct configuration (kind, modules, ranks, alphas, layers, base model), "
                                                   + "largest group first; tasks in natural order." : nil,
                             cornerHeader: "Adapters",
                             columnHeaders: ["kind", "modules", "rank r", "alpha", "layers", "base model"] + (listsTasks ? ["tasks"] : []),
                             rows: rows, columnAlignments: alignments)
        return ReportTable(name: "adapters", data: data,
                           notes: notes("adapters", cite: cite, "Every adapter, one per line: tables/adapters.csv."),
                           csv: TableCSV.text(adapterRows(analysis)))
    }

    /// Per metric and module: the cut chosen by silhouette (k, mean silhouette, cluster sizes,
    /// medoids), one row each; nil when no metric has clusters.
    static func clusterSummary(_ findings: StudyFindings, tasks: [String], modules: [String], metrics: [DistanceMetric],
                               cite: Bool = true) -> ReportTable? {
        var rows: [TableData.Row] = []
        for module in modules {
            for metric in metrics {
                guard let clusters = findings.clusters[metric]?[module] else { continue }
                var sizes = [Int](repeating: 0, count: clusters.count)
                for label in clusters.labels where label >= 0 { sizes[label] += 1 }
                let bySize = (0..<clusters.count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
                rows.append(TableData.Row(header: "\(module) · \(metric.id)", cells: [
                    TableData.Cell("\(clusters.count)"),
                    number(clusters.silhouette),
                    TableData.Cell(StudySummaries.abbreviated(bySize.map { "\(sizes[$0])" }, limit: 8)),
                    TableData.Cell(StudySummaries.abbreviated(bySize.compactMap { clusters.medoids[$0] >= 0 ? tasks[clusters.medoids[$0]] : nil },
                                                              limit: 5)),
                ]))
            }
        }
        guard !rows.isEmpty else { return nil }
        let data = TableData(title: "Clusters of the average-linkage tree",
                             caption: "The cut with the highest mean silhouette among k = 2 … min(N − 1, "
                                      + "\(TaskClusters.maximumDefaultCount)); sizes and medoids largest cluster first.",
                             cornerHeader: "Module · metric", columnHeaders: ["k", "silhouette", "sizes", "medoids"], rows: rows,
                             columnAlignments: [.trailing, .trailing, .leading, .leading])
        return ReportTable(name: "clusters", data: data,
                           notes: notes("clusters.<metric>.<module>", cite: cite,
                                        "Members of every cluster: tables/clusters-<metric>-<module>.csv."),
                           latexHeaders: latexSymbols(metrics))
    }

    /// One metric and module's clusters, one row per task (by cluster, then natural order): its
    /// cluster, whether it is the medoid, and its silhouette. Written to tables/ only.
    static func clusterMembers(_ clusters: TaskClusters, distances: PairMatrix, symmetric: Bool, tasks: [String], metric: DistanceMetric,
                               module: String, fileModule: String) -> ReportTable {
        let mean = symmetric ? distances : StudyFindings.symmetrised(distances)
        let rows = mean.rows
        let silhouettes = Silhouette.values(rows.map { $0.map { $0.isFinite ? $0 : 0 } }, labels: clusters.labels)
        let rank = StudySummaries.naturalRanks(tasks)
        let order = tasks.indices.sorted {
            let (a, b) = (clusters.labels[$0] < 0 ? Int.max : clusters.labels[$0], clusters.labels[$1] < 0 ? Int.max : clusters.labels[$1])
            return a != b ? a < b : rank[$0] < rank[$1]
        }
        let medoids = Set(clusters.medoids)
        var records = [["task", "cluster", "is_medoid", "silhouette", "cluster_size"].map(CSVField.text)]
        var sizes = [Int: Int]()
        for label in clusters.labels { sizes[label, default: 0] += 1 }
        let data = TableData(title: "Clusters · \(metric.id) · \(module)", cornerHeader: "Task",
                             columnHeaders: ["cluster", "medoid", "silhouette"],
                             rows: order.map { task in
                                 let label = clusters.labels[task]
                                 records.append([.text(tasks[task]), label >= 0 ? .integer(label + 1) : .empty,
                                                 label >= 0 ? .text(medoids.contains(task) ? "yes" : "no") : .empty,
                                                 silhouettes[task].isFinite ? .number(silhouettes[task]) : .empty,
                                                 label >= 0 ? .integer(sizes[label] ?? 0) : .empty])
                                 return TableData.Row(header: tasks[task], cells: [
                                     TableData.Cell(label >= 0 ? ClusterBands.number(label) : "—"),
                                     TableData.Cell(medoids.contains(task) ? "yes" : ""),
                                     number(silhouettes[task]),
                                 ])
                             })
        return ReportTable(name: "clusters-\(metric.id)-\(fileModule)", data: data, notes: nil, csv: CSVWriter.text(records))
    }

    /// One metric and module's k nearest neighbours of every task (natural order of tasks), read
    /// through ½(D + Dᵀ) for an asymmetric metric. Written to tables/ only.
    static func neighbours(_ distances: PairMatrix, symmetric: Bool, tasks: [String], k: Int, metric: DistanceMetric, module: String,
                           fileModule: String) -> ReportTable {
        let lists = StudySummaries.neighbours(distances, symmetric: symmetric, tasks: tasks, k: k)
        let rank = StudySummaries.naturalRanks(tasks)
        let order = tasks.indices.sorted { rank[$0] < rank[$1] }
        let columns = (1...max(1, k)).flatMap { ["neighbour_\($0)", "distance_\($0)"] }
        var records = [(["task"] + columns).map(CSVField.text)]
        let rows = order.map { task -> TableData.Row in
            let list = lists[task]
            var fields: [CSVField] = [.text(tasks[task])]
            var cells: [TableData.Cell] = []
            for position in 0..<max(1, k) {
                if position < list.count {
                    fields += [.text(tasks[list[position].task]), .number(list[position].distance)]
                    cells += [TableData.Cell(tasks[list[position].task]),
                              TableData.Cell(NumberFormat.fixed(list[position].distance, decimals: 4, asciiMinus: true),
                                             value: list[position].distance)]
                } else {
                    fields += [.empty, .empty]
                    cells += [TableData.Cell("—"), TableData.Cell("—")]
                }
            }
            records.append(fields)
            return TableData.Row(header: tasks[task], cells: cells)
        }
        let data = TableData(title: "Nearest neighbours · \(metric.id) · \(module)",
                             caption: symmetric ? nil : "Asymmetric metric: read through ½(D + Dᵀ), as the maps.",
                             cornerHeader: "Task", columnHeaders: columns, rows: rows)
        return ReportTable(name: "neighbours-\(metric.id)-\(fileModule)", data: data, notes: nil, csv: CSVWriter.text(records))
    }

    /// Pairs of near-duplicate adapters (`StudySummaries.nearDuplicates`): the first `shown` in the
    /// report, all of them in tables/near-duplicates.csv.
    static func nearDuplicates(_ pairs: [StudySummaries.NearDuplicate], tasks: [String], modules: [String], shown: Int = 30) -> ReportTable {
        var records = [(["task_a", "task_b"] + modules.map { "cosine_\($0)" } + modules.map { "l2_\($0)" }).map(CSVField.text)]
        for pair in pairs {
            records.append([.text(tasks[pair.a]), .text(tasks[pair.b])] + (pair.cosine + pair.l2).map { $0.isFinite ? .number($0) : .empty })
        }
        let rows = pairs.prefix(shown).map { pair in
            TableData.Row(header: "\(tasks[pair.a]) · \(tasks[pair.b])", cells: (pair.cosine + pair.l2).map { value in
                value.isFinite ? TableData.Cell(NumberFormat.scientific(value, decimals: 1), value: value) : TableData.Cell("—")
            })
        }
        let more = pairs.count > shown ? " The first \(shown) of \(pairs.count) pairs; all in tables/near-duplicates.csv." : ""
        let data = TableData(title: "Near-duplicate adapters",
                             caption: "Pairs whose layer-mean cosine distance is below "
                                      + "\(NumberFormat.scientific(StudySummaries.nearDuplicateCosine, decimals: 0)) in every module." + more,
                             cornerHeader: "Pair", columnHeaders: modules.map { "cosine · \($0)" } + modules.map { "l2 · \($0)" },
                             rows: Array(rows))
        return ReportTable(name: "near-duplicates", data: data, notes: nil, csv: CSVWriter.text(records))
    }

    static func fixed(_ value: Double) -> String { NumberFormat.fixed(value, decimals: 2, asciiMinus: true) }

    static func number(_ value: Double?) -> TableData.Cell {
        guard let value, value.isFinite else { return TableData.Cell("—") }
        return TableData.Cell(fixed(value), value: value)
    }

    static func pValue(_ p: Double?) -> TableData.Cell {
        guard let p, p.isFinite else { return TableData.Cell("—") }
        return TableData.Cell(pText(p), value: p)
    }

    /// Three significant digits, or "< 0.001".
    static func pText(_ p: Double) -> String {
        p < 0.001 ? "< 0.001" : NumberFormat.fixed(p, decimals: 3, asciiMinus: true)
    }

    /// "8" for one value, "4, 8" for several (in first-seen order).
    static func distinct(_ values: [String]) -> String {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? "—" : seen.joined(separator: ", ")
    }
}
