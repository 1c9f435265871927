import Diagnostics

/// LoRA beside full fine-tuning in one (module, layer) block: LoRA updates ΔWᵢ = sᵢ·Bᵢ·Aᵢ against
/// full fine-tuning task vectors τⱼ = Wⱼ − W₀ of the same shape, without forming any ΔW.
///
/// - cosine distance 1 − ⟨ΔWᵢ, τⱼ⟩_F / (‖ΔWᵢ‖_F ‖τⱼ‖_F), in [0, 2] (clamped against rounding), for
///   every LoRA update i (rows) and task vector j (columns); NaN when either is zero. The inner
///   product is s·tr(Bᵀ·τ·Aᵀ) (one r × d_out by d_out × d_in product, then an r × r trace) and
///   ‖ΔW‖² = s²·tr((BᵀB)(AAᵀ)) from two r × r Grams.
/// - Grassmann distance d_G = √Σθ² (radians) between Im(ΔWᵢ) and the span of τᵢ's top-r left
///   singular vectors, r = the LoRA rank of the block (the same task only: `pairs` gives which τ
///   goes with which update). Im(ΔW) comes from B's thin QR B = U·R and Aᵀ = V·S: it is U times
///   the leading left singular vectors of the core s·R·Sᵀ, of its numerical rank (SciPy's `orth`
///   rule on the dense ΔW, as `BlockGeometry`); τ's subspace comes from
///   `FullTaskVectors.leadingSubspaces` (k capped at τ's numerical rank). NaN when either is {0}.
public enum CrossKindGeometry {
    public struct BlockResult: Sendable, Equatable {
        /// cosine[i][j]: LoRA update i against task vector j.
        public var cosine: [[Double]]
        /// grassmann[p] for the p-th entry of `pairs`.
        public var grassmann: [Double]
    }

    /// `updates` and `taskVectors` share one d_out × d_in shape; `pairs` lists (update, task
    /// vector) index pairs that are the same task. `seed` is passed to the range finder (only used
    /// above `FullTaskVectors.exactLimit`).
    public static func analyze(updates: [LoRAFactors], taskVectors: [Matrix], pairs: [(Int, Int)],
                               seed: UInt64 = Bootstrap.seed) throws(ToolError) -> BlockResult {
        for (index, update) in updates.enumerated() {
            for (other, tau) in taskVectors.enumerated() where tau.rows != update.outFeatures || tau.cols != update.inFeatures {
                throw .internalError("cross-kind block: LoRA update \(index) is \(update.outFeatures)×\(update.inFeatures), "
                                     + "task vector \(other) is \(tau.rows)×\(tau.cols)")
            }
        }
        let updateNorms = updates.map(frobeniusNorm)
        let tauNorms = taskVectors.map(\.frobeniusNorm)
        var cosine = [[Double]](repeating: [Double](repeating: .nan, count: taskVectors.count), count: updates.count)
        for (i, update) in updates.enumerated() {
            for (j, tau) in taskVectors.enumerated() where updateNorms[i] > 0 && tauNorms[j] > 0 {
                cosine[i][j] = min(2, max(0, 1 - innerProduct(update, tau) / (updateNorms[i] * tauNorms[j])))
            }
        }
        var grassmann: [Double] = []
        for (index, (i, j)) in pairs.enumerated() {
            grassmann.append(try grassmannDistance(updates[i], taskVectors[j], seed: seed &+ UInt64(index)))
        }
        return BlockResult(cosine: cosine, grassmann: grassmann)
    }

    /// ⟨s·B·A, τ⟩_F = s·tr(Bᵀ·τ·Aᵀ).
    public static func innerProduct(_ update: LoRAFactors, _ tau: Matrix) -> Double {
        let projected = Matrix.multiply(update.b, transposeA: true, tau)  // r × d_in
        let a = update.aTransposed  // d_in × r
        var trace = 0.0
        for k in 0..<update.rank {
            for column in 0..<tau.cols { trace += projected[k, column] * a[column, k] }
        }
        return update.scaling * trace
    }

    /// ‖s·B·A‖_F = |s|·√tr((BᵀB)(AAᵀ)), from the two r × r Grams.
    public static func frobeniusNorm(_ update: LoRAFactors) -> Double {
        let gramB = Matrix.multiply(update.b, transposeA: true, update.b)
        let gramA = Matrix.multiply(update.aTransposed, transposeA: true, update.aTransposed)
        // tr(G_B·G_A) = Σ_kl G_B[k,l]·G_A[l,k]; both symmetric positive semidefinite, so ≥ 0 up to rounding.
        let squared = Matrix.frobeniusInner(gramB, gramA)
        return abs(update.scaling) * max(0, squared).squareRoot()
    }

    /// d_G between Im(s·B·A) and τ's top-r left singular subspace (r = B's column count); NaN
    /// when either subspace is {0}.
    public static func grassmannDistance(_ update: LoRAFactors, _ tau: Matrix, seed: UInt64) throws(ToolError) -> Double {
        let (u, r) = try Factorizations.thinQR(update.b)
        let (_, s) = try Factorizations.thinQR(update.aTransposed)
        let core = Matrix.multiply(r, s, transposeB: true).scaled(by: update.scaling)
        let image = try Subspace(core: core, denseRows: update.outFeatures, denseCols: update.inFeatures)
        let leading = try FullTaskVectors.leadingSubspaces(tau, k: update.rank, seed: seed).left
        let host = u.columns(0..<core.rows)
        let cross = Matrix.multiply(host, transposeA: true, leading)
        let (angles, _) = try BlockGeometry.principalAngles(image, Subspace(wholeHostOfRank: leading.cols), hostCross: cross) {
            (host, leading)
        }
        return angles.map(PrincipalAngles.grassmannDistance) ?? .nan
    }
}
