import AnalysisCore
import Charts
import Diagnostics
import Study

/// What the report shows: a subset of metrics and modules, its title and figure widths.
public struct ReportSettings: Sendable {
    public var title: String?
    /// Metrics shown (all by default), in the canonical order.
    public var metrics: [DistanceMetric]
    /// Modules shown; nil shows every analysed module.
    public var modules: [String]?
    /// Width of the wide figures in points (heatmaps, profiles); maps take a single column.
    public var figureWidth: Double
    /// Whether metrics.json is written beside the report: captions and table notes point into it
    /// only then.
    public var citesMetricsFile = true
    /// The look of every figure, the HTML page's font and the PDF pages' font.
    public var style = FigureStyle.default
    /// Each task's display name, in the analysis's task order (`ReportRequest.displayNames`); nil
    /// shows the task names. Figures, tables, the HTML page and the PDF show these; file names and
    /// metrics.json keep the task names.
    public var displayNames: [String]?
    /// k of the nearest-neighbour tables (tables/neighbours-<metric>-<module>.csv), ≥ 1.
    public var neighbourCount = StudySummaries.defaultNeighbourCount

    public init(title: String? = nil, metrics: [DistanceMetric] = DistanceMetric.allCases, modules: [String]? = nil,
                figureWidth: Double = FigureWidth.doubleColumn) {
        self.title = title
        self.metrics = metrics
        self.modules = modules
        self.figureWidth = figureWidth
    }
}

/// Builds the report document from the study's numbers. Pure: no file access, no clock.
public enum ReportBuilder {
    public static func build(name: String, analysis studied: StudyAnalysis, findings: StudyFindings,
                             settings: ReportSettings, provenance: Provenance) -> ReportDocument {
        // The document shows display names: the analysis it reads has its tasks renamed (a copy;
        // metrics.json is written from the caller's analysis and keeps the task names).
        let analysis = settings.displayNames.map { studied.showing(taskNames: $0) } ?? studied
        let modules = settings.modules.map { wanted in analysis.modules.filter(wanted.contains) } ?? analysis.modules
        // The metrics that apply to this kind of fine-tuning (their descriptors say which), as
        // requested. One that applies is never silently dropped: the study's kernels fill it.
        let metrics = DistanceMetric.applying(to: analysis.kind).filter(settings.metrics.contains)
        let narrow = settings.figureWidth >= 2 * FigureWidth.singleColumn ? FigureWidth.singleColumn : settings.figureWidth
        let cite = settings.citesMetricsFile
        let figures = ReportFigures(analysis: analysis, findings: findings, wideWidth: settings.figureWidth, narrowWidth: narrow,
                                    citesMetricsFile: cite, style: settings.style)
        var document = ReportDocument(
            title: settings.title ?? "Task-vector geometry of \(name)",
            subtitle: "\(Wording.count(analysis.tasks.count, "task")) · \(modules.joined(separator: ", ")) · tvgeo \(provenance.toolVersion)",
            summary: summary(analysis, findings, modules: modules, metrics: metrics),
            sections: [], figures: [], tables: [], provenance: provenance)
        document.style = settings.style

        func add(_ figure: ReportFigure?) -> String? {
            guard let figure else { return nil }
            document.figures.append(figure)
            return figure.name
        }
        func add(_ table: ReportTable) -> String {
            document.tables.append(table)
            return table.name
        }

        // Summary, with the poster's table when there are scores.
        var summaryBlocks: [ReportBlock] = [.bullets(document.summary)]
        if findings.delta != nil {
            summaryBlocks.append(.table(add(ReportTables.correlations(findings, tasks: analysis.tasks, modules: modules, metrics: metrics,
                                                                      cite: cite))))
        }
        document.sections.append(ReportSection(id: "summary", title: "Summary", blocks: summaryBlocks, startsPage: false))

        // Inputs.
        var inputs: [ReportBlock] = [
            .keyValues(inputFacts(analysis, findings, modules: modules, taskNames: studied.tasks)),
            .table(add(ReportTables.adapters(analysis, cite: cite))),
        ]
        let warnings = (analysis.warnings + findings.warnings).map(\.text)
        if !warnings.isEmpty { inputs += [.subheading("Warnings"), .bullets(warnings)] }
        let ignored = ignoredTensorLines(analysis.adapters)
        if !ignored.isEmpty { inputs += [.subheading("Ignored tensors (not LoRA factors)"), .bullets(ignored)] }
        document.sections.append(ReportSection(id: "inputs", title: "Inputs", blocks: inputs))

        // One section per metric: per module the heatmap, the two maps and the layer profile.
        for metric in metrics {
            var blocks: [ReportBlock] = [.definitions([ReportText.definition(metric)])]
            for module in modules {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                // Undefined for every pair (e.g. every adapter untrained): said, not drawn empty.
                if !Self.hasDefinedPair(layered.mean) {
                    blocks.append(.subheading(module))
                    blocks.append(.paragraph("Undefined for every pair of tasks in \(module): it is undefined when "
                                             + "\(metric.descriptor.undefinedWhen) (see the warnings under Inputs)."))
                    continue
                }
                guard let heatmap = add(figures.heatmap(metric, module)) else { continue }
                blocks.append(.subheading(module))
                blocks.append(.figures([heatmap]))
                let maps = [add(figures.pcaMap(metric, module)), add(figures.mdsMap(metric, module))].compactMap { $0 }
                if !maps.isEmpty { blocks.append(.figures(maps)) }
                if let profile = add(figures.layerProfile(metric, module)) { blocks.append(.figures([profile])) }
                // The matrix itself goes to tables/ only: the annotated heatmap shows its values.
                _ = add(ReportTables.distances(analysis.distances[metric]![module]!, tasks: analysis.tasks, metric: metric, module: module,
                                               fileModule: analysis.fileComponent(ofModule: module), cite: cite))
                // Each task's nearest neighbours and cluster go to tables/ only; the section on
                // clusters summarises them.
                let symmetric = metric.descriptor.isSymmetric
                _ = add(ReportTables.neighbours(layered.mean, symmetric: symmetric, tasks: analysis.tasks, k: max(1, settings.neighbourCount),
                                                metric: metric, module: module, fileModule: analysis.fileComponent(ofModule: module)))
                if let clusters = findings.clusters[metric]?[module] {
                    _ = add(ReportTables.clusterMembers(clusters, distances: layered.mean, symmetric: symmetric, tasks: analysis.tasks,
                                                        metric: metric, module: module, fileModule: analysis.fileComponent(ofModule: module)))
                }
            }
            document.sections.append(ReportSection(id: "metric-\(metric.id)", title: ReportText.metricTitle(metric), blocks: blocks))
        }

        document.sections.append(clusterSection(analysis, findings, modules: modules, metrics: metrics, cite: cite,
                                                neighbourCount: max(1, settings.neighbourCount), add: add))

        // The hierarchy view: Grassmann against cosine, cosine against L2.
        var hierarchy: [ReportBlock] = [
            .paragraph("Every pair of tasks as one point: how the subspace distance orders pairs against the direction distance, "
                       + "and the direction distance against the magnitude-sensitive L2."),
        ]
        for module in modules {
            let names = [(DistanceMetric.grassmann, DistanceMetric.cosine), (.cosine, .l2)]
                .filter { metrics.contains($0.0) && metrics.contains($0.1) }
                .compactMap { add(figures.hierarchy(y: $0.0, x: $0.1, module)) }
            if !names.isEmpty { hierarchy += [.subheading(module), .figures(names)] }
        }
        if hierarchy.count > 1 {
            document.sections.append(ReportSection(id: "hierarchy", title: "Hierarchy of the distances", blocks: hierarchy))
        }

        // Merge loss.
        if findings.delta != nil {
            var blocks: [ReportBlock] = [
                .paragraph("δ(i, j) = score(i on i) − score(Comb(i, j) on i), the loss of task i when its adapter is averaged with task j's. "
                           + "For each task i, Spearman's ρ between δ(i, ·) and the distance; the tables give the mean (std) over tasks."),
            ]
            if let name = add(figures.deltaHeatmap()) { blocks.append(.figures([name])) }
            blocks.append(.table(add(ReportTables.correlationDetails(findings, modules: modules, metrics: metrics, cite: cite))))
            for module in modules {
                let names = metrics.compactMap { add(figures.deltaScatter($0, module)) }
                if !names.isEmpty { blocks += [.subheading(module), .figures(names)] }
                blocks.append(.table(add(ReportTables.correlationsPerTask(findings, tasks: analysis.tasks, module: module,
                                                                          fileModule: analysis.fileComponent(ofModule: module),
                                                                          metrics: metrics, cite: cite))))
            }
            document.sections.append(ReportSection(id: "merge-loss", title: "Merge loss and distances", blocks: blocks))
            document.sections.append(predictionSection(analysis, findings, modules: modules, metrics: metrics, figures: figures,
                                                       cite: cite, add: add, add: add))
        }

        document.sections.append(ReportSection(id: "methods", title: "Methods", blocks: [
            .paragraph("Distances are computed per layer and module from the LoRA factors (thin QR and small SVDs; no d × d matrix is formed), "
                       + "then averaged over layers. PCA centres the rows of the layer-mean matrix; MDS is classical (Torgerson); "
                       + "the task order is average-linkage clustering."),
            .definitions(ReportText.definitions(for: analysis.kind)),
        ]))
        document.sections.append(ReportBuilder.provenanceSection(provenance, add: add))
        return document
    }

    /// Clusters (the cut of each tree chosen by silhouette), where the neighbour tables are, and the
    /// near-duplicate pairs: a few lines and two short tables at any number of tasks.
    static func clusterSection(_ analysis: StudyAnalysis, _ findings: StudyFindings, modules: [String], metrics: [DistanceMetric], cite: Bool,
                               neighbourCount: Int, add: (ReportTable) -> String) -> ReportSection {
        var blocks: [ReportBlock] = [
            .paragraph("Each average-linkage tree (of the layer-mean distances; ½(D + Dᵀ) for an asymmetric metric) is cut into the "
                       + "number of clusters k with the highest mean silhouette, k = 2 … min(N − 1, \(TaskClusters.maximumDefaultCount)). "
                       + "A silhouette near 1 means tight, well separated clusters; near 0, no clear structure. The medoid of a cluster "
                       + "is its member with the smallest summed distance to the others. Every task's cluster and silhouette: "
                       + "tables/clusters-<metric>-<module>.csv; its \(neighbourCount) nearest neighbours: "
                       + "tables/neighbours-<metric>-<module>.csv."),
        ]
        if let table = ReportTables.clusterSummary(findings, tasks: analysis.tasks, modules: modules, metrics: metrics, cite: cite) {
            blocks.append(.table(add(table)))
        } else {
            blocks.append(.paragraph("No clusters: fewer than three tasks have defined distances."))
        }
        let pairs = StudySummaries.nearDuplicates(analysis)
        blocks.append(.subheading("Near-duplicates"))
        if pairs.isEmpty {
            blocks.append(.paragraph("No pair of adapters has a layer-mean cosine distance below "
                                     + "\(NumberFormat.scientific(StudySummaries.nearDuplicateCosine, decimals: 0)) in every module."))
        } else {
            blocks.append(.paragraph("\(Wording.count(pairs.count, "pair")) of adapters point the same way (layer-mean cosine distance below "
                                     + "\(NumberFormat.scientific(StudySummaries.nearDuplicateCosine, decimals: 0)) in every module, "
                                     + "about 2.6° on average): copies, neighbouring checkpoints or rescaled updates."))
            blocks.append(.table(add(ReportTables.nearDuplicates(pairs, tasks: analysis.tasks, modules: analysis.modules))))
        }
        return ReportSection(id: "clusters", title: "Clusters, neighbours and near-duplicates", blocks: blocks)
    }

    /// The last section of every report: tool, command line, date and each input file with its size and SHA-256.
    /// With many input files the page shows the first `shownInputs` and the command line's first and
    /// last characters; tables/inputs.csv lists every file.
    static func provenanceSection(_ provenance: Provenance, add: (ReportTable) -> String) -> ReportSection {
        let rows = provenance.inputs.map {
            TableData.Row(header: $0.role, cells: [TableData.Cell($0.path), TableData.Cell("\($0.bytes)"), TableData.Cell($0.sha256)])
        }
        let all = TableData(title: "Input files", cornerHeader: "Role", columnHeaders: ["path", "bytes", "sha256"], rows: rows,
                            columnAlignments: [.leading, .trailing, .leading])
        var shown = all
        var notes: String?
        if rows.count > shownInputs {
            shown.rows = Array(rows.prefix(shownInputs))
            notes = "The first \(shownInputs) of \(rows.count) input files; every file in tables/inputs.csv."
        }
        var command = provenance.commandLine
        if command.count > longestCommandShown {
            let head = command.prefix(longestCommandShown * 2 / 3), tail = command.suffix(longestCommandShown / 3)
            command = "\(head) … \(tail) (\(command.count) characters; the input files are listed below)"
        }
        return ReportSection(id: "provenance", title: "Provenance", blocks: [
            .keyValues([KeyValue("tvgeo", provenance.toolVersion), KeyValue("command", command), KeyValue("date (UTC)", provenance.date)]),
            .table(add(ReportTable(name: "inputs", data: shown, notes: notes, csv: TableCSV.text(all)))),
        ])
    }

    /// Input files listed on the report's page (all of them in tables/inputs.csv).
    static let shownInputs = 40
    /// Characters of the command line shown on the report's page.
    static let longestCommandShown = 600

    /// What predicts the merge loss: layer by layer, out of sample, and the untried merges.
    static func predictionSection(_ analysis: StudyAnalysis, _ findings: StudyFindings, modules: [String], metrics: [DistanceMetric],
                                  figures: ReportFigures, cite: Bool, add addFigure: (ReportFigure?) -> String?,
                                  add addTable: (ReportTable) -> String) -> ReportSection {
        let parts = ReportPrediction(analysis: analysis, findings: findings, metrics: metrics, width: figures.wideWidth, cite: cite,
                                     style: figures.style)
        var blocks: [ReportBlock] = [
            .subheading("Layer by layer"),
            .paragraph("For every layer alone, the per-task Spearman ρ between δ(i, ·) and the distance at that layer, averaged over tasks. "
                       + "The best layer is chosen among many (metrics × layers), so its p-value (a one-sample t-test of the per-task ρ "
                       + "against 0) is Holm-adjusted over all of them."),
        ]
        let sentences = modules.compactMap(parts.bestLayerSentence)
        if !sentences.isEmpty { blocks.append(.bullets(sentences)) }
        let strips = modules.compactMap { addFigure(parts.layerFigure($0)) }
        if !strips.isEmpty { blocks.append(.figures(strips)) }
        blocks.append(.subheading("Out of sample: leave one task out"))
        if let paragraph = parts.predictionParagraph(), let table = parts.predictionTable() {
            blocks.append(.paragraph(paragraph))
            blocks.append(.table(addTable(table)))
        } else {
            blocks.append(.paragraph("No prediction: no distance is defined for every pair, or no merge has a score with a non-zero own score."))
        }
        if let table = parts.mergePredictionsTable() { _ = addTable(table) }
        if let untried = parts.untriedMerges() {
            blocks.append(.subheading("Untried merges"))
            blocks.append(.paragraph(untried[0]))
            blocks.append(.bullets(Array(untried.dropFirst())))
        }
        return ReportSection(id: "prediction", title: "What predicts the merge loss", blocks: blocks)
    }

    /// Whether some off-diagonal value is defined.
    static func hasDefinedPair(_ matrix: PairMatrix) -> Bool {
        (0..<matrix.count).contains { i in (0..<matrix.count).contains { j in i != j && matrix[i, j].isFinite } }
    }

    /// One line per distinct set of ignored tensors, naming the adapters that have it.
    static func ignoredTensorLines(_ adapters: [AdapterSummary]) -> [String] {
        var groups: [(tensors: [String], tasks: [String])] = []
        for adapter in adapters where !adapter.ignoredTensors.isEmpty {
            if let index = groups.firstIndex(where: { $0.tensors == adapter.ignoredTensors }) {
                groups[index].tasks.append(adapter.task)
            } else {
                groups.append((adapter.ignoredTensors, [adapter.task]))
            }
        }
        return groups.map { group in
            let shown = group.tensors.prefix(4).joined(separator: ", ") + (group.tensors.count > 4 ? ", … (\(group.tensors.count) in all)" : "")
            let owners = group.tasks.count == adapters.count && adapters.count > 1 ? "every adapter" : group.tasks.joined(separator: ", ")
            return "\(owners): \(shown)"
        }
    }

    /// The facts under Inputs; `taskNames` are the tasks' own names when the analysis shows
    /// display names (a "labels" line then says which is which).
    static func inputFacts(_ analysis: StudyAnalysis, _ findings: StudyFindings, modules: [String], taskNames: [String]? = nil) -> [KeyValue] {
        // Many tasks: the first and last names (natural order) and where the full list is.
        let large = FigureDensity.isLarge(taskCount: analysis.tasks.count)
        func names(_ tasks: [String]) -> String {
            large ? StudySummaries.abbreviated(NaturalOrder.sorted(tasks), limit: 8) : tasks.joined(separator: ", ")
        }
        let taskList = large ? names(analysis.tasks) + "; every task in tables/adapters.csv" : names(analysis.tasks)
        var facts = [KeyValue("tasks", taskList), KeyValue("modules", modules.joined(separator: ", "))]
        let renamed = zip(taskNames ?? analysis.tasks, analysis.tasks).filter { $0 != $1 }
        if !renamed.isEmpty {
            facts.insert(KeyValue("labels", large ? "\(Wording.count(renamed.count, "task")) shown under display names"
                                               : renamed.map { "\($1) = \($0)" }.joined(separator: ", ")), at: 1)
        }
        let bases = Set(analysis.adapters.compactMap(\.baseModel)).sorted()
        facts.append(KeyValue("base model", bases.isEmpty ? "not given" : bases.joined(separator: ", ")))
        for module in modules {
            guard let covered = analysis.moduleTasks[module] else { continue }
            facts.append(KeyValue("\(module) covers", "\(names(covered)) (\(covered.count) of \(analysis.tasks.count) tasks; "
                                  + "the others have no LoRA factors for it)"))
        }
        let layers = Set(analysis.adapters.flatMap { $0.modules.flatMap(\.layers) }).count
        facts.append(KeyValue("layers", "\(layers)"))
        if let k = analysis.subspaceRank { facts.append(KeyValue("subspace rank k (full fine-tuning)", "\(k)")) }
        facts.append(KeyValue("scores", findings.scores.map(scoresFact) ?? "none: no merge-loss section"))
        return facts
    }

    /// "scores.csv (56 rows)", with the distinct `metric` values of those rows in file order when
    /// some row has one: "scores.csv (56 rows; score metrics: mcc, f1, accuracy)".
    static func scoresFact(_ scores: ScoreTable) -> String {
        var metrics: [String] = []
        for metric in scores.rows.compactMap(\.metric) where !metrics.contains(metric) { metrics.append(metric) }
        let named = metrics.isEmpty ? "" : "; score metric\(metrics.count == 1 ? "" : "s"): \(metrics.joined(separator: ", "))"
        return "\(scores.path) (\(scores.rows.count) rows\(named))"
    }

    /// The headline findings, one sentence each.
    static func summary(_ analysis: StudyAnalysis, _ findings: StudyFindings, modules: [String], metrics: [DistanceMetric]) -> [String] {
        var lines: [String] = []
        if findings.delta != nil {
            for module in modules {
                let ranked = metrics.compactMap { metric -> (DistanceMetric, CorrelationSummary)? in
                    guard let s = findings.correlations[metric]?[module]?[.spearman], s.mean != nil else { return nil }
                    return (metric, s)
                }.sorted { $0.1.mean! > $1.1.mean! }
                guard let best = ranked.first, let mean = best.1.mean, let std = best.1.std else {
                    let partners = metrics.compactMap { findings.correlations[$0]?[module]?[.spearman]?.perTaskCounts.max() }.max() ?? 0
                    lines.append("\(module): no metric has a defined correlation with the merge loss"
                                 + (partners < 3
                                    ? " (Spearman's ρ per task needs at least three merge partners with scores; here at most \(partners))."
                                    : "."))
                    continue
                }
                let others = ranked.dropFirst().map { "\(ReportText.shortName($0.0)) \(ReportTables.fixed($0.1.mean!))" }
                lines.append("\(module): \(ReportText.shortName(best.0)) predicts the merge loss best, "
                             + "Spearman ρ \(ReportTables.fixed(mean)) (\(ReportTables.fixed(std))) mean (std) "
                             + "over \(Wording.count(best.1.perTask.compactMap { $0 }.count, "task"))"
                             + "\(others.isEmpty ? "" : "; then " + others.joined(separator: ", ")).")
            }
            if let prediction = findings.prediction, let mean = prediction.mean {
                let verdict = ReportPrediction.chanceVerdict(prediction.perTask.compactMap { $0 })
                lines.append("Out of sample (leave one task out), ridge regression on the layer-mean distances predicts the relative merge loss "
                             + "with mean Spearman ρ \(ReportTables.fixed(mean)) (\(ReportTables.fixed(prediction.std ?? 0))), "
                             + "\(verdict.text); the best single distance chosen on the training tasks: "
                             + (prediction.selectBestMean.map { "ρ \(ReportTables.fixed($0))" } ?? "undefined") + ".")
            }
        } else {
            lines.append("No scores were given, so the merge-loss correlations are left out (add --scores FILE).")
        }
        let identity = modules.compactMap { module in findings.grassmannIdentity[module].map { (module, $0) } }
        if let worst = identity.max(by: { $0.1 < $1.1 }) {
            let size = NumberFormat.scientific(worst.1, decimals: 1)
            if worst.1 == 0 {
                lines.append("Grassmann on ΔW equals Grassmann on B exactly in \(identity.map(\.0).joined(separator: ", ")): "
                             + "Im(BA) = Im(B) when A has full row rank.")
            } else if worst.1 <= 1e-8 {
                lines.append("Grassmann on ΔW equals Grassmann on B: largest difference \(size) rad "
                             + "over \(identity.map(\.0).joined(separator: ", ")), as Im(BA) = Im(B) when A has full row rank.")
            } else {
                lines.append("Grassmann on ΔW differs from Grassmann on B by up to \(size) rad (\(worst.0)): "
                             + "some A is rank-deficient, so Im(BA) ⊊ Im(B) there.")
            }
        }
        let metric = metrics.contains(.cosine) ? DistanceMetric.cosine : metrics.first
        for module in modules {
            guard let metric, let layerMean = analysis.distances[metric]?[module]?.mean, analysis.tasks.count > 2 else { continue }
            // Pairs i < j: an asymmetric metric (Comb's) is read through ½(D + Dᵀ).
            let mean = metric.descriptor.isSymmetric ? layerMean : StudyFindings.symmetrised(layerMean)
            var pairs: [(Int, Int, Double)] = []
            // Identical adapters are one task here (their warning names them).
            let copies = Set(findings.duplicates.flatMap { $0.dropFirst() })
            for i in 0..<mean.count where !copies.contains(i) {
                for j in (i + 1)..<mean.count where !copies.contains(j) && mean[i, j].isFinite { pairs.append((i, j, mean[i, j])) }
            }
            guard let low = pairs.min(by: { $0.2 < $1.2 }), let high = pairs.max(by: { $0.2 < $1.2 }) else { continue }
            let t = analysis.tasks
            lines.append("\(module), \(ReportText.shortName(metric)): "
                         + "closest tasks \(t[low.0]) and \(t[low.1]) (\(NumberFormat.fixed(low.2, decimals: 3))), "
                         + "furthest \(t[high.0]) and \(t[high.1]) (\(NumberFormat.fixed(high.2, decimals: 3))).")
        }
        let warningCount = analysis.warnings.count + findings.warnings.count
        if warningCount > 0 { lines.append("\(warningCount) warning\(warningCount == 1 ? "" : "s"): see Inputs.") }
        return lines
    }
}

extension StudyAnalysis {
    /// The same analysis with the tasks renamed to `names` (one per task, in order) in every place a
    /// report shows them: the task list, the adapters' summaries and the module coverage.
    func showing(taskNames names: [String]) -> StudyAnalysis {
        guard names.count == tasks.count else { return self }
        let shown = Dictionary(zip(tasks, names), uniquingKeysWith: { first, _ in first })
        var copy = self
        copy.tasks = names
        copy.adapters = adapters.map { adapter in
            var adapter = adapter
            adapter.task = shown[adapter.task] ?? adapter.task
            return adapter
        }
        copy.moduleTasks = moduleTasks.mapValues { $0.map { shown[$0] ?? $0 } }
        return copy
    }
}
