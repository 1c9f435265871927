import AnalysisCore
import Foundation
import JSONText

/// The files `tvgeo analyze` writes, as (relative path, contents): one table, several writers.
public enum AnalysisFiles {
    public static func files(for analysis: StudyAnalysis, findings: StudyFindings? = nil, tool: ToolInfo = ToolInfo()) -> [OutputFile] {
        let sidecar = LayersSidecar.make(for: analysis)
        let files = [OutputFile("metrics.json", text: JSONWriter.stringInParallel(MetricsDocument.json(analysis, findings: findings, tool: tool,
                                                                                                       layers: sidecar.record))),
                     sidecar.file]
        return files + csvFiles(for: analysis, findings: findings)
    }

    /// The tables alone: `distances-<metric>-<module>.csv` (the layer means) and, with a
    /// prediction, `merge-predictions.csv`.
    public static func csvFiles(for analysis: StudyAnalysis, findings: StudyFindings? = nil) -> [OutputFile] {
        var files: [OutputFile] = []
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                files.append(OutputFile("distances-\(metric.id)-\(analysis.fileComponent(ofModule: module)).csv",
                                        text: MatrixCSV.text(tasks: analysis.tasks, matrix: layered.mean)))
            }
        }
        if findings?.prediction != nil, let findings {
            files.append(OutputFile("merge-predictions.csv", text: MergePredictionsCSV.text(findings, tasks: analysis.tasks)))
        }
        return files
    }
}

/// The console view of an analysis: per metric and module, the layer-mean matrix.
public enum AnalysisSummary {
    public static func text(_ analysis: StudyAnalysis) -> String {
        var lines: [String] = []
        lines.append("tasks: \(analysis.tasks.joined(separator: ", "))")
        lines.append("modules: \(analysis.modules.joined(separator: ", "))")
        let width = max(8, (analysis.tasks.map(\.count).max() ?? 0) + 1)
        func pad(_ text: String) -> String {
            text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
        }
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                lines.append("")
                lines.append("\(metric.id) · \(module) · mean over layers \(layered.layerIDs.map(String.init).joined(separator: ","))")
                lines.append(pad("") + analysis.tasks.map(pad).joined())
                for (index, row) in layered.mean.rows.enumerated() {
                    lines.append(pad(analysis.tasks[index]) + row.map { pad($0.isNaN ? "—" : String(format: "%.4g", $0)) }.joined())
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The poster's table: rows are the analysed modules, columns `metrics` (in the order given;
    /// `report --metrics` passes its choice, `analyze` all), cells Spearman "mean (std)" over
    /// tasks, the best (largest mean) of each row among these columns marked with *. Nil without
    /// scores (no δ) or without a metric.
    public static func correlationTable(_ analysis: StudyAnalysis, findings: StudyFindings,
                                        metrics: [DistanceMetric] = DistanceMetric.allCases) -> String? {
        guard findings.delta != nil, !metrics.isEmpty else { return nil }
        let width = 15
        func pad(_ text: String) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        var lines = ["", "Spearman ρ between δ(i,j) and the layer-mean distance, mean (std) over tasks; * best per module",
                     pad("module") + metrics.map { pad($0.id) }.joined()]
        for module in analysis.modules {
            let summaries = metrics.map { findings.correlations[$0]?[module]?[.spearman] }
            let best = summaries.compactMap { $0?.mean }.max()
            let cells = summaries.map { summary -> String in
                guard let summary, let mean = summary.mean, let std = summary.std else { return pad("—") }
                return pad(String(format: "%.2f (%.2f)%@", mean, std, mean == best ? "*" : ""))
            }
            lines.append(pad(module) + cells.joined())
        }
        lines += predictorLines(analysis, findings: findings, metrics: metrics)
        return lines.joined(separator: "\n")
    }

    /// The best predictor in sample (the largest mean ρ of the table above) and out of sample (the
    /// leave-one-task-out ridge and the select-best baseline, with the feature it chose most often).
    static func predictorLines(_ analysis: StudyAnalysis, findings: StudyFindings, metrics: [DistanceMetric]) -> [String] {
        var lines: [String] = []
        let inSample = analysis.modules.flatMap { module in
            metrics.compactMap { metric in findings.correlations[metric]?[module]?[.spearman]?.mean.map { (metric, module, $0) } }
        }.max { $0.2 < $1.2 }
        if let (metric, module, mean) = inSample {
            lines.append(String(format: "best predictor in sample: %@/%@, mean Spearman ρ %.2f over tasks", metric.id, module, mean))
        }
        guard let prediction = findings.prediction else { return lines }
        let ridge = prediction.mean.map { String(format: "%.2f (%.2f)", $0, prediction.std ?? 0) } ?? "undefined"
        var counts: [String: Int] = [:]
        for choice in prediction.selectBest.compactMap({ $0 }) { counts[choice.feature, default: 0] += 1 }
        let chosen = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        let single = prediction.selectBestMean.map { String(format: "%.2f (%.2f)", $0, prediction.selectBestStd ?? 0) } ?? "undefined"
        let chosenCount = prediction.selectBest.compactMap { $0 }.count
        let most = chosen.map { ", most often \($0.key) (\($0.value) of \(chosenCount))" } ?? ""
        lines.append("best predictor out of sample (leave one task out, Spearman ρ mean (std) over held-out tasks): "
                     + "ridge on \(prediction.features.count) layer-mean distances \(ridge); best single distance chosen on the "
                     + "training tasks \(single)\(most)")
        // The best layer is chosen among every metric; shown when it is one of the table's.
        if let best = analysis.modules.compactMap({ findings.bestLayer[$0] }).max(by: { $0.mean < $1.mean }), metrics.contains(best.metric) {
            let module = analysis.modules.first { findings.bestLayer[$0] == best } ?? ""
            lines.append(String(format: "best single layer: %@/%@ layer %d, mean ρ %.2f (Holm-adjusted p %.3g over %d tests)",
                                best.metric.id, module, best.layer, best.mean, best.holmP, best.tests))
        }
        return lines
    }
}
