/// Pieces of MathML for the formulas of the metric descriptors and the report's definitions.
/// tvgeo's own markup only: no user text ever goes in here, so nothing is escaped.
public enum MathMLMarkup {
    public static func mi(_ s: String) -> String { "<mi>\(s)</mi>" }
    /// Brackets keep their size: MathML stretches them around subscripts otherwise.
    public static func mo(_ s: String) -> String {
        "()⟨⟩‖".contains(s) ? "<mo stretchy=\"false\">\(s)</mo>" : "<mo>\(s)</mo>"
    }
    /// T̄, the layer-mean distance.
    public static let meanT = "<mover accent=\"true\"><mi>T</mi><mo>‾</mo></mover>"
    public static func sub(_ base: String, _ index: String) -> String { "<msub>\(base)\(index)</msub>" }
    public static func row(_ parts: String...) -> String { "<mrow>\(parts.joined())</mrow>" }
    /// (i,j)
    public static let pair = mo("(") + mi("i") + mo(",") + mi("j") + mo(")")
    /// ΔW with a subscript.
    public static func deltaW(_ index: String) -> String { mi("Δ") + sub(mi("W"), mi(index)) }
    /// d_name(i,j)
    public static func distance(_ name: String) -> String { sub(mi("d"), "<mtext>\(name)</mtext>") + pair }
    /// A display-mode `<math>` element.
    public static func math(_ body: String) -> String {
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"block\">\(body)</math>"
    }
    /// ‖body‖_F
    public static func norm(_ body: String) -> String { sub(row(mo("‖"), body, mo("‖")), mi("F")) }
    /// d_name(i,j) = √(Σ_k θ_k²), cos θ_k = σ_k(U_iᵀ U_j), U_i an orthonormal basis of `space`.
    public static func grassmann(_ name: String, _ space: String) -> String {
        math(distance(name) + mo("=") + "<msqrt>" + row("<munder>\(mo("∑"))\(mi("k"))</munder>",
             "<msubsup>\(mi("θ"))\(mi("k"))<mn>2</mn></msubsup>") + "</msqrt>" + mo(",") + "<mspace width=\"1em\"/>"
             + mi("cos") + sub(mi("θ"), mi("k")) + mo("=") + sub(mi("σ"), mi("k")) + row(mo("("),
             "<msubsup>\(mi("U"))\(mi("i"))<mi>⊤</mi></msubsup>", sub(mi("U"), mi("j")), mo(")")) + mo(",")
             + "<mspace width=\"0.5em\"/>" + sub(mi("U"), mi("i")) + "<mtext>&#160;orthonormal basis of&#160;</mtext>" + space)
    }
}
