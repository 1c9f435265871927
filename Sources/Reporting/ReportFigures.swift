import AnalysisCore
import Charts
import Diagnostics
import Study
import StudyFigures

/// The report's figures as chart values, one scene each, named `<kind>-<metric>-<module>`.
struct ReportFigures {
    var analysis: StudyAnalysis
    var findings: StudyFindings
    /// Width of the wide figures (heatmaps) in points; the maps and plots take the narrow width.
    var wideWidth: Double
    var narrowWidth: Double
    /// Whether metrics.json is written beside the report, so captions may point into it.
    var citesMetricsFile = true
    /// The user's figure style (font, titles, colour maps and range, annotations).
    var style = FigureStyle.default
    /// Task indices drawn emphasised and always labelled (`--highlight`).
    var highlighted: Set<Int> = []

    /// A map figure and, per task, whether its label is drawn.
    struct TaskMap {
        var figure: ReportFigure
        var labelled: [Bool]
    }

    /// Whether the figures take their large-N form (`FigureDensity.isLarge`).
    var isLarge: Bool { FigureDensity.isLarge(taskCount: analysis.tasks.count) }

    var theme: Theme { style.theme }

    /// The module as file names and figure names spell it (unique within the study).
    func fileModule(_ module: String) -> String { analysis.fileComponent(ofModule: module) }

    /// " (metrics.json → path)" when metrics.json is written, else "".
    func cite(_ path: String) -> String { citesMetricsFile ? " (metrics.json → \(path))" : "" }

    /// " (layers.safetensors → tensor)" for a matrix kept in the sidecar beside metrics.json, else "".
    func citeSidecar(_ tensor: String) -> String { citesMetricsFile ? " (\(LayersSidecar.fileName) → \(tensor))" : "" }

    func heatmap(_ metric: DistanceMetric, _ module: String) -> ReportFigure? {
        guard let layered = analysis.distances[metric]?[module],
              let scene = AnalysisFigures.heatmap(metric, module, analysis: analysis, findings: findings, width: wideWidth,
                                                     style: style) else { return nil }
        var ordered = findings.clustering[metric]?[module] == nil ? ""
            : " Tasks in average-linkage order\(cite("clustering.\(metric.id).\(module).order"))\(leftOut(metric, module, "order"))."
        if !ordered.isEmpty && FigureDensity.isLarge(taskCount: analysis.tasks.count) {
            ordered += " The tree is drawn beside the matrix"
            if let clusters = findings.clusters[metric]?[module] {
                ordered += "; coloured bands mark its \(clusters.count) clusters (cut chosen by silhouette), numbered as in the clusters table"
            }
            ordered += "."
        }
        return ReportFigure(name: FigureName.of(.heatmap, metric, module: fileModule(module)), scene: scene,
                            caption: "\(ReportText.metricTitle(metric)) between every pair of tasks, \(AnalysisFigures.layersText(layered))"
                                     + "\(citeSidecar(LayersSidecar.meanTensor(metric, module))).\(ordered)\(asymmetry(metric))")
    }

    /// For an asymmetric metric (Comb's): which side is the host, and that maps use ½(D + Dᵀ).
    func asymmetry(_ metric: DistanceMetric, maps: Bool = false) -> String {
        guard !metric.descriptor.isSymmetric else { return "" }
        return maps ? " The matrix is asymmetric (row = host): the map uses the symmetrised matrix ½(D + Dᵀ)."
            : " Asymmetric: row i is the host (the task evaluated, whose scaling Comb uses), column j its partner; "
              + "the task order clusters the symmetrised matrix ½(D + Dᵀ)."
    }

    func pcaMap(_ metric: DistanceMetric, _ module: String) -> TaskMap? {
        guard let map = AnalysisFigures.pcaMap(metric, module, analysis: analysis, findings: findings, width: narrowWidth,
                                               style: style, title: "PCA · \(ReportText.shortName(metric)) · \(module)",
                                               highlighted: highlighted) else { return nil }
        let figure = ReportFigure(name: FigureName.of(.pca, metric, module: fileModule(module)), scene: map.scene,
                                  caption: "Tasks on the first two principal components of the rows of the \(ReportText.shortName(metric)) matrix"
                                           + "\(cite("pca.\(metric.id).\(module)"))\(leftOut(metric, module, "map"))."
                                           + largeMapNote(metric, module) + asymmetry(metric, maps: true))
        return TaskMap(figure: figure, labelled: map.labelled)
    }

    /// At large N: what the colours are and where the unlabelled tasks are listed; "" otherwise.
    func largeMapNote(_ metric: DistanceMetric, _ module: String) -> String {
        guard isLarge else { return "" }
        let colours = AnalysisFigures.mapClusters(metric, module, analysis: analysis, findings: findings) == nil ? ""
            : " Colours: the clusters of the average-linkage tree cut by silhouette."
        return colours + " Names are drawn where they fit (highlighted tasks always); every task's coordinates, cluster and "
            + "whether it is labelled are in tables/\(mapTableName(metric, module)).csv."
    }

    func mapTableName(_ metric: DistanceMetric, _ module: String) -> String { "maps-\(metric.id)-\(fileModule(module))" }

    /// At large N, one table per metric and module so that no task drawn unlabelled is lost: each
    /// task's cluster, PCA and MDS coordinates and whether each map labels it; nil at small N.
    func mapTable(_ metric: DistanceMetric, _ module: String, pca: TaskMap?, mds: TaskMap?) -> ReportTable? {
        guard isLarge, pca != nil || mds != nil else { return nil }
        let clusters = AnalysisFigures.mapClusters(metric, module, analysis: analysis, findings: findings)
        func number(_ value: Double?) -> TableData.Cell {
            guard let value, value.isFinite else { return TableData.Cell("—") }
            return TableData.Cell(NumberFormat.fixed(value, decimals: 4, asciiMinus: true), value: value)
        }
        func flag(_ map: TaskMap?, _ i: Int) -> TableData.Cell {
            guard let map else { return TableData.Cell("—") }
            return TableData.Cell(i < map.labelled.count && map.labelled[i] ? "yes" : "no")
        }
        let pcaCoordinates = findings.pca[metric]?[module]?.coordinates
        let mdsCoordinates = findings.mds[metric]?[module]?.coordinates
        func coordinate(_ rows: [[Double]]?, _ i: Int, _ k: Int) -> Double? {
            guard let rows, i < rows.count, k < rows[i].count else { return nil }
            return rows[i][k]
        }
        let rows = analysis.tasks.indices.map { i in
            TableData.Row(header: analysis.tasks[i], cells: [
                clusters.flatMap { $0[i] >= 0 ? TableData.Cell(ClusterBands.number($0[i])) : nil } ?? TableData.Cell("—"),
                number(coordinate(pcaCoordinates, i, 0)), number(coordinate(pcaCoordinates, i, 1)), flag(pca, i),
                number(coordinate(mdsCoordinates, i, 0)), number(coordinate(mdsCoordinates, i, 1)), flag(mds, i),
            ])
        }
        let data = TableData(title: "Map coordinates · \(ReportText.shortName(metric)) · \(module)",
                             caption: "Every task's cluster, PCA and MDS coordinates, and whether each map draws its name.",
                             cornerHeader: "task", columnHeaders: ["cluster", "pc1", "pc2", "pca_labelled", "mds1", "mds2", "mds_labelled"],
                             rows: rows)
        return ReportTable(name: mapTableName(metric, module), data: data, notes: nil)
    }

    func mdsMap(_ metric: DistanceMetric, _ module: String) -> TaskMap? {
        guard let mds = findings.mds[metric]?[module] else { return nil }
        let positive = mds.eigenvalues.filter { $0 > 0 }.reduce(0, +)
        func share(_ k: Int) -> Double? { k < mds.eigenvalues.count && positive > 0 ? max(0, mds.eigenvalues[k]) / positive : nil }
        let clusters = AnalysisFigures.mapClusters(metric, module, analysis: analysis, findings: findings)
        let map = ScatterMap(points: AnalysisFigures.points(mds.coordinates, tasks: analysis.tasks, clusters: clusters, highlighted: highlighted),
                             xTitle: ScatterMap.componentTitle("Dim ", index: 1, explainedVariance: share(0)),
                             yTitle: ScatterMap.componentTitle("Dim ", index: 2, explainedVariance: share(1)),
                             title: style.title("MDS · \(ReportText.shortName(metric)) · \(module)"),
                             subtitle: style.title("classical MDS, stress-1 \(NumberFormat.fixed(mds.stress1, decimals: 3))"), equalAspect: true)
        let layout = map.layout(width: narrowWidth, theme: theme)
        let figure = ReportFigure(name: FigureName.of(.mds, metric, module: fileModule(module)), scene: layout.scene,
                                  caption: "Classical multidimensional scaling of the \(ReportText.shortName(metric)) distances: "
                                           + "map distances approximate the table's\(cite("mds.\(metric.id).\(module)"))"
                                           + "\(leftOut(metric, module, "map"))." + largeMapNote(metric, module) + asymmetry(metric, maps: true))
        return TaskMap(figure: figure, labelled: AnalysisFigures.labelledTasks(layout.labelled, coordinates: mds.coordinates))
    }

    /// "; left out of the map: hate (distances undefined), sst2_copy (identical to sst2)", or "".
    func leftOut(_ metric: DistanceMetric, _ module: String, _ what: String) -> String {
        guard let indices = findings.leftOutOfMaps[metric]?[module], !indices.isEmpty else { return "" }
        let tasks = analysis.tasks
        let reasons = indices.map { index -> String in
            if let group = findings.duplicates.first(where: { $0.dropFirst().contains(index) }) {
                return "\(tasks[index]) (identical to \(tasks[group[0]]))"
            }
            return "\(tasks[index]) (distances undefined)"
        }
        return "; left out of the \(what)" + (what == "order" ? ", placed last" : "") + ": " + reasons.joined(separator: ", ")
    }

    /// Per task, its mean distance to the other tasks at each layer.
    func layerProfile(_ metric: DistanceMetric, _ module: String) -> ReportFigure? {
        guard let layered = analysis.distances[metric]?[module], layered.layerIDs.count > 1 else { return nil }
        let n = analysis.tasks.count
        let series = analysis.tasks.enumerated().map { i, task in
            LayerSeries(name: task, values: layered.layers.map { matrix in
                let values = (0..<n).filter { $0 != i }.map { matrix[i, $0] }.filter(\.isFinite)
                return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
            }, layers: layered.layerIDs.map(Double.init), highlighted: highlighted.contains(i))
        }
        var profile = LayerProfile(series: series, yTitle: "mean distance to the others (\(ReportText.unit(metric)))",
                                   title: style.title("Layer profile · \(ReportText.shortName(metric)) · \(module)"),
                                   subtitle: style.title(profileSubtitle(series.count)))
        profile.markers = layered.layerIDs.count <= 16
        let summary = profile.isLarge
            ? "The median over the tasks of each task's mean \(ReportText.shortName(metric)) distance to the other tasks at every layer, "
              + "with the 25–75 % and 10–90 % quantile bands" + (highlighted.isEmpty ? "" : "; highlighted tasks as lines")
            : "Each task's mean \(ReportText.shortName(metric)) distance to the other tasks at every layer"
        return ReportFigure(name: FigureName.of(.profile, metric, module: fileModule(module)), scene: profile.scene(width: wideWidth, theme: theme),
                            caption: summary + "\(citeSidecar(LayersSidecar.layersTensor(metric, module)))."
                                     + (metric.descriptor.isSymmetric ? "" : " Asymmetric metric: the mean of each task's row (task as host)."))
    }

    /// The profile's subtitle: what a line is, or at large N what the bands are.
    func profileSubtitle(_ taskCount: Int) -> String {
        FigureDensity.isLarge(taskCount: taskCount) ? "median and quantile bands over \(taskCount) tasks of each task's mean distance"
            : "each task's mean distance to the other tasks, per layer"
    }

    /// Bins per axis of the hierarchy figures' density form (large N).
    static let hierarchyBins = 60

    /// The poster's hierarchy view: every pair of tasks as a point, one distance against another.
    func hierarchy(y: DistanceMetric, x: DistanceMetric, _ module: String) -> ReportFigure? {
        // One point per unordered pair: only for symmetric metrics.
        guard y.descriptor.isSymmetric, x.descriptor.isSymmetric,
              let dy = analysis.distances[y]?[module]?.mean, let dx = analysis.distances[x]?[module]?.mean else { return nil }
        var pairs: [ScatterPoint] = []
        for i in 0..<analysis.tasks.count {
            for j in (i + 1)..<analysis.tasks.count {
                pairs.append(ScatterPoint(label: "\(analysis.tasks[i])–\(analysis.tasks[j])", x: dx[i, j], y: dy[i, j]))
            }
        }
        let rho = Correlation.compute(.spearman, pairs.map(\.x), pairs.map(\.y))
        // At large N the pairs are too many to draw one by one: binned counts instead.
        let binned = isLarge
        var relation = ScatterMap.relation(pairs, xTitle: "\(ReportText.shortName(x)) (\(ReportText.unit(x)))",
                                           yTitle: "\(ReportText.shortName(y)) (\(ReportText.unit(y)))",
                                           title: style.title("\(ReportText.shortName(y)) against \(ReportText.shortName(x)) · \(module)"),
                                           subtitle: style.title(binned ? "pairs of tasks per cell, layer means"
                                                                        : "one point per pair of tasks, layer means"),
                                           note: rho.map { ["Spearman ρ = \(NumberFormat.fixed($0.value, decimals: 2)) (n = \($0.n))"] } ?? [])
        if binned {
            relation.densityBins = Self.hierarchyBins
            relation.densityTitle = "pairs per cell"
        }
        let scene = relation.scene(width: narrowWidth, theme: theme)
        let form = binned ? "The number of pairs of tasks in each of \(Self.hierarchyBins) × \(Self.hierarchyBins) cells of their "
            + "\(ReportText.shortName(x)) and \(ReportText.shortName(y)) distances" : "Each pair of tasks placed by its "
            + "\(ReportText.shortName(x)) and \(ReportText.shortName(y)) distances"
        return ReportFigure(name: FigureName.of(.hierarchy, y, x, module: fileModule(module)), scene: scene,
                            caption: form + "\(citeSidecar("mean/<metric>/\(module)")); ρ over the pairs.")
    }

    func deltaHeatmap() -> ReportFigure? {
        guard let delta = findings.delta else { return nil }
        // Three significant digits for the largest loss (scores may be fractions or percentages).
        let largest = delta.values.filter(\.isFinite).map(abs).max() ?? 0
        let decimals = style.decimals ?? (largest >= 100 ? 0 : largest >= 10 ? 1 : largest >= 1 ? 2 : 3)
        var heatmap = Heatmap(values: delta.rows, rowLabels: analysis.tasks, columnLabels: analysis.tasks,
                              title: style.title("Merge loss δ(i, j)"), subtitle: style.title("row: evaluated task i; column: merge partner j"),
                              colorScale: .diverging(style.deltaColourMap, center: 0),
                              range: style.colourRange(for: "delta").resolve(AnalysisFigures.offDiagonalValues(delta)),
                              annotate: style.annotations && analysis.tasks.count <= 12, decimals: decimals,
                              colorBarTitle: "score(i) − score(Comb(i, j))")
        // δ(i, i) is not defined: the diagonal is left empty rather than shown as missing.
        heatmap.diagonal = .empty
        return ReportFigure(name: FigureName.deltaHeatmap, scene: heatmap.scene(width: wideWidth, theme: theme),
                            caption: "The loss of task i when its adapter is averaged with j's\(cite("delta")); "
                                     + "the diagonal (a task with itself) is left empty; hatched: no score.")
    }

    /// δ(i, j) against the layer-mean distance, coloured by the evaluated task.
    func deltaScatter(_ metric: DistanceMetric, _ module: String) -> ReportFigure? {
        guard let delta = findings.delta, let mean = analysis.distances[metric]?[module]?.mean,
              let summary = findings.correlations[metric]?[module]?[.spearman] else { return nil }
        var points: [ScatterPoint] = []
        for i in 0..<analysis.tasks.count {
            for j in 0..<analysis.tasks.count where i != j {
                points.append(ScatterPoint(label: "\(analysis.tasks[i]) with \(analysis.tasks[j])", x: mean[i, j], y: delta[i, j],
                                           group: analysis.tasks[i]))
            }
        }
        var note: [String] = []
        if let m = summary.mean, let s = summary.std {
            note.append("Spearman ρ = \(NumberFormat.fixed(m, decimals: 2)) (\(NumberFormat.fixed(s, decimals: 2)))")
            note.append("mean (std) over \(Wording.count(summary.perTask.compactMap { $0 }.count, "task"))")
        } else {
            note.append("Spearman ρ undefined")
        }
        let scene = ScatterMap.relation(points, xTitle: "\(ReportText.shortName(metric)) (\(ReportText.unit(metric)))",
                                        yTitle: "merge loss δ(i, j)",
                                        title: style.title("δ against \(ReportText.shortName(metric)) · \(module)"),
                                        subtitle: style.title("one point per ordered pair, colour: evaluated task i"),
                                        note: note)
            .scene(width: narrowWidth, theme: theme)
        return ReportFigure(name: FigureName.of(.delta, metric, module: fileModule(module)), scene: scene,
                            caption: "Merge loss against the \(ReportText.shortName(metric)) distance"
                                     + "\(cite("delta; \(LayersSidecar.fileName) → \(LayersSidecar.meanTensor(metric, module))"))"
                                     + (citesMetricsFile ? "; ρ: correlations.\(metric.id).\(module)." : "."))
    }
}
