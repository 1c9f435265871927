import AnalysisCore
import Charts
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
                           notes: notes("distances.\(metric.id).\(module).mean", cite: cite),
                           csv: MatrixCSV.text(tasks: tasks, matrix: layered.mean))
    }

    /// One row per adapter: what was read.
    static func adapters(_ analysis: StudyAnalysis, cite: Bool = true) -> ReportTable {
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
        let data = TableData(title: "Adapters", cornerHeader: "Task",
                             columnHeaders: ["kind", "modules", "rank r", "alpha", "layers", "base model"],
                             rows: rows, columnAlignments: [.leading, .leading, .trailing, .trailing, .trailing, .leading])
        return ReportTable(name: "adapters", data: data, notes: notes("adapters", cite: cite))
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
