import Study
import XCTest

final class PartPlanTests: XCTestCase {
    /// Every pair (i ≤ j) of every block is in exactly one unit, and the parts' shares partition
    /// the units in order.
    func testUnitsCoverEveryBlocksUpperTriangleOnceAndSharesPartitionThem() {
        for (blocks, adapters, parts) in [(12, 8, 4), (12, 8, 7), (1, 64, 4), (2, 64, 4), (3, 5, 40), (1, 1, 3), (8, 300, 16), (1, 2, 9)] {
            let plan = PartPlan(blocks: blocks, adapters: adapters, parts: parts)
            let units = plan.units
            XCTAssertEqual(units.count, plan.unitCount)
            var seen = [Int](repeating: 0, count: blocks * adapters * adapters)
            for unit in units {
                for i in unit.rows {
                    for j in unit.columns where i <= j { seen[(unit.block * adapters + i) * adapters + j] += 1 }
                }
                // Off-diagonal tiles lie wholly above the diagonal: nothing is computed twice.
                if !unit.isDiagonal { XCTAssertLessThanOrEqual(unit.rows.upperBound, unit.columns.lowerBound) }
            }
            for block in 0..<blocks {
                for i in 0..<adapters {
                    for j in i..<adapters {
                        XCTAssertEqual(seen[(block * adapters + i) * adapters + j], 1,
                                       "block \(block) pair \(i),\(j) of \((blocks, adapters, parts))")
                    }
                }
            }
            var next = 0
            for part in 1...parts {
                let share = plan.share(ofPart: part)
                XCTAssertEqual(share.lowerBound, next)
                XCTAssertLessThanOrEqual(share.count, plan.unitCount / parts + 1)
                next = share.upperBound
            }
            XCTAssertEqual(next, plan.unitCount)
        }
    }

    func testWholeBlocksWhenThereAreEnoughTilesWhenNot() {
        let whole = PartPlan(blocks: 12, adapters: 8, parts: 4)
        XCTAssertEqual(whole.tilesPerSide, 1)
        XCTAssertEqual(whole.unitCount, 12)
        // One block for four parts: the smallest t with t(t+1)/2 ≥ 4 is 3.
        let tiled = PartPlan(blocks: 1, adapters: 64, parts: 4)
        XCTAssertEqual(tiled.tilesPerSide, 3)
        XCTAssertEqual(tiled.tileSize, 22)
        XCTAssertEqual(tiled.unitCount, 6)
        XCTAssertEqual(tiled.units.last, PartUnit(block: 0, rows: 44..<64, columns: 44..<64))
        // Many adapters: tiles stay within the bound even with few parts.
        let large = PartPlan(blocks: 128, adapters: 2_000, parts: 1)
        XCTAssertLessThanOrEqual(large.tileSize, PartPlan.maxTileAdapters)
        XCTAssertEqual(large.tilesPerSide, 16)
        XCTAssertEqual(large.tileSize, 125)
        XCTAssertEqual(large.unitCount, 128 * 136)
        // More parts than pairs: the extra parts have empty shares.
        let tiny = PartPlan(blocks: 1, adapters: 2, parts: 9)
        XCTAssertEqual(tiny.unitCount, 3)
        XCTAssertEqual((1...9).map { tiny.share(ofPart: $0).count }.reduce(0, +), 3)
    }
}
