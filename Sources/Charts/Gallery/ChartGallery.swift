import Foundation

/// Every chart type drawn from `GallerySample`, for looking at and for the CLI to call.
public enum ChartGallery {
    public struct Figure: Sendable {
        /// File stem and SVG id prefix, e.g. "heatmap-distance-240".
        public var name: String
        public var scene: Scene
    }

    /// The gallery's figures at one width (points).
    public static func figures(width: Double, sample: GallerySample = .standard) -> [Figure] {
        let w = Int(width.rounded())
        var distance = Heatmap(values: sample.distances, labels: sample.tasks, order: sample.order,
                               title: "Task-vector distances", subtitle: "Cosine distance of LoRA updates, all modules",
                               colorScale: .viridis, annotate: true, decimals: 2, colorBarTitle: "distance")
        distance.missingLabel = "no shared layers"
        let correlation = Heatmap(values: sample.correlations, labels: sample.tasks, order: sample.order,
                                  title: "Task-vector similarity", subtitle: "Cosine similarity, centred",
                                  colorScale: .correlation, annotate: true, decimals: 2, colorBarTitle: "similarity")
        var magma = distance
        magma.colorScale = .magma
        magma.annotate = false
        magma.missingStyle = .grey
        magma.title = "Task-vector distances (magma)"
        magma.subtitle = nil

        let points = sample.tasks.indices.map { i in
            ScatterPoint(label: sample.tasks[i], x: sample.pcaCoordinates[i].x, y: sample.pcaCoordinates[i].y, group: sample.families[i])
        }
        let scatter = ScatterMap(points: points,
                                 xTitle: ScatterMap.componentTitle(index: 1, explainedVariance: sample.explainedVariance.first),
                                 yTitle: ScatterMap.componentTitle(index: 2, explainedVariance: sample.explainedVariance.second),
                                 title: "Task vectors, PCA", subtitle: "Each point is one adapter's task vector")
        let tasks = LayerProfile(series: sample.layerSeries, xTitle: "Layer", yTitle: "Distance to centroid",
                                 title: "Distance by layer", subtitle: "One line per task", band: .meanAndStandardDeviation)
        let pairs = LayerProfile(series: sample.pairSeries, xTitle: "Layer", yTitle: "Cosine distance",
                                 title: "Pair distances by layer", band: .none)
        let table = TableFigure(sample.correlationTable)
        let relation = relationScatter(sample)
        return [
            Figure(name: "heatmap-distance-\(w)", scene: distance.scene(width: width)),
            Figure(name: "heatmap-correlation-\(w)", scene: correlation.scene(width: width)),
            Figure(name: "heatmap-magma-\(w)", scene: magma.scene(width: width)),
            Figure(name: "scatter-pca-\(w)", scene: scatter.scene(width: width)),
            Figure(name: "layers-tasks-\(w)", scene: tasks.scene(width: width)),
            Figure(name: "layers-pairs-\(w)", scene: pairs.scene(width: width)),
            Figure(name: "table-correlation-\(w)", scene: table.scene(width: width)),
            Figure(name: "scatter-pairs-\(w)", scene: relation.scene(width: width)),
        ]
    }

    /// One unlabelled point per task pair, Grassmann against cosine distance, with Spearman's ρ
    /// in the note box and a least-squares line.
    public static func relationScatter(_ sample: GallerySample = .standard) -> ScatterMap {
        let points = sample.pairDistances.map { ScatterPoint(label: $0.pair, x: $0.cosine, y: $0.grassmann) }
        let (rho, n) = GallerySample.spearman(sample.pairDistances.map { ($0.cosine, $0.grassmann) })
        return .relation(points, xTitle: "Cosine distance", yTitle: "Grassmann distance", title: "Distances of task pairs",
                         subtitle: "One point per pair of tasks",
                         note: ["Spearman ρ = \(NumberFormat.fixed(rho, decimals: 2)) (n = \(n))"], trendLine: true)
    }

    /// Writes every figure at each width in each format into `directory` (created if needed),
    /// plus `index.html` with the SVGs inlined, and returns the written files in order.
    @discardableResult
    public static func write(to directory: URL, widths: [Double] = [FigureWidth.singleColumn, FigureWidth.doubleColumn],
                             formats: [OutputFormat] = [.svg, .pdf, .png], renderer: any Renderer = CairoRenderer()) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [URL] = []
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tvgeo chart gallery</title>\n"
            + "<style>body{font-family:sans-serif;margin:2em;background:#fafafa} figure{display:inline-block;margin:1em;"
            + "vertical-align:top;background:#fff;padding:0.5em;box-shadow:0 0 3px #bbb} figcaption{font-size:small;color:#555}</style>"
            + "</head><body>\n<h1>tvgeo chart gallery</h1>\n"
        for width in widths {
            for figure in figures(width: width) {
                for format in formats {
                    let url = directory.appendingPathComponent(figure.name + "." + format.fileExtension)
                    let bytes = try renderer.render(figure.scene, format: format, figureID: figure.name)
                    try bytes.write(to: url, options: .atomic)
                    written.append(url)
                    if format == .svg {
                        html += "<figure>\(SVGEmbedding.inlineMarkup(bytes))<figcaption>\(figure.name)</figcaption></figure>\n"
                    }
                }
            }
        }
        html += "</body></html>\n"
        let index = directory.appendingPathComponent("index.html")
        try Data(html.utf8).write(to: index, options: .atomic)
        written.append(index)
        return written
    }
}
