/// The factors of one (module, layer) block for N adapters, stacked side by side in two
/// column-major matrices: B = [B₁ … B_N] (d_out × R) and Aᵀ = [A₁ᵀ … A_Nᵀ] (d_in × R), R = Σ rᵢ.
/// Adapter i owns columns `offsets[i] ..< offsets[i] + ranks[i]`.
///
/// The caller fills the stacks (a loader writes tensors straight into them) and
/// `BlockGeometry.analyze(_:)` factorises them in place. Reusing one value for block after block
/// of the same shape reuses its memory: no allocation, no page faults in the hot loop.
public struct StackedBlock: Sendable {
    public private(set) var outFeatures = 0
    public private(set) var inFeatures = 0
    public private(set) var ranks: [Int] = []
    public private(set) var offsets: [Int] = []
    public var scalings: [Double] = []
    /// B stack, d_out × R column-major.
    public var b: [Double] = []
    /// Aᵀ stack, d_in × R column-major (each Aᵢ's row-major bytes, as stored).
    public var aTransposed: [Double] = []
    // Scratch kept across blocks: the two Gram matrices.
    var gramU: [Double] = []
    var gramV: [Double] = []

    public init() {}

    /// Shapes the stacks for adapters of the given ranks (requires rᵢ ≤ min(d_out, d_in)),
    /// keeping the storage of earlier blocks. Contents are unspecified until filled.
    public mutating func reset(outFeatures: Int, inFeatures: Int, ranks: [Int], scalings: [Double]) {
        precondition(ranks.count == scalings.count)
        precondition(ranks.allSatisfy { $0 >= 1 && $0 <= min(outFeatures, inFeatures) },
                     "StackedBlock: ranks \(ranks) must be in 1...min(\(outFeatures), \(inFeatures))")
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.ranks = ranks
        self.scalings = scalings
        var running = 0
        offsets = ranks.map { rank in defer { running += rank }; return running }
        Self.resize(&b, to: outFeatures * running)
        Self.resize(&aTransposed, to: inFeatures * running)
    }

    public var count: Int { ranks.count }
    public var totalRank: Int { (offsets.last ?? 0) + (ranks.last ?? 0) }

    /// Columns of adapter `i` in the stacks.
    public func columns(_ i: Int) -> Range<Int> { offsets[i]..<(offsets[i] + ranks[i]) }

    /// A block holding copies of the given factors (tests and small callers).
    public init(_ factors: [LoRAFactors]) {
        let first = factors.first
        reset(outFeatures: first?.outFeatures ?? 0, inFeatures: first?.inFeatures ?? 0,
              ranks: factors.map(\.rank), scalings: factors.map(\.scaling))
        for (i, factor) in factors.enumerated() {
            precondition(factor.outFeatures == outFeatures && factor.inFeatures == inFeatures)
            b.replaceSubrange((offsets[i] * outFeatures)..<((offsets[i] + ranks[i]) * outFeatures), with: factor.b.values)
            aTransposed.replaceSubrange((offsets[i] * inFeatures)..<((offsets[i] + ranks[i]) * inFeatures), with: factor.aTransposed.values)
        }
    }

    static func resize(_ array: inout [Double], to count: Int) {
        if array.count > count {
            array.removeLast(array.count - count)
        } else if array.count < count {
            array.append(contentsOf: repeatElement(0, count: count - array.count))
        }
    }
}
