/// The factors of one adapted weight: ΔW = s·B·A, B (d_out × r), A (r × d_in).
/// A is held transposed (d_in × r, column-major), which is exactly A's row-major bytes.
public struct LoRAFactors: Sendable {
    public var b: Matrix
    public var aTransposed: Matrix
    public var scaling: Double

    public init(b: Matrix, aTransposed: Matrix, scaling: Double) {
        precondition(b.cols == aTransposed.cols, "LoRAFactors: B has \(b.cols) columns, Aᵀ has \(aTransposed.cols)")
        self.b = b
        self.aTransposed = aTransposed
        self.scaling = scaling
    }

    public var rank: Int { b.cols }
    public var outFeatures: Int { b.rows }
    public var inFeatures: Int { aTransposed.rows }

    /// The dense ΔW = s·B·A (d_out × d_in). For tests and small references only: the analysis
    /// never forms it.
    public var denseDelta: Matrix {
        Matrix.multiply(b, aTransposed, transposeB: true).scaled(by: scaling)
    }
}

/// The distances tvgeo computes between two task vectors.
public enum DistanceMetric: String, CaseIterable, Sendable, Comparable {
    /// ‖ΔW_i − ΔW_j‖_F, in the units of the weights; 0 on the diagonal; always defined.
    case l2
    /// 1 − ⟨ΔW_i, ΔW_j⟩_F / (‖ΔW_i‖_F ‖ΔW_j‖_F), in [0, 2]; undefined (NaN) when a ΔW is zero.
    case cosine
    /// √(Σ θ²) over the principal angles between the column spaces of ΔW_i and ΔW_j, in radians,
    /// in [0, √k·π/2]; undefined when a ΔW is zero.
    case grassmann
    /// The same between the column spaces of B_i and B_j; undefined when a B is zero.
    case grassmannB = "grassmann_b"
    /// The same between the row spaces of A_i and A_j; undefined when an A is zero.
    case grassmannA = "grassmann_a"

    public static func < (lhs: DistanceMetric, rhs: DistanceMetric) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The subspace a Grassmann metric compares, or nil for l2 and cosine.
    public var subspace: SubspaceKind? {
        switch self {
        case .grassmann: return .delta
        case .grassmannB: return .b
        case .grassmannA: return .a
        default: return nil
        }
    }
}

/// Which subspace of an adapter a Grassmann distance uses.
public enum SubspaceKind: String, CaseIterable, Sendable {
    /// Im(ΔW): the column space of s·B·A.
    case delta
    /// Im(B).
    case b
    /// Im(Aᵀ): the row space of A.
    case a
}
