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
