/// The distances tvgeo computes between two task vectors, in their canonical order (the order
/// of `metrics.json`, the tables and the report). This file is the only one that names metric
/// ids: to add a metric, add its case and its descriptor here, then fill it in the kernel(s) of
/// the kinds it applies to (`BlockGeometry`/`PairKernel` for LoRA, `FullTaskVectors` for full
/// fine-tuning). Every consumer iterates `allCases` and reads `descriptor`.
public enum DistanceMetric: String, CaseIterable, Sendable, Comparable {
    /// ‖ΔW_i − ΔW_j‖_F, in the units of the weights; 0 on the diagonal; always defined.
    case l2 = "l2"
    /// 1 − ⟨ΔW_i, ΔW_j⟩_F / (‖ΔW_i‖_F ‖ΔW_j‖_F), in [0, 2]; undefined (NaN) when a ΔW is zero.
    case cosine = "cosine"
    /// √(Σ θ²) over the principal angles between the column spaces of ΔW_i and ΔW_j, in radians,
    /// in [0, √k·π/2]; undefined when a ΔW is zero.
    case grassmann = "grassmann"
    /// The same between the column spaces of B_i and B_j; undefined when a B is zero.
    case grassmannB = "grassmann_b"
    /// The same between the row spaces of A_i and A_j; undefined when an A is zero.
    case grassmannA = "grassmann_a"
    /// ‖ΔW_C(i,j) − ΔW_i‖_F / ‖ΔW_i‖_F with Comb's merged update ΔW_C(i,j) = (s_i/4)(B_i + B_j)(A_i + A_j):
    /// how far the merge moves host i's update; ≥ 0, unitless; asymmetric (row i is the host);
    /// undefined when the ranks differ or ΔW_i is zero. LoRA only.
    case combShift = "comb_shift"
    /// ‖ΔW_C(i,j) − ½(ΔW_i + ΔW_j)‖_F / ‖½(ΔW_i + ΔW_j)‖_F: how far Comb is from the exact average
    /// (host i's scaling in ΔW_C, each adapter's own in ΔW_i, ΔW_j); ≥ 0, unitless; symmetric when
    /// s_i = s_j; undefined when the ranks differ or the average is zero. LoRA only.
    case combError = "comb_error"

    public static func < (lhs: DistanceMetric, rhs: DistanceMetric) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public var descriptor: MetricDescriptor {
        switch self {
        case .l2: return MetricCatalogue.l2
        case .cosine: return MetricCatalogue.cosine
        case .grassmann: return MetricCatalogue.grassmann
        case .grassmannB: return MetricCatalogue.grassmannB
        case .grassmannA: return MetricCatalogue.grassmannA
        case .combShift: return MetricCatalogue.combShift
        case .combError: return MetricCatalogue.combError
        }
    }
}

/// The descriptors, one per metric.
enum MetricCatalogue {
    typealias M = MathMLMarkup

    static let l2 = MetricDescriptor(
        id: DistanceMetric.l2.rawValue, name: "L2 distance", title: "L2 distance ‖ΔWᵢ − ΔWⱼ‖", shortName: "L2",
        unit: "weight units",
        formula: .init(plain: "d_L2(i,j) = ‖ΔW_i − ΔW_j‖_F",
                       latex: #"d_{\mathrm{L2}}(i,j) = \lVert \Delta W_i - \Delta W_j \rVert_F"#,
                       mathML: M.math(M.distance("L2") + M.mo("=") + M.norm(M.deltaW("i") + M.mo("−") + M.deltaW("j")))),
        latexSymbol: #"d_{\mathrm{L2}}"#,
        range: "[0, ∞)", operand: .update, undefinedWhen: "never", undefinedWhenZero: nil,
        note: "In the units of the weights; 0 on the diagonal; always defined.",
        appliesTo: [.lora, .full], isSymmetric: true, annotationDecimals: 2)

    static let cosine = MetricDescriptor(
        id: DistanceMetric.cosine.rawValue, name: "Cosine distance", title: "Cosine distance", shortName: "cosine",
        unit: "1 − cos",
        formula: .init(plain: "d_cos(i,j) = 1 − ⟨ΔW_i, ΔW_j⟩_F / (‖ΔW_i‖_F ‖ΔW_j‖_F)",
                       latex: #"d_{\cos}(i,j) = 1 - \frac{\langle \Delta W_i, \Delta W_j \rangle_F}"#
                              + #"{\lVert \Delta W_i \rVert_F \, \lVert \Delta W_j \rVert_F}"#,
                       mathML: M.math(M.distance("cos") + M.mo("=") + "<mn>1</mn>" + M.mo("−") + "<mfrac>"
                                      + M.row(M.mo("⟨"), M.deltaW("i"), M.mo(","), M.deltaW("j"), M.sub(M.mo("⟩"), M.mi("F")))
                                      + M.row(M.norm(M.deltaW("i")), M.norm(M.deltaW("j"))) + "</mfrac>")),
        latexSymbol: #"d_{\cos}"#,
        range: "[0, 2]", operand: .update, undefinedWhen: "a task vector is zero", undefinedWhenZero: .delta,
        note: "In [0, 2]; undefined (—) when a task vector is zero.",
        appliesTo: [.lora, .full], isSymmetric: true, annotationDecimals: 3)

    static let grassmann = MetricDescriptor(
        id: DistanceMetric.grassmann.rawValue, name: "Grassmann distance on ΔW", title: "Grassmann distance, Im(ΔW)",
        shortName: "Grassmann (ΔW)", unit: "radians",
        formula: .init(plain: "d_G(i,j) = √(Σ_k θ_k²),  cos θ_k = σ_k(U_iᵀ U_j),  U_i an orthonormal basis of Im(ΔW_i)",
                       latex: #"d_G(i,j) = \sqrt{\textstyle\sum_k \theta_k^2},\ \cos\theta_k = \sigma_k(U_i^\top U_j),\ "#
                              + #"U_i \text{ an orthonormal basis of } \operatorname{Im}(\Delta W_i)"#,
                       mathML: M.grassmann("G", M.mi("Im") + M.mo("(") + M.deltaW("i") + M.mo(")"))),
        latexSymbol: #"d_{G}"#,
        range: "[0, √r·π/2]", operand: .subspace(.delta), undefinedWhen: "a task vector is zero", undefinedWhenZero: .delta,
        note: "The principal angles θ_k between the column spaces, in radians, in [0, √r·π/2]. "
              + "Im(BA) = Im(B) when A has full row rank, so this equals the B-only distance up to rounding.",
        appliesTo: [.lora, .full], isSymmetric: true, annotationDecimals: 2)

    static let grassmannB = MetricDescriptor(
        id: DistanceMetric.grassmannB.rawValue, name: "Grassmann distance on B", title: "Grassmann distance, Im(B)",
        shortName: "Grassmann (B)", unit: "radians",
        formula: .init(plain: "d_G,B(i,j): the same angles between Im(B_i) and Im(B_j)",
                       latex: #"d_{G,B}(i,j) = \sqrt{\textstyle\sum_k \theta_k^2}\ "#
                              + #"\text{between } \operatorname{Im}(B_i) \text{ and } \operatorname{Im}(B_j)"#,
                       mathML: M.grassmann("G,B", M.mi("Im") + M.mo("(") + M.sub(M.mi("B"), M.mi("i")) + M.mo(")"))),
        latexSymbol: #"d_{G,B}"#,
        range: "[0, √r·π/2]", operand: .subspace(.b), undefinedWhen: "a B is zero", undefinedWhenZero: .b,
        note: "Undefined when a B is zero.",
        appliesTo: [.lora], isSymmetric: true, annotationDecimals: 2)

    static let grassmannA = MetricDescriptor(
        id: DistanceMetric.grassmannA.rawValue, name: "Grassmann distance on A", title: "Grassmann distance, row space of A",
        shortName: "Grassmann (A)", unit: "radians",
        formula: .init(plain: "d_G,A(i,j): the same angles between the row spaces of A_i and A_j",
                       latex: #"d_{G,A}(i,j) = \sqrt{\textstyle\sum_k \theta_k^2}\ "#
                              + #"\text{between } \operatorname{Im}(A_i^\top) \text{ and } \operatorname{Im}(A_j^\top)"#,
                       mathML: M.grassmann("G,A", M.mi("Im") + M.mo("(") + "<msubsup>\(M.mi("A"))\(M.mi("i"))<mi>⊤</mi></msubsup>" + M.mo(")"))),
        latexSymbol: #"d_{G,A}"#,
        range: "[0, √r·π/2]", operand: .subspace(.a), undefinedWhen: "an A is zero", undefinedWhenZero: .a,
        note: "Undefined when an A is zero.",
        appliesTo: [.lora, .full], isSymmetric: true, annotationDecimals: 2)

    /// ΔW_C(i,j) in MathML: (s_i/4)(B_i + B_j)(A_i + A_j).
    private static let combMathML = M.sub(M.row(M.mi("Δ"), M.mi("W")), M.row(M.mi("C"), M.mo("("), M.mi("i"), M.mo(","), M.mi("j"), M.mo(")")))

    static let combShift = MetricDescriptor(
        id: DistanceMetric.combShift.rawValue, name: "Comb shift", title: "Comb shift ‖ΔW_C(i,j) − ΔWᵢ‖ / ‖ΔWᵢ‖",
        shortName: "Comb shift", unit: "relative to ‖ΔWᵢ‖",
        formula: .init(plain: "comb_shift(i,j) = ‖ΔW_C(i,j) − ΔW_i‖_F / ‖ΔW_i‖_F,  ΔW_C(i,j) = (s_i/4)(B_i + B_j)(A_i + A_j)",
                       latex: #"\mathrm{shift}(i,j) = \frac{\lVert \Delta W_C(i,j) - \Delta W_i \rVert_F}{\lVert \Delta W_i \rVert_F},\ "#
                              + #"\Delta W_C(i,j) = \tfrac{s_i}{4}(B_i + B_j)(A_i + A_j)"#,
                       mathML: M.math(M.mi("shift") + M.mo("(") + M.mi("i") + M.mo(",") + M.mi("j") + M.mo(")") + M.mo("=") + "<mfrac>"
                                      + M.norm(combMathML + M.mo("−") + M.deltaW("i")) + M.norm(M.deltaW("i")) + "</mfrac>")),
        latexSymbol: #"\mathrm{shift}_C"#,
        range: "[0, ∞)", operand: .combMerge,
        undefinedWhen: "the two ranks differ in the block, or the host's task vector is zero", undefinedWhenZero: .delta,
        note: "How far Comb's merged update (the average of the factors, host i's scaling s_i) moves task i's own update. "
              + "Asymmetric: row i is the host. Undefined when the ranks differ or ΔWᵢ is zero. Computed exactly from "
              + "r × r Gram products of the factors.",
        appliesTo: [.lora], isSymmetric: false, annotationDecimals: 2)

    static let combError = MetricDescriptor(
        id: DistanceMetric.combError.rawValue, name: "Comb error", title: "Comb error ‖ΔW_C(i,j) − ½(ΔWᵢ + ΔWⱼ)‖ / ‖½(ΔWᵢ + ΔWⱼ)‖",
        shortName: "Comb error", unit: "relative to the average",
        formula: .init(plain: "comb_error(i,j) = ‖ΔW_C(i,j) − ½(ΔW_i + ΔW_j)‖_F / ‖½(ΔW_i + ΔW_j)‖_F "
                              + "(= (s/4)‖(B_i − B_j)(A_i − A_j)‖_F / ‖½(ΔW_i + ΔW_j)‖_F when s_i = s_j)",
                       latex: #"\mathrm{err}(i,j) = \frac{\lVert \Delta W_C(i,j) - \tfrac12(\Delta W_i + \Delta W_j) \rVert_F}"#
                              + #"{\lVert \tfrac12(\Delta W_i + \Delta W_j) \rVert_F}"#,
                       mathML: M.math(M.mi("err") + M.mo("(") + M.mi("i") + M.mo(",") + M.mi("j") + M.mo(")") + M.mo("=") + "<mfrac>"
                                      + M.norm(combMathML + M.mo("−") + "<mfrac><mn>1</mn><mn>2</mn></mfrac>" + M.mo("(") + M.deltaW("i")
                                               + M.mo("+") + M.deltaW("j") + M.mo(")"))
                                      + M.norm("<mfrac><mn>1</mn><mn>2</mn></mfrac>" + M.mo("(") + M.deltaW("i") + M.mo("+") + M.deltaW("j")
                                               + M.mo(")")) + "</mfrac>")),
        latexSymbol: #"\mathrm{err}_C"#,
        range: "[0, ∞)", operand: .combMerge,
        undefinedWhen: "the two ranks differ in the block, or ΔWᵢ + ΔWⱼ is zero", undefinedWhenZero: nil,
        note: "How far Comb is from the exact average of the two updates: Comb averages the factors, so "
              + "ΔW_C = ½(ΔWᵢ + ΔWⱼ) − (s/4)(Bᵢ − Bⱼ)(Aᵢ − Aⱼ) when sᵢ = sⱼ (then the matrix is symmetric). "
              + "Row i is the host (its scaling in ΔW_C). Undefined when the ranks differ or the average is zero.",
        appliesTo: [.lora], isSymmetric: false, annotationDecimals: 3)
}
