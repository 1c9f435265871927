import JSONText

/// One unit of work of a split study: the pairs (i, j), i in `rows`, j in `columns`, of block
/// `block` (an index into the study's blocks in (module, layer) order). Units cover the upper
/// triangle of each block's N×N matrix exactly once; the lower triangle is its mirror.
public struct PartUnit: Equatable, Sendable {
    public var block: Int
    public var rows: Range<Int>
    public var columns: Range<Int>

    public init(block: Int, rows: Range<Int>, columns: Range<Int>) {
        (self.block, self.rows, self.columns) = (block, rows, columns)
    }

    /// A tile on the diagonal also carries its adapters' norms and subspace ranks.
    public var isDiagonal: Bool { rows == columns }
}

/// How `tvgeo analyze --part K/N` splits a study: a pure value of three numbers (blocks,
/// adapters, parts), so every part and `tvgeo combine` derive the same units.
///
/// - Units are whole blocks when there are at least as many blocks as parts and at most
///   `maxTileAdapters` adapters; otherwise each block's adapters are cut into `tilesPerSide`
///   equal ranges of `tileSize` (the last shorter) and the units are the tiles (a, b), a ≤ b, of
///   the upper triangle: t(t+1)/2 per block, t the smallest count that gives every part a unit
///   and keeps tiles within `maxTileAdapters` (which bounds a part's memory; see docs/distributed.md).
/// - Units are listed block by block, tiles in row-major order; part k (1-based) of P takes the
///   contiguous run [⌊(k−1)U/P⌋, ⌊kU/P⌋) of the U units, so parts differ by at most one unit and
///   a part touches few blocks (it reads only those blocks' tensors).
/// - An off-diagonal tile computes its two ranges of adapters together, so it costs about twice
///   its own pairs; the diagonal tile costs its own.
public struct PartPlan: Equatable, Sendable {
    /// Most adapters on one side of a tile. An off-diagonal tile stacks 2·128 adapters: at d = 4096,
    /// r = 16 (total rank 4096) the stacked B and Aᵀ take 2 × 134 MB and their Gram products
    /// 2 × 134 MB, about 0.54 GB per worker thread.
    public static let maxTileAdapters = 128

    public let blockCount: Int
    public let adapterCount: Int
    public let partCount: Int
    /// Adapters per tile side (`adapterCount` when units are whole blocks).
    public let tileSize: Int

    /// `blocks` ≥ 1, `adapters` ≥ 1, `parts` ≥ 1 (preconditions: the CLI validates them).
    public init(blocks: Int, adapters: Int, parts: Int, maxTileAdapters: Int = PartPlan.maxTileAdapters) {
        precondition(blocks >= 1 && adapters >= 1 && parts >= 1 && maxTileAdapters >= 1)
        blockCount = blocks
        adapterCount = adapters
        partCount = parts
        var sides = 1
        // More tiles per side only while that adds units (a tile holds at least one adapter).
        while sides < adapters && (blocks * sides * (sides + 1) / 2 < parts || (adapters + sides - 1) / sides > maxTileAdapters) {
            sides += 1
        }
        tileSize = (adapters + sides - 1) / sides
    }

    /// Tiles per side of a block (1: whole blocks).
    public var tilesPerSide: Int { (adapterCount + tileSize - 1) / tileSize }

    public var unitCount: Int { blockCount * tilesPerSide * (tilesPerSide + 1) / 2 }

    /// Every unit, in plan order.
    public var units: [PartUnit] {
        let sides = tilesPerSide
        func range(_ tile: Int) -> Range<Int> { (tile * tileSize)..<min(adapterCount, (tile + 1) * tileSize) }
        var units: [PartUnit] = []
        units.reserveCapacity(unitCount)
        for block in 0..<blockCount {
            for row in 0..<sides {
                for column in row..<sides { units.append(PartUnit(block: block, rows: range(row), columns: range(column))) }
            }
        }
        return units
    }

    /// The indices into `units` of part `part` (1-based, 1...partCount); empty when there are
    /// fewer units than parts.
    public func share(ofPart part: Int) -> Range<Int> {
        precondition((1...partCount).contains(part))
        return (unitCount * (part - 1) / partCount)..<(unitCount * part / partCount)
    }

    var json: JSONValue {
        .object([("blocks", .int(blockCount)), ("adapters", .int(adapterCount)), ("parts", .int(partCount)),
                 ("tile_size", .int(tileSize)), ("tiles_per_side", .int(tilesPerSide)), ("units", .int(unitCount))])
    }
}
