/// How two adapters are merged (docs/merge.md).
public enum MergeMethod: String, CaseIterable, Sendable {
    /// lora_A = ½(A_i + A_j), lora_B = ½(B_i + B_j); needs equal ranks and scalings.
    case comb
    /// The exact average ½(ΔW_i + ΔW_j) at rank r_i + r_j, scaling 1 (the config is rewritten).
    case cat
    /// That average truncated by SVD to the host's rank, for the host's scaling.
    case svd

    /// The method as a formula, as `tvgeo-merge.json` records it.
    public var formula: String {
        switch self {
        case .comb: return "lora_A = (A_i + A_j) / 2, lora_B = (B_i + B_j) / 2"
        case .cat: return "lora_B = [s_i B_i, s_j B_j] / 2, lora_A = [A_i; A_j], scaling 1: B A = (dW_i + dW_j) / 2"
        case .svd: return "s_i B A = U_k S_k V_k^T, the rank-r_i truncated SVD of (dW_i + dW_j) / 2; "
                          + "B = U_k sqrt(S_k) / sqrt(s_i), A = sqrt(S_k) V_k^T / sqrt(s_i)"
        }
    }
}
