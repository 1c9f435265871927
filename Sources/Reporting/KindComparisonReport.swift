import AnalysisCore
import Charts
import Diagnostics
import Study
import StudyFigures

/// The report of a study of both kinds: the poster's score table, the cross-kind geometry and the
/// intruder dimensions first, then each kind's own report (as `ReportBuilder` makes it alone), its
/// sections, figures and tables labelled and prefixed (`fft-`, `lora-`), and one provenance.
public enum KindComparisonReport {
    public static func build(name: String, comparison: KindComparison, settings: ReportSettings,
                             provenance: Provenance) -> ReportDocument {
        let cross = comparison.crossKind
        // Each kind's captions would point into its own metrics.json; here both sit under "kinds".
        var kindSettings = settings
        kindSettings.citesMetricsFile = false
        kindSettings.displayNames = nil
        let kinds: [(FineTuningKind, String, ReportDocument)] = [
            (.full, "Full fine-tuning", ReportBuilder.build(name: name, analysis: comparison.fft, findings: comparison.fftFindings,
                                                             settings: kindSettings, provenance: provenance)),
            (.lora, "LoRA", ReportBuilder.build(name: name, analysis: comparison.lora, findings: comparison.loraFindings,
                                                settings: kindSettings, provenance: provenance)),
        ]
        let modules = settings.modules.map { wanted in cross.modules.filter(wanted.contains) } ?? cross.modules
        let narrow = settings.figureWidth >= 2 * FigureWidth.singleColumn ? FigureWidth.singleColumn : settings.figureWidth
        var document = ReportDocument(
            title: settings.title ?? "LoRA and full fine-tuning: \(name)",
            subtitle: "\(Wording.count(cross.tasks.count, "task")) of both kinds · \(modules.joined(separator: ", ")) · "
                + "tvgeo \(provenance.toolVersion)",
            summary: summary(comparison, modules: modules), sections: [], figures: [], tables: [], provenance: provenance)
        func add(_ name: String, _ scene: Scene?, _ caption: String) -> String? {
            guard let scene else { return nil }
            document.figures.append(ReportFigure(name: name, scene: scene, caption: caption))
            return name
        }
        func add(_ table: ReportTable) -> String {
            document.tables.append(table)
            return table.name
        }
        let cite = settings.citesMetricsFile
        func source(_ path: String) -> String { cite ? " (metrics.json → \(path))" : "" }

        document.sections.append(ReportSection(id: "summary", title: "Summary", blocks: [
            .bullets(document.summary), .table(add(scoresTable(comparison, cite: cite))),
        ], startsPage: false))

        var crossBlocks: [ReportBlock] = [
            .paragraph("LoRA's update ΔW_t = s·B·A against full fine-tuning's τ_t = W_t − W₀ of the same layer: the cosine distance "
                       + "1 − ⟨ΔW_i, τ_j⟩ / (‖ΔW_i‖ ‖τ_j‖) for every LoRA task i and f-FT task j (computed as s·tr(Bᵀ τ Aᵀ), no d × d "
                       + "product), and the Grassmann distance between Im(ΔW_t) and the span of τ_t's top-r left singular vectors "
                       + "(r = the LoRA rank). Matching is the share of LoRA tasks whose nearest f-FT update (layer-mean cosine) is their "
                       + "own task; agreement is Spearman's ρ between the two kinds' own task maps (upper triangles of their layer-mean "
                       + "cosine distances) with a one-sided Mantel permutation p-value."),
            .table(add(agreementTable(cross, modules: modules, cite: cite))),
        ]
        for module in modules {
            let component = OutputNaming.component(module)
            var names = [add(FigureName.crossKind(.heatmap, .cosine, module: component),
                             CrossKindFigures.cosineHeatmap(cross, module: module, width: settings.figureWidth),
                             "Layer-mean cosine distance between each LoRA update (rows) and each full fine-tuning update (columns) "
                                 + "in \(module)\(source("crosskind.cosine.\(module).matrix")); the diagonal pairs the same task.")]
            for metric in [DistanceMetric.cosine, .grassmann] {
                names.append(add(FigureName.crossKind(.profile, metric, module: component),
                                 CrossKindFigures.sameTaskProfile(cross, metric: metric, module: module, width: narrow),
                                 "The \(metric.id) distance between LoRA and full fine-tuning of the same task at each layer of \(module)"
                                     + "\(source("crosskind.\(metric.id).\(module).per_task"))."))
            }
            crossBlocks += [.subheading(module), .figures(names.compactMap { $0 }), .table(add(sameTaskTable(cross, module: module, cite: cite)))]
        }
        document.sections.append(ReportSection(id: "crosskind", title: "LoRA against full fine-tuning", blocks: crossBlocks))

        var intruderBlocks: [ReportBlock] = [
            .paragraph("Intruder dimensions (Shuttleworth et al., 2024): a left singular vector of the fine-tuned W_t = W₀ + ΔW among "
                       + "its top \(cross.intruderK) is an intruder when its largest |cos| with every left singular vector of W₀ is "
                       + "below ε = \(cross.intruderEpsilon). One SVD of each W₀ block serves every task and both kinds."),
        ]
        for module in modules {
            let figure = add(FigureName.intruders(module: module), CrossKindFigures.intruders(cross, module: module, width: settings.figureWidth),
                             "Intruder dimensions per layer in \(module), LoRA and full fine-tuning of every task"
                                 + "\(source("intruders.<kind>.\(module)")).")
            intruderBlocks += [.subheading(module)] + (figure.map { [ReportBlock.figures([$0])] } ?? [])
            intruderBlocks.append(.table(add(intruderTable(cross, module: module, cite: cite))))
        }
        document.sections.append(ReportSection(id: "intruders", title: "Intruder dimensions", blocks: intruderBlocks))

        for (kind, label, kindDocument) in kinds {
            func prefixed(_ name: String) -> String { FigureName.ofKind(kind, name) }
            for section in kindDocument.sections where section.id != "provenance" {
                let blocks = section.blocks.map { block -> ReportBlock in
                    switch block {
                    case .figures(let names): return .figures(names.map(prefixed))
                    case .table(let name): return .table(prefixed(name))
                    default: return block
                    }
                }
                document.sections.append(ReportSection(id: prefixed(section.id), title: "\(label) · \(section.title)", blocks: blocks,
                                                       startsPage: section.id == "summary" || section.startsPage))
            }
            document.figures += kindDocument.figures.map { figure in
                var figure = figure
                figure.name = prefixed(figure.name)
                return figure
            }
            document.tables += kindDocument.tables.filter { $0.name != "inputs" }.map { table in
                var table = table
                table.name = prefixed(table.name)
                return table
            }
        }
        document.sections.append(ReportBuilder.provenanceSection(provenance, add: add))
        return document
    }

    /// Headline sentences: scores, matching and agreement, intruder totals.
    static func summary(_ comparison: KindComparison, modules: [String]) -> [String] {
        let cross = comparison.crossKind
        var lines: [String] = []
        if let mean = comparison.kindScoreRows().last, let difference = mean.values[2] {
            lines.append("LoRA − full fine-tuning score: \(ReportTables.fixed(difference)) on average over the tasks with both scores.")
        } else {
            lines.append("No score of both kinds was given (--scores for the full fine-tunes, --lora-scores for the adapters).")
        }
        for module in modules {
            let matched = cross.matching(module)
            var line = "\(module): LoRA's nearest full fine-tuning update is its own task for "
                + (matched.isNaN ? "— of the tasks" : "\(Int((matched * Double(cross.tasks.count)).rounded())) of \(cross.tasks.count) tasks")
            if let agreement = cross.agreement[module] ?? nil {
                line += "; the two kinds' task maps agree with Spearman ρ \(ReportTables.fixed(agreement.spearman)) "
                    + "(Mantel p \(ReportTables.pText(agreement.p)), \(agreement.permutations) permutations)"
            }
            let lora = cross.intruders[.lora]?[module]?.flatMap { $0 }.reduce(0, +) ?? 0
            let fft = cross.intruders[.full]?[module]?.flatMap { $0 }.reduce(0, +) ?? 0
            lines.append(line + "; intruder dimensions over all layers and tasks: LoRA \(lora), full fine-tuning \(fft).")
        }
        return lines
    }

    /// The poster's table: per task the two kinds' scores, their difference and mean; then the mean over tasks.
    static func scoresTable(_ comparison: KindComparison, cite: Bool) -> ReportTable {
        let rows = comparison.kindScoreRows().map { row in
            TableData.Row(header: row.label, cells: row.values.map(ReportTables.number))
        }
        let data = TableData(title: "Scores: full fine-tuning and LoRA",
                             caption: "Single-task scores from the two score files; difference = LoRA − f-FT; mean of the two kinds.",
                             cornerHeader: "Task", columnHeaders: ["f-FT", "LoRA", "difference", "mean"], rows: rows)
        return ReportTable(name: "kind-scores", data: data, notes: ReportTables.notes("kind_scores", cite: cite, "— : no score."),
                           csv: KindComparisonFiles.kindScoresCSV(comparison))
    }

    static func agreementTable(_ cross: CrossKindAnalysis, modules: [String], cite: Bool) -> ReportTable {
        let rows = modules.map { module -> TableData.Row in
            let agreement = cross.agreement[module] ?? nil
            return TableData.Row(header: module, cells: [ReportTables.number(cross.matching(module)), ReportTables.number(agreement?.spearman),
                                                         ReportTables.pValue(agreement?.p),
                                                         TableData.Cell(agreement.map { "\($0.permutations)" } ?? "—")])
        }
        let data = TableData(title: "Matching and agreement of the two kinds", cornerHeader: "Module",
                             columnHeaders: ["matching", "Spearman ρ", "Mantel p", "permutations"], rows: rows)
        return ReportTable(name: "crosskind-agreement", data: data,
                           notes: ReportTables.notes("crosskind.cosine.<module>.matching, crosskind.agreement.cosine", cite: cite))
    }

    /// Per task: the same-task cosine and Grassmann layer means and the nearest f-FT task.
    static func sameTaskTable(_ cross: CrossKindAnalysis, module: String, cite: Bool) -> ReportTable {
        let mean = cross.cosineMean(module)
        let rows = cross.tasks.enumerated().map { index, task -> TableData.Row in
            let row = mean[index]
            let nearest = row.indices.filter { !row[$0].isNaN }.min { row[$0] < row[$1] }
            return TableData.Row(header: task, cells: [
                ReportTables.number(mean[index][index]), ReportTables.number(CrossKindAnalysis.mean(cross.grassmann[module]?[index] ?? [])),
                TableData.Cell(nearest.map { cross.tasks[$0] } ?? "—"),
            ])
        }
        let data = TableData(title: "Same task, LoRA against full fine-tuning · \(module)", cornerHeader: "Task",
                             columnHeaders: ["cosine", "Grassmann (rad)", "nearest f-FT task"], rows: rows)
        return ReportTable(name: "crosskind-\(OutputNaming.component(module))", data: data,
                           notes: ReportTables.notes("crosskind.<metric>.\(module).per_task.<task>.mean", cite: cite))
    }

    static func intruderTable(_ cross: CrossKindAnalysis, module: String, cite: Bool) -> ReportTable {
        let layerIDs = cross.layerIDs[module] ?? []
        var rows: [TableData.Row] = []
        for (kind, label) in [(FineTuningKind.lora, "LoRA"), (.full, "f-FT")] {
            for (index, task) in cross.tasks.enumerated() {
                let counts = cross.intruders[kind]?[module]?[index] ?? []
                rows.append(TableData.Row(header: "\(label) \(task)",
                                          cells: counts.map { TableData.Cell("\($0)", value: Double($0)) }
                                              + [TableData.Cell("\(counts.reduce(0, +))", emphasis: .bold)]))
            }
        }
        let data = TableData(title: "Intruder dimensions per layer · \(module)", cornerHeader: "Kind, task",
                             columnHeaders: layerIDs.map { "layer \($0)" } + ["total"], rows: rows)
        return ReportTable(name: FigureName.intruders(module: module), data: data,
                           notes: ReportTables.notes("intruders.<kind>.\(module)", cite: cite,
                                                     "k = \(cross.intruderK), ε = \(cross.intruderEpsilon)."))
    }
}
