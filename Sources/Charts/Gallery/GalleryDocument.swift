import Foundation

extension ChartGallery {
    /// A 4-page A4 document using every kind of block: a title, a definition list with a long path
    /// and a hash, paragraphs with bold runs, bullets, figures built at the content width, and a
    /// table long enough to continue on the next page.
    public static func sampleDocument(_ sample: GallerySample = .standard) -> PagedDocument {
        var document = PagedDocument(blocks: [], footer: "tvgeo sample report — synthetic data", title: "tvgeo sample report")
        let width = document.contentWidth
        let heatmap = Heatmap(values: sample.distances, labels: sample.tasks, order: sample.order,
                              title: "Task-vector distances", subtitle: "Cosine distance of LoRA updates, all modules",
                              colorScale: .viridis, annotate: true, decimals: 2, colorBarTitle: "distance")
        let pairRows = sample.pairDistances.map { pair in
            TableData.Row(header: pair.pair, cells: [
                TableData.Cell(NumberFormat.fixed(pair.cosine, decimals: 3), value: pair.cosine),
                TableData.Cell(NumberFormat.fixed(pair.grassmann, decimals: 3), value: pair.grassmann),
            ])
        }
        let pairTable = TableData(title: "Distances of every task pair", cornerHeader: "Pair",
                                  columnHeaders: ["Cosine", "Grassmann"], rows: pairRows)
        let (rho, n) = GallerySample.spearman(sample.pairDistances.map { ($0.cosine, $0.grassmann) })
        document.blocks = [
            .title("Task-vector geometry of ten adapters", subtitle: "A sample report drawn from synthetic data"),
            .keyValues([
                ("Adapters", "/data/experiments/2024-lora-sweeps/roberta-base/rank-16/seed-0/adapters/offensive-language-identification/final"),
                ("Base model", "roberta-base"),
                ("Checkpoint hash", "sha256:9f2c4e7a1b3d5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"),
                ("Tasks", sample.tasks.joined(separator: ", ")),
                ("Options", "--metric cosine --metric grassmann --modules query,key,value,attention.output,intermediate,output --layers all"),
            ]),
            .heading("Summary"),
            .paragraph([TextRun("Distances between task vectors grow with depth, and the two task families separate along the "
                                + "first principal component. The pairs' Grassmann and cosine distances agree: "),
                        .bold("Spearman ρ = \(NumberFormat.fixed(rho, decimals: 2))"), TextRun(" over \(n) pairs"),
                        TextRun(", so either orders the pairs alike. One pair (rte–irony) has no shared layers and is left out "
                                + "of every statistic that needs it.")]),
            .bullets([
                ["GLUE tasks sit close together; ", .bold("TweetEval"), " tasks spread more."],
                ["The synthetic ", .italic("θ-task"), " lies between the families, as constructed."],
                [TextRun("Distances in the last four layers are about twice those of the first four, for every pair of tasks "
                         + "and for both metrics, which is what one expects when fine-tuning changes the upper layers most.")],
            ]),
            .subheading("Pairs of tasks"),
            .paragraph("Each point below is one pair of tasks. The dashed line is the least-squares fit; the note gives the rank "
                       + "correlation and the number of pairs with both distances."),
            .figure(relationScatter(sample).scene(width: width * 0.6), caption: "Figure 1. Grassmann against cosine distance."),
            .heading("Distances", newPage: true),
            .paragraph("Distances are computed per layer and averaged over the modules."),
            .figure(heatmap.scene(width: width * 0.9), caption: "Figure 2. Cosine distances of the task vectors, ordered by family. "
                    + "The hatched cells mark the pair without shared layers."),
            .heading("Correlations", newPage: true),
            .table(sample.correlationTable),
            .paragraph("The table below lists every pair; it is long enough to continue on the next page, where its header row is repeated."),
            .table(pairTable, caption: "Table 2. Both distances of every pair; NaN marks the pair without shared layers."),
            .heading("Method"),
            .paragraph("Task vectors are the LoRA updates BA of each adapted module, flattened per layer. Cosine distance compares "
                       + "them as vectors; the Grassmann distance compares the column spaces of B."),
        ]
        return document
    }
}
