import AnalysisCore
import Study

/// Names, units and definitions of the metrics, shared by every part of the report.
enum ReportText {
    static func metricTitle(_ metric: DistanceMetric) -> String { AnalysisFigures.label(metric).title }
    static func unit(_ metric: DistanceMetric) -> String { AnalysisFigures.label(metric).unit }

    /// Short names for sentences and legends.
    static func shortName(_ metric: DistanceMetric) -> String {
        switch metric {
        case .l2: return "L2"
        case .cosine: return "cosine"
        case .grassmann: return "Grassmann (ΔW)"
        case .grassmannB: return "Grassmann (B)"
        case .grassmannA: return "Grassmann (A)"
        }
    }

    static func definition(_ metric: DistanceMetric) -> Definition? {
        definitions.first { $0.metric == metric.rawValue }
    }

    // MathML pieces (tvgeo's own markup; no user text ever goes in here).
    private static func mi(_ s: String) -> String { "<mi>\(s)</mi>" }
    /// Brackets keep their size: MathML stretches them around subscripts otherwise.
    private static func mo(_ s: String) -> String {
        "()⟨⟩‖".contains(s) ? "<mo stretchy=\"false\">\(s)</mo>" : "<mo>\(s)</mo>"
    }
    private static let meanT = "<mover accent=\"true\"><mi>T</mi><mo>‾</mo></mover>"
    private static func sub(_ base: String, _ index: String) -> String { "<msub>\(base)\(index)</msub>" }
    private static func row(_ parts: String...) -> String { "<mrow>\(parts.joined())</mrow>" }
    private static let pair = mo("(") + mi("i") + mo(",") + mi("j") + mo(")")
    private static func deltaW(_ index: String) -> String { mi("Δ") + sub(mi("W"), mi(index)) }
    private static func distance(_ name: String) -> String { sub(mi("d"), "<mtext>\(name)</mtext>") + pair }
    private static func math(_ body: String) -> String {
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"block\">\(body)</math>"
    }
    private static func norm(_ body: String) -> String { sub(row(mo("‖"), body, mo("‖")), mi("F")) }
    private static func grassmann(_ name: String, _ space: String) -> String {
        math(distance(name) + mo("=") + "<msqrt>" + row("<munder>\(mo("∑"))\(mi("k"))</munder>",
             "<msubsup>\(mi("θ"))\(mi("k"))<mn>2</mn></msubsup>") + "</msqrt>" + mo(",") + "<mspace width=\"1em\"/>"
             + mi("cos") + sub(mi("θ"), mi("k")) + mo("=") + sub(mi("σ"), mi("k")) + row(mo("("),
             "<msubsup>\(mi("U"))\(mi("i"))<mi>⊤</mi></msubsup>", sub(mi("U"), mi("j")), mo(")")) + mo(",")
             + "<mspace width=\"0.5em\"/>" + sub(mi("U"), mi("i")) + "<mtext>&#160;orthonormal basis of&#160;</mtext>" + space)
    }

    static let definitions: [Definition] = [
        Definition(name: "Task vector", metric: nil,
                   mathML: math(deltaW("t") + mo("=") + sub(mi("W"), mi("t")) + mo("−") + sub(mi("W"), "<mn>0</mn>")
                                + mo(";") + "<mspace width=\"1em\"/>" + "<mtext>LoRA:&#160;</mtext>" + mi("Δ") + mi("W") + mo("=")
                                + mi("s") + mi("B") + mi("A") + mo(",") + "<mspace width=\"0.5em\"/>" + mi("s") + mo("=")
                                + "<mfrac>\(mi("α"))\(mi("r"))</mfrac>"),
                   formula: "ΔW_t = W_t − W_0;  LoRA: ΔW = s·B·A,  s = α / r  (α / √r with rsLoRA)",
                   text: "Per layer and module. B is d_out × r, A is r × d_in; the distances are computed from the factors without forming ΔW."),
        Definition(name: "L2 distance", metric: "l2",
                   mathML: math(distance("L2") + mo("=") + norm(deltaW("i") + mo("−") + deltaW("j"))),
                   formula: "d_L2(i,j) = ‖ΔW_i − ΔW_j‖_F",
                   text: "In the units of the weights; 0 on the diagonal; always defined."),
        Definition(name: "Cosine distance", metric: "cosine",
                   mathML: math(distance("cos") + mo("=") + "<mn>1</mn>" + mo("−") + "<mfrac>" + row(mo("⟨"), deltaW("i"), mo(","), deltaW("j"), sub(mo("⟩"), mi("F")))
                                + row(norm(deltaW("i")), norm(deltaW("j"))) + "</mfrac>"),
                   formula: "d_cos(i,j) = 1 − ⟨ΔW_i, ΔW_j⟩_F / (‖ΔW_i‖_F ‖ΔW_j‖_F)",
                   text: "In [0, 2]; undefined (—) when a task vector is zero."),
        Definition(name: "Grassmann distance on ΔW", metric: "grassmann",
                   mathML: grassmann("G", mi("Im") + mo("(") + deltaW("i") + mo(")")),
                   formula: "d_G(i,j) = √(Σ_k θ_k²),  cos θ_k = σ_k(U_iᵀ U_j),  U_i an orthonormal basis of Im(ΔW_i)",
                   text: "The principal angles θ_k between the column spaces, in radians, in [0, √r·π/2]. Im(BA) = Im(B) when A has full row rank, so this equals the B-only distance up to rounding."),
        Definition(name: "Grassmann distance on B", metric: "grassmann_b",
                   mathML: grassmann("G,B", mi("Im") + mo("(") + sub(mi("B"), mi("i")) + mo(")")),
                   formula: "d_G,B(i,j): the same angles between Im(B_i) and Im(B_j)",
                   text: "Undefined when a B is zero."),
        Definition(name: "Grassmann distance on A", metric: "grassmann_a",
                   mathML: grassmann("G,A", mi("Im") + mo("(") + "<msubsup>\(mi("A"))\(mi("i"))<mi>⊤</mi></msubsup>" + mo(")")),
                   formula: "d_G,A(i,j): the same angles between the row spaces of A_i and A_j",
                   text: "Undefined when an A is zero."),
        Definition(name: "Layer mean", metric: nil,
                   mathML: math(sub(meanT, "<mtext>m</mtext>") + pair + mo("=") + "<mfrac><mn>1</mn>\(mi("L"))</mfrac>"
                                + "<munder>\(mo("∑"))\(mi("ℓ"))</munder>" + sub(mi("d"), row("<mtext>m</mtext>", mo(","), mi("ℓ"))) + pair),
                   formula: "T̄_m(i,j) = (1/L) Σ_ℓ d_m,ℓ(i,j)",
                   text: "Over the layers where the distance is defined; the heatmaps, maps and correlations use it."),
        Definition(name: "Merge loss", metric: nil,
                   mathML: math(mi("δ") + pair + mo("=") + mi("score") + row(mo("("), mi("i"), "<mtext>&#160;on&#160;</mtext>", mi("i"), mo(")"))
                                + mo("−") + mi("score") + row(mo("("), mi("Comb"), mo("("), mi("i"), mo(","), mi("j"), mo(")"), "<mtext>&#160;on&#160;</mtext>", mi("i"), mo(")"))),
                   formula: "δ(i,j) = score(i on i) − score(Comb(i,j) on i),  Comb = (½(A_i + A_j), ½(B_i + B_j))",
                   text: "From the scores file; positive when merging with j costs task i."),
        Definition(name: "Correlation with the merge loss", metric: nil,
                   mathML: math(sub(mi("ρ"), mi("i")) + mo("=") + mi("Spearman") + row(mo("("), mi("δ") + row(mo("("), mi("i"), mo(","), mo("·"), mo(")")),
                                mo(","), sub(meanT, "<mtext>m</mtext>") + row(mo("("), mi("i"), mo(","), mo("·"), mo(")")), mo(")"))),
                   formula: "ρ_i = Spearman(δ(i,·), T̄_m(i,·)), reported as mean (std) over tasks i",
                   text: "Average ranks for ties; population std; the 95 % interval of the mean is a percentile bootstrap over tasks."),
    ]
}
