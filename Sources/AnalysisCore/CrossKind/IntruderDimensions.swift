import Diagnostics

/// Intruder dimensions (Shuttleworth et al., 2024, "LoRA vs Full Fine-tuning: An Illusion of
/// Equivalence"): a left singular vector yⱼ of the fine-tuned W_t = W₀ + ΔW among its top k is an
/// intruder when max_i |cos(yⱼ, xᵢ)| < ε over all left singular vectors xᵢ of W₀. The singular
/// vectors of W₀ are computed once per block (`BaseVectors`) and shared by every task and kind.
public enum IntruderDimensions {
    public static let defaultK = 10
    public static let defaultEpsilon = 0.5

    /// The left singular vectors of one pre-trained block W₀ (d_out × min(d_out, d_in)), unit columns.
    public struct BaseVectors: Sendable {
        public var vectors: Matrix

        public init(base: Matrix) throws(ToolError) {
            vectors = try Factorizations.svdDivideAndConquer(base).u
        }
    }

    /// The number of intruders among the top min(k, min(d_out, d_in)) left singular vectors of
    /// `weight` (the fine-tuned W_t, same shape as the base), in [0, k]. Singular vectors are unit
    /// vectors, so |cos| is the absolute inner product.
    public static func count(in weight: Matrix, base: BaseVectors, k: Int, epsilon: Double) throws(ToolError) -> Int {
        precondition(k >= 0 && weight.rows == base.vectors.rows)
        let top = try Factorizations.svdDivideAndConquer(weight).u
        let leading = top.columns(0..<min(k, top.cols))
        let similarity = Matrix.multiply(leading, transposeA: true, base.vectors)  // k × min(d_out, d_in)
        var intruders = 0
        for row in 0..<similarity.rows {
            var largest = 0.0
            for column in 0..<similarity.cols { largest = max(largest, abs(similarity[row, column])) }
            if largest < epsilon { intruders += 1 }
        }
        return intruders
    }

    /// W₀ + s·B·A, the LoRA-fine-tuned weight (dense d_out × d_in: the SVD of W_t needs it).
    public static func adapted(_ base: Matrix, by update: LoRAFactors) -> Matrix {
        precondition(base.rows == update.outFeatures && base.cols == update.inFeatures)
        var weight = Matrix.multiply(update.b, update.aTransposed, transposeB: true).scaled(by: update.scaling)
        for index in weight.values.indices { weight.values[index] += base.values[index] }
        return weight
    }
}
