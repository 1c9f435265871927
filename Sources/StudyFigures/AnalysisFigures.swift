import AnalysisCore
import Charts
import Diagnostics
import Foundation
import Study

/// Figures of an analysis: for each metric and module, a heatmap of the layer-mean matrix.
/// Built as chart values, rendered by the chart kit's one renderer in the requested formats.
public enum AnalysisFigures {
    /// The figure title and unit of a metric, from its descriptor.
    public static func label(_ metric: DistanceMetric) -> (title: String, unit: String) {
        (metric.descriptor.title, metric.descriptor.unit)
    }

    /// Heatmaps of every metric and module (tasks in their clustering order when there is one),
    /// and the PCA map of each, in every requested format.
    /// `highlighted`: task indices drawn emphasised and always labelled in the maps (`--highlight`).
    public static func figures(for analysis: StudyAnalysis, findings: StudyFindings, formats: [OutputFormat],
                               width: Double = FigureWidth.doubleColumn, style: FigureStyle = .default,
                               highlighted: Set<Int> = []) throws(ToolError) -> [OutputFile] {
        var files = try heatmaps(for: analysis, findings: findings, formats: formats, width: width, style: style)
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let scene = pcaMap(metric, module, analysis: analysis, findings: findings, width: FigureWidth.singleColumn,
                                         style: style, highlighted: highlighted)?.scene else { continue }
                files += try render(scene, name: FigureName.of(.pca, metric, module: analysis.fileComponent(ofModule: module)), formats: formats)
            }
        }
        return files
    }

    /// The files of one figure, `figures/<name>.<extension>`, one per format.
    public static func render(_ scene: Scene, name: String, formats: [OutputFormat]) throws(ToolError) -> [OutputFile] {
        var files: [OutputFile] = []
        for format in formats {
            do {
                let bytes = try CairoRenderer().render(scene, format: format, figureID: name.replacingOccurrences(of: ".", with: "_"))
                files.append(OutputFile("figures/\(name).\(format.fileExtension)", bytes))
            } catch {
                throw .internalError("rendering \(name).\(format.fileExtension): \(error)")
            }
        }
        return files
    }

    public static func heatmaps(for analysis: StudyAnalysis, findings: StudyFindings? = nil, formats: [OutputFormat],
                                width: Double = FigureWidth.doubleColumn, style: FigureStyle = .default) throws(ToolError) -> [OutputFile] {
        var files: [OutputFile] = []
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let scene = heatmap(metric, module, analysis: analysis, findings: findings, width: width, style: style) else { continue }
                files += try render(scene, name: FigureName.of(.heatmap, metric, module: analysis.fileComponent(ofModule: module)), formats: formats)
            }
        }
        return files
    }

    /// "layer 3" or "mean over 12 layers".
    public static func layersText(_ layered: LayeredDistances) -> String {
        layered.layerIDs.count == 1 ? "layer \(layered.layerIDs[0])" : "mean over \(layered.layerIDs.count) layers"
    }

    /// The layer-mean matrix of one metric and module as a heatmap in the style's sequential map,
    /// coloured over the style's range of the off-diagonal values of every module of the metric
    /// (one scale per metric, so that modules compare), values annotated up to 12 tasks when the
    /// style annotates, tasks in clustering order when `findings` has one; above
    /// `FigureDensity.largeTaskCount` tasks also the dendrogram and the clusters as bands.
    public static func heatmap(_ metric: DistanceMetric, _ module: String, analysis: StudyAnalysis, findings: StudyFindings?,
                               width: Double, style: FigureStyle = .default) -> Scene? {
        guard let layered = analysis.distances[metric]?[module] else { return nil }
        let (title, unit) = label(metric)
        // The colour scale spans the off-diagonal values: the zero diagonal would otherwise
        // compress every pair into one end of the map (diagonal cells clamp to the low end).
        var heatmap = Heatmap(values: layered.mean.rows, labels: analysis.tasks,
                              title: style.title("\(title) · \(module)"),
                              subtitle: style.title("\(Wording.count(analysis.tasks.count, "task")), \(layersText(layered))"),
                              colorScale: .sequential(style.heatmapColourMap), range: colourRange(metric, analysis: analysis, style: style),
                              annotate: style.annotations && analysis.tasks.count <= 12,
                              decimals: style.decimals ?? metric.descriptor.annotationDecimals, colorBarTitle: unit)
        heatmap.diagonal = .context
        // Similar tasks side by side: the average-linkage order of this very matrix.
        if let clustering = findings?.clustering[metric]?[module] {
            heatmap.rowOrder = clustering.order
            heatmap.columnOrder = clustering.order
            heatmap.subtitle = style.title("\(Wording.count(analysis.tasks.count, "task")), \(layersText(layered)), in clustering order")
            // Many tasks: the tree beside the matrix (a clustermap) and the silhouette-chosen
            // clusters as coloured bands where the task names cannot fit.
            if FigureDensity.isLarge(taskCount: analysis.tasks.count) {
                heatmap.dendrogram = dendrogram(clustering, taskCount: analysis.tasks.count)
                heatmap.clusterLabels = findings?.clusters[metric]?[module]?.labels
            }
        }
        // An asymmetric metric says which side is which (in the subtitle when titles are drawn; captions say it too).
        if !metric.descriptor.isSymmetric, let subtitle = heatmap.subtitle {
            heatmap.subtitle = subtitle + "; row i = host"
        }
        return heatmap.scene(width: width, theme: style.theme)
    }

    /// The average-linkage tree as the chart kit draws it (SciPy's layout: leaves are task
    /// indices, the k-th merge is node `taskCount + k`).
    public static func dendrogram(_ clustering: TaskMaps.Clustering, taskCount: Int) -> Dendrogram {
        Dendrogram(leafCount: taskCount, merges: clustering.merges.map { Dendrogram.Merge(left: $0.0, right: $0.1, height: $0.2) })
    }

    /// The colour range of a metric's heatmaps: the style's range (`auto`, `robust` or fixed) of
    /// the finite off-diagonal layer-mean values of all its modules together; nil when there are
    /// none or they are all equal.
    public static func colourRange(_ metric: DistanceMetric, analysis: StudyAnalysis, style: FigureStyle) -> ClosedRange<Double>? {
        let values = analysis.modules.compactMap { analysis.distances[metric]?[$0]?.mean }.flatMap(offDiagonalValues)
        return style.colourRange(for: metric.id).resolve(values)
    }

    /// The tasks on the first two principal components of the rows of the layer-mean matrix, and per
    /// task whether its label is drawn (see `ScatterMap.layout`). At large N (`FigureDensity.isLarge`)
    /// the points are coloured by cluster when `findings` has clusters of this metric and module.
    public static func pcaMap(_ metric: DistanceMetric, _ module: String, analysis: StudyAnalysis, findings: StudyFindings,
                              width: Double, style: FigureStyle = .default, title: String? = nil,
                              highlighted: Set<Int> = []) -> (scene: Scene, labelled: [Bool])? {
        guard let pca = findings.pca[metric]?[module] else { return nil }
        let map = ScatterMap(points: points(pca.coordinates, tasks: analysis.tasks, clusters: mapClusters(metric, module, analysis: analysis,
                                                                                                              findings: findings),
                                            highlighted: highlighted),
                             xTitle: ScatterMap.componentTitle(index: 1, explainedVariance: pca.explainedVarianceRatio.first),
                             yTitle: ScatterMap.componentTitle(index: 2, explainedVariance: pca.explainedVarianceRatio.dropFirst().first),
                             title: style.title(title ?? "PCA of the tasks · \(label(metric).title) · \(module)"),
                             subtitle: style.title(metric.descriptor.isSymmetric ? "rows of the layer-mean distance matrix, centred"
                                                         : "rows of the symmetrised layer-mean matrix ½(D + Dᵀ), centred"), equalAspect: true)
        let layout = map.layout(width: width, theme: style.theme)
        return (layout.scene, labelledTasks(layout.labelled, coordinates: pca.coordinates))
    }

    /// Per task, whether a map labels it, from the flags of the points `points(coordinates, …)` gave
    /// (tasks without a point are not labelled).
    public static func labelledTasks(_ labelled: [Bool], coordinates: [[Double]]) -> [Bool] {
        var next = 0
        return coordinates.map { c in
            guard let x = c.first, x.isFinite, (c.count > 1 ? c[1] : 0).isFinite, next < labelled.count else { return false }
            defer { next += 1 }
            return labelled[next]
        }
    }

    /// The cluster of each task that maps colour by: only at large N (small maps label every task),
    /// from the metric's and module's cut of the clustering; nil when there is none.
    public static func mapClusters(_ metric: DistanceMetric, _ module: String, analysis: StudyAnalysis,
                                   findings: StudyFindings) -> [Int]? {
        guard FigureDensity.isLarge(taskCount: analysis.tasks.count) else { return nil }
        return clusterLabels(metric, module, findings: findings)
    }

    /// The cluster label of every task (0-based, in task order; -1 for a task left out of the
    /// clustering) of a metric and module; nil when the findings have no clusters for it.
    public static func clusterLabels(_ metric: DistanceMetric, _ module: String, findings: StudyFindings) -> [Int]? {
        findings.clusters[metric]?[module]?.labels
    }

    /// One labelled point per task from 2-D coordinates (a missing second axis is 0), with its
    /// cluster (`clusters[index]`, when given) and whether it is highlighted.
    /// Tasks left out of a map (NaN coordinates: see `StudyFindings.leftOutOfMaps`) get no point.
    public static func points(_ coordinates: [[Double]], tasks: [String], clusters: [Int]? = nil,
                              highlighted: Set<Int> = []) -> [ScatterPoint] {
        tasks.enumerated().compactMap { index, task in
            let c = coordinates[index]
            // A task outside every cluster (left out of the clustering) has label -1.
            let cluster = clusters.flatMap { index < $0.count && $0[index] >= 0 ? $0[index] : nil }
            let point = ScatterPoint(label: task, x: c.first ?? .nan, y: c.count > 1 ? c[1] : 0, cluster: cluster,
                                     highlighted: highlighted.contains(index))
            return point.x.isFinite && point.y.isFinite ? point : nil
        }
    }

    /// The finite off-diagonal values, row by row.
    public static func offDiagonalValues(_ matrix: PairMatrix) -> [Double] {
        var values: [Double] = []
        for i in 0..<matrix.count {
            for j in 0..<matrix.count where i != j && matrix[i, j].isFinite { values.append(matrix[i, j]) }
        }
        return values
    }
}
