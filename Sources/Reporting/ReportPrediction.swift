import AnalysisCore
import Charts
import CSVText
import Diagnostics
import Study
import StudyFigures

/// The report's "what predicts the merge loss" parts: the per-layer correlations (a heat strip per
/// module and the best layer with its Holm-adjusted p), the leave-one-task-out prediction against
/// the literature's range, and the untried merges ranked by their predicted loss.
struct ReportPrediction {
    var analysis: StudyAnalysis
    var findings: StudyFindings
    var metrics: [DistanceMetric]
    var width: Double
    var cite: Bool
    /// The user's figure style (font, titles, annotations) for the layer strips.
    var style = FigureStyle.default

    /// The published out-of-sample bar, for orientation (a different coefficient and setting).
    static let literature = "“Demystifying Mergeability” (ICML 2026; 28 pairwise metrics over 190 pairs) reaches a leave-one-task-out "
        + "Pearson r ≈ 0.54–0.66 (≈ 0.43 on disjoint tasks)"

    func citeText(_ path: String) -> String { cite ? " (metrics.json → \(path))" : "" }

    /// Layers × metrics: the mean over tasks of the per-task Spearman ρ at each single layer.
    func layerFigure(_ module: String) -> ReportFigure? {
        // Metrics with no defined ρ at any layer (grassmann_b and Comb's for full fine-tuning) get no row.
        let rows = metrics.compactMap { metric in findings.perLayer[metric]?[module].map { (metric, $0) } }
            .filter { $0.1.contains { $0.mean != nil } }
        guard let first = rows.first, first.1.count > 1 else { return nil }
        let heatmap = Heatmap(values: rows.map { $0.1.map { $0.mean ?? .nan } }, rowLabels: rows.map { ReportText.shortName($0.0) },
                              columnLabels: first.1.map { "\($0.layer)" },
                              title: style.title("Spearman ρ with the merge loss, layer by layer · \(module)"),
                              subtitle: style.title("mean over tasks of the per-task ρ between δ(i, ·) and the distance at one layer"),
                              colorScale: .correlation, range: -1...1, annotate: style.annotations && first.1.count <= 16,
                              decimals: style.decimals ?? 2, colorBarTitle: "mean ρ")
        return ReportFigure(name: FigureName.of(.layers, module: analysis.fileComponent(ofModule: module)),
                            scene: heatmap.scene(width: width, theme: style.theme),
                            caption: "Rows: metrics; columns: layers. Each cell is the mean over tasks of Spearman's ρ between task i's "
                                     + "merge losses δ(i, ·) and its distances at that layer"
                                     + "\(citeText("correlations.<metric>.\(module).per_layer")); hatched: no task has a defined ρ.")
    }

    /// The best (metric, layer) of a module with an honest multiple-comparison caveat.
    func bestLayerSentence(_ module: String) -> String? {
        guard let best = findings.bestLayer[module] else { return nil }
        let verdict = best.holmP < 0.05 ? "significant after Holm's correction"
            : "not significant after Holm's correction: with this many layers and metrics, a best layer this good can arise by chance"
        return "\(module): the merge loss follows \(ReportText.shortName(best.metric)) at layer \(best.layer) most closely, "
            + "mean ρ \(ReportTables.fixed(best.mean)) (\(ReportTables.fixed(best.std))) over \(Wording.count(best.n, "task")); "
            + "one-sample t-test of the per-task ρ against 0: p = \(ReportTables.pText(best.p)), Holm-adjusted over "
            + "\(best.tests) (metric, layer) tests p = \(ReportTables.pText(best.holmP)) — \(verdict)."
    }

    /// "no better than chance" or the t-test of the mean out-of-sample ρ against 0.
    static func chanceVerdict(_ values: [Double]) -> (better: Bool, text: String) {
        guard let mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) else {
            return (false, "no held-out task has a defined ρ")
        }
        let p = Correlation.oneSampleTTestP(values)
        let pText = p.map { "one-sample t-test p = \(ReportTables.pText($0))" } ?? "no t-test (fewer than two tasks or no spread)"
        if mean > 0, let p, p < 0.05 { return (true, "better than chance (\(pText))") }
        return (false, "no better than chance (mean ρ \(ReportTables.fixed(mean)), \(pText))")
    }

    /// The out-of-sample paragraph: ridge and select-best against the literature.
    func predictionParagraph() -> String? {
        guard let prediction = findings.prediction else { return nil }
        let ridge = prediction.perTask.compactMap { $0 }, single = prediction.selectBest.compactMap { $0?.rho }
        func summary(_ mean: Double?, _ std: Double?, _ values: [Double]) -> String {
            guard let mean, let std else { return "undefined (no held-out task has a defined ρ)" }
            return "mean Spearman ρ \(ReportTables.fixed(mean)) (\(ReportTables.fixed(std))) over \(Wording.count(values.count, "held-out task"))"
        }
        let ridgeVerdict = Self.chanceVerdict(ridge), singleVerdict = Self.chanceVerdict(single)
        return "Out of sample (each task held out in turn: fitted on the merges that involve neither it nor its partner, "
            + "scored on its own merges), ridge regression (λ = \(NumberFormat.fixed(prediction.ridgeLambda, decimals: 2))) on "
            + "\(Wording.count(prediction.features.count, "layer-mean distance")) reaches \(summary(prediction.mean, prediction.std, ridge)), "
            + "\(ridgeVerdict.text); the best single distance chosen on the training tasks reaches "
            + "\(summary(prediction.selectBestMean, prediction.selectBestStd, single)), \(singleVerdict.text)"
            + "\(citeText("prediction")). For orientation: \(Self.literature) — Pearson rather than Spearman, and other models and tasks."
    }

    /// Per held-out task: the ridge's ρ, the feature select-best chose and its ρ.
    func predictionTable() -> ReportTable? {
        guard let prediction = findings.prediction else { return nil }
        var rows = analysis.tasks.enumerated().map { index, task in
            TableData.Row(header: task, cells: [
                ReportTables.number(prediction.perTask[index]),
                TableData.Cell(prediction.selectBest[index]?.feature ?? "—"),
                ReportTables.number(prediction.selectBest[index]?.rho),
            ])
        }
        func meanStd(_ mean: Double?, _ std: Double?) -> TableData.Cell {
            guard let mean, let std else { return TableData.Cell("—") }
            return TableData.Cell("\(ReportTables.fixed(mean)) (\(ReportTables.fixed(std)))", emphasis: .bold, value: mean)
        }
        rows.append(TableData.Row(header: "mean (std)", cells: [meanStd(prediction.mean, prediction.std), TableData.Cell(""),
                                                                 meanStd(prediction.selectBestMean, prediction.selectBestStd)]))
        let data = TableData(title: "Leave-one-task-out prediction of the relative merge loss",
                             caption: "Spearman ρ between the prediction and δ(t, j)/|score(t on t)| over the held-out task's merges.",
                             cornerHeader: "Held-out task", columnHeaders: ["ridge ρ", "select-best feature", "select-best ρ"], rows: rows,
                             columnAlignments: [.trailing, .leading, .trailing])
        return ReportTable(name: "prediction", data: data,
                           notes: ReportTables.notes("prediction", cite: cite, "— : fewer than three merges or a constant side."))
    }

    /// Every ordered pair's predicted relative loss (tables/merge-predictions.csv only).
    func mergePredictionsTable() -> ReportTable? {
        guard findings.prediction != nil else { return nil }
        let data = TableData(title: "Predicted relative merge loss of every ordered pair", cornerHeader: "host",
                             columnHeaders: ["partner", "predicted relative loss", "observed"], rows: [])
        return ReportTable(name: "merge-predictions", data: data, notes: nil,
                           csv: MergePredictionsCSV.text(findings, tasks: analysis.tasks))
    }

    /// The safest and riskiest merges without a score, by predicted relative loss; nil when every merge has one.
    func untriedMerges(count: Int = 5) -> [String]? {
        guard let prediction = findings.prediction, let delta = findings.delta else { return nil }
        let untried = prediction.mergePredictions.filter { delta[$0.host, $0.partner].isNaN }
        guard !untried.isEmpty else { return nil }
        let sorted = untried.sorted { $0.predicted < $1.predicted }
        let t = analysis.tasks
        func list(_ items: some Sequence<(host: Int, partner: Int, predicted: Double, observed: Double?)>) -> String {
            items.map { "\(t[$0.host]) with \(t[$0.partner]) (\(NumberFormat.fixed($0.predicted, decimals: 3, asciiMinus: true)))" }
                .joined(separator: ", ")
        }
        return ["\(untried.count) of \(prediction.mergePredictions.count) merges have no score; their relative loss "
                    + "δ(i, j)/|score(i on i)| as predicted by the ridge fitted on every scored merge (all in tables/merge-predictions.csv):",
                "safest (host with partner): \(list(sorted.prefix(count)))",
                "riskiest: \(list(sorted.suffix(count).reversed()))"]
    }
}
