import AnalysisCore
import Study

/// Names, units and definitions of the metrics, shared by every part of the report. The metrics'
/// own come from their descriptors; the other definitions (task vector, layer mean, merge loss,
/// correlation) are the report's.
enum ReportText {
    static func metricTitle(_ metric: DistanceMetric) -> String { metric.descriptor.title }
    static func unit(_ metric: DistanceMetric) -> String { metric.descriptor.unit }

    /// Short names for sentences and legends.
    static func shortName(_ metric: DistanceMetric) -> String { metric.descriptor.shortName }

    static func definition(_ metric: DistanceMetric) -> Definition {
        let descriptor = metric.descriptor
        return Definition(name: descriptor.name, metric: descriptor.id, mathML: descriptor.formula.mathML,
                          formula: descriptor.formula.plain, text: descriptor.note)
    }

    private typealias M = MathMLMarkup
    private static func mi(_ s: String) -> String { M.mi(s) }
    private static func mo(_ s: String) -> String { M.mo(s) }
    private static func sub(_ base: String, _ index: String) -> String { M.sub(base, index) }
    private static func math(_ body: String) -> String { M.math(body) }
    private static func deltaW(_ index: String) -> String { M.deltaW(index) }
    private static func row(_ parts: String...) -> String { "<mrow>\(parts.joined())</mrow>" }
    private static let meanT = M.meanT, pair = M.pair

    /// The methods section's definitions: the task vector, every metric that applies to `kind`,
    /// then the statistics.
    static func definitions(for kind: FineTuningKind) -> [Definition] {
        [taskVector] + DistanceMetric.applying(to: kind).map(definition) + statistics
    }

    private static let taskVector =
        Definition(name: "Task vector", metric: nil,
                   mathML: math(deltaW("t") + mo("=") + sub(mi("W"), mi("t")) + mo("−") + sub(mi("W"), "<mn>0</mn>")
                                + mo(";") + "<mspace width=\"1em\"/>" + "<mtext>LoRA:&#160;</mtext>" + mi("Δ") + mi("W") + mo("=")
                                + mi("s") + mi("B") + mi("A") + mo(",") + "<mspace width=\"0.5em\"/>" + mi("s") + mo("=")
                                + "<mfrac>\(mi("α"))\(mi("r"))</mfrac>"),
                   formula: "ΔW_t = W_t − W_0;  LoRA: ΔW = s·B·A,  s = α / r  (α / √r with rsLoRA)",
                   text: "Per layer and module. B is d_out × r, A is r × d_in; the distances are computed from the factors without forming ΔW.")

    private static let statistics: [Definition] = [
        Definition(name: "Layer mean", metric: nil,
                   mathML: math(sub(meanT, "<mtext>m</mtext>") + pair + mo("=") + "<mfrac><mn>1</mn>\(mi("L"))</mfrac>"
                                + "<munder>\(mo("∑"))\(mi("ℓ"))</munder>" + sub(mi("d"), row("<mtext>m</mtext>", mo(","), mi("ℓ"))) + pair),
                   formula: "T̄_m(i,j) = (1/L) Σ_ℓ d_m,ℓ(i,j)",
                   text: "Over the layers where the distance is defined; the heatmaps, maps and correlations use it."),
        Definition(name: "Merge loss", metric: nil,
                   mathML: math(mi("δ") + pair + mo("=") + mi("score") + row(mo("("), mi("i"), "<mtext>&#160;on&#160;</mtext>", mi("i"), mo(")"))
                                + mo("−") + mi("score") + row(mo("("), mi("Comb"), mo("("), mi("i"), mo(","), mi("j"), mo(")"),
                                                              "<mtext>&#160;on&#160;</mtext>", mi("i"), mo(")"))),
                   formula: "δ(i,j) = score(i on i) − score(Comb(i,j) on i),  Comb = (½(A_i + A_j), ½(B_i + B_j))",
                   text: "From the scores file; positive when merging with j costs task i."),
        Definition(name: "Correlation with the merge loss", metric: nil,
                   mathML: math(sub(mi("ρ"), mi("i")) + mo("=") + mi("Spearman")
                                + row(mo("("), mi("δ") + row(mo("("), mi("i"), mo(","), mo("·"), mo(")")),
                                mo(","), sub(meanT, "<mtext>m</mtext>") + row(mo("("), mi("i"), mo(","), mo("·"), mo(")")), mo(")"))),
                   formula: "ρ_i = Spearman(δ(i,·), T̄_m(i,·)), reported as mean (std) over tasks i",
                   text: "Average ranks for ties; population std; the 95 % interval of the mean is a percentile bootstrap over tasks."),
    ]
}
