import AnalysisCore
import CSVText
import Foundation
import JSONText

/// `metrics.json` of a study of both kinds (schema `tvgeo.kinds/2`, docs/metrics-schema.md): each
/// kind's whole `tvgeo.metrics/3` document under `kinds` (its matrices in `<kind>/layers.safetensors`), then `kind_scores`, `crosskind` and
/// `intruders`. Undefined values are `null`.
public enum KindComparisonDocument {
    public static let schema = "tvgeo.kinds/2"
    /// The schema of the same document with each kind's matrices inline (`tvgeo export --json-layers`).
    public static let inlineSchema = "tvgeo.kinds/1"

    /// Each kind's sidecar (`fft/layers.safetensors`, `lora/layers.safetensors`), which its
    /// document under `kinds` records.
    public static func sidecars(_ comparison: KindComparison) -> (fft: LayersSidecar.Sidecar, lora: LayersSidecar.Sidecar) {
        (LayersSidecar.make(for: comparison.fft, path: "fft/" + LayersSidecar.fileName),
         LayersSidecar.make(for: comparison.lora, path: "lora/" + LayersSidecar.fileName))
    }

    public static func json(_ comparison: KindComparison, tool: ToolInfo,
                            sidecars: (fft: LayersSidecar.Record, lora: LayersSidecar.Record)) -> JSONValue {
        let cross = comparison.crossKind
        func layers(_ values: [Double]) -> JSONValue {
            .object([("layers", .array(values.map(JSONValue.number))), ("mean", .number(CrossKindAnalysis.mean(values)))])
        }
        let cosine: [(String, JSONValue)] = cross.modules.map { module in
            let perLayer = cross.cosine[module] ?? []
            let mean = cross.cosineMean(module)
            return (module, .object([
                ("layer_ids", .array((cross.layerIDs[module] ?? []).map(JSONValue.int))),
                ("per_task", .object(cross.tasks.enumerated().map { index, task in (task, layers(perLayer.map { $0[index][index] })) })),
                ("matrix", .array(mean.map { .array($0.map(JSONValue.number)) })),
                ("matching", .number(cross.matching(module))),
            ]))
        }
        let grassmann: [(String, JSONValue)] = cross.modules.map { module in
            (module, .object([
                ("layer_ids", .array((cross.layerIDs[module] ?? []).map(JSONValue.int))),
                ("per_task", .object(cross.tasks.enumerated().map { index, task in (task, layers(cross.grassmann[module]?[index] ?? [])) })),
            ]))
        }
        let agreement: [(String, JSONValue)] = cross.modules.map { module in
            let result = cross.agreement[module] ?? nil
            return (module, .object([("spearman", result.map { .number($0.spearman) } ?? .null),
                                     ("mantel_p", result.map { .number($0.p) } ?? .null),
                                     ("permutations", result.map { .int($0.permutations) } ?? .null)]))
        }
        func intruders(_ kind: FineTuningKind) -> JSONValue {
            .object(cross.modules.map { module in
                (module, .object(cross.tasks.enumerated().map { index, task in
                    (task, .array((cross.intruders[kind]?[module]?[index] ?? []).map(JSONValue.int)))
                }))
            })
        }
        return .object([
            ("schema", .string(schema)),
            ("tool", tool.json),
            ("tasks", .array(cross.tasks.map(JSONValue.string))),
            ("kinds", .object([
                ("fft", MetricsDocument.json(comparison.fft, findings: comparison.fftFindings, tool: tool, layers: sidecars.fft)),
                ("lora", MetricsDocument.json(comparison.lora, findings: comparison.loraFindings, tool: tool, layers: sidecars.lora)),
            ])),
            ("kind_scores", .object(comparison.kindScores.map { row in
                (row.task, .object([("fft", row.fft.map(JSONValue.number) ?? .null), ("lora", row.lora.map(JSONValue.number) ?? .null)]))
            })),
            ("crosskind", .object([
                ("tasks", .array(cross.tasks.map(JSONValue.string))),
                ("cosine", .object(cosine)),
                ("grassmann", .object(grassmann)),
                ("agreement", .object([("cosine", .object(agreement))])),
            ])),
            ("intruders", .object([
                ("k", .int(cross.intruderK)), ("epsilon", .number(cross.intruderEpsilon)),
                ("lora", intruders(.lora)), ("fft", intruders(.full)),
            ])),
        ])
    }
}

/// The files of a study of both kinds: `metrics.json` (both kinds and the cross-kind blocks), each
/// kind's distance CSVs under `fft/` and `lora/`, and the cross-kind tables.
public enum KindComparisonFiles {
    public static func files(for comparison: KindComparison, tool: ToolInfo = ToolInfo()) -> [OutputFile] {
        let sidecars = KindComparisonDocument.sidecars(comparison)
        var files = [OutputFile("metrics.json", text: JSONWriter.stringInParallel(
                        KindComparisonDocument.json(comparison, tool: tool, sidecars: (sidecars.fft.record, sidecars.lora.record)))),
                     sidecars.fft.file, sidecars.lora.file]
        for (folder, analysis, findings) in [("fft", comparison.fft, comparison.fftFindings), ("lora", comparison.lora, comparison.loraFindings)] {
            for file in AnalysisFiles.csvFiles(for: analysis, findings: findings) {
                files.append(OutputFile("\(folder)/\(file.path)", file.contents))
            }
        }
        files.append(OutputFile("kind-scores.csv", text: kindScoresCSV(comparison)))
        let cross = comparison.crossKind
        let components = OutputNaming.components(cross.modules)
        for module in cross.modules {
            let component = components[module] ?? OutputNaming.component(module)
            files.append(OutputFile("crosskind-cosine-\(component).csv", text: crossMatrixCSV(cross, module: module)))
        }
        files.append(OutputFile("crosskind-layers.csv", text: layersCSV(cross)))
        return files
    }

    /// The poster's table: task, f-FT score, LoRA score, difference (LoRA − f-FT), mean of the two;
    /// a last row "mean over tasks" averages each column over the tasks where it is defined.
    public static func kindScoresCSV(_ comparison: KindComparison) -> String {
        var records: [[CSVField]] = [[.text("task"), .text("fft"), .text("lora"), .text("difference"), .text("mean")]]
        for row in comparison.kindScoreRows() {
            records.append([.text(row.label)] + row.values.map { $0.map(CSVField.number) ?? .empty })
        }
        return CSVWriter.text(records)
    }

    /// The layer-mean cross-kind cosine distances: a header `lora \ fft,<task>…`, one row per LoRA task.
    static func crossMatrixCSV(_ cross: CrossKindAnalysis, module: String) -> String {
        var records = [[CSVField.text("lora \\ fft")] + cross.tasks.map(CSVField.text)]
        for (index, row) in cross.cosineMean(module).enumerated() {
            records.append([.text(cross.tasks[index])] + row.map { $0.isNaN ? .empty : .number($0) })
        }
        return CSVWriter.text(records)
    }

    /// One row per module, task and layer: same-task cosine and Grassmann distances, intruders of both kinds.
    static func layersCSV(_ cross: CrossKindAnalysis) -> String {
        var records: [[CSVField]] = [["module", "task", "layer", "cosine", "grassmann", "intruders_lora", "intruders_fft"].map(CSVField.text)]
        for module in cross.modules {
            for (index, task) in cross.tasks.enumerated() {
                for (position, layer) in (cross.layerIDs[module] ?? []).enumerated() {
                    let cosine = cross.cosine[module]![position][index][index], grassmann = cross.grassmann[module]![index][position]
                    records.append([.text(module), .text(task), .integer(layer), cosine.isNaN ? .empty : .number(cosine),
                                    grassmann.isNaN ? .empty : .number(grassmann),
                                    .integer(cross.intruders[.lora]![module]![index][position]),
                                    .integer(cross.intruders[.full]![module]![index][position])])
                }
            }
        }
        return CSVWriter.text(records)
    }
}

extension KindComparison {
    /// The poster's table as rows: per task (f-FT, LoRA, LoRA − f-FT, their mean), then "mean over
    /// tasks" (each column averaged over the tasks where it is defined; nil where none is).
    public func kindScoreRows() -> [(label: String, values: [Double?])] {
        var rows: [(label: String, values: [Double?])] = kindScores.map { row in
            let both = row.fft.flatMap { f in row.lora.map { (f, $0) } }
            return (row.task, [row.fft, row.lora, both.map { $0.1 - $0.0 }, both.map { ($0.0 + $0.1) / 2 }])
        }
        let columns = (0..<4).map { column in rows.compactMap { $0.values[column] } }
        rows.append(("mean over tasks", columns.map { $0.isEmpty ? nil : $0.reduce(0, +) / Double($0.count) }))
        return rows
    }
}

/// The console view of a study of both kinds: the poster's score table, then per module the
/// same-task cosine and Grassmann layer means, matching, agreement and intruder totals.
public enum KindComparisonSummary {
    public static func text(_ comparison: KindComparison) -> String {
        let cross = comparison.crossKind
        func number(_ value: Double?, _ format: String = "%.4g") -> String {
            guard let value, !value.isNaN else { return "—" }
            return String(format: format, value)
        }
        var lines = ["tasks of both kinds: \(cross.tasks.joined(separator: ", "))", "",
                     "task".padding(toLength: 16, withPad: " ", startingAt: 0) + "f-FT      LoRA      diff      mean"]
        for row in comparison.kindScoreRows() {
            let cells = row.values.map { number($0, "%.2f") }
            lines.append(String(row.label.prefix(15)).padding(toLength: 16, withPad: " ", startingAt: 0)
                         + cells.map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined())
        }
        for module in cross.modules {
            let agreement = cross.agreement[module] ?? nil
            lines.append("")
            lines.append("\(module): matching \(number(cross.matching(module), "%.2f")), agreement ρ \(number(agreement?.spearman, "%.3f")) "
                         + "(Mantel p \(number(agreement?.p, "%.3g")))")
            for (index, task) in cross.tasks.enumerated() {
                let cosine = CrossKindAnalysis.mean((cross.cosine[module] ?? []).map { $0[index][index] })
                let grassmann = CrossKindAnalysis.mean(cross.grassmann[module]?[index] ?? [])
                let loraIntruders = cross.intruders[.lora]?[module]?[index].reduce(0, +) ?? 0
                let fftIntruders = cross.intruders[.full]?[module]?[index].reduce(0, +) ?? 0
                lines.append("  \(task): cosine \(number(cosine)), grassmann \(number(grassmann)), "
                             + "intruders LoRA \(loraIntruders), f-FT \(fftIntruders) (over layers)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
