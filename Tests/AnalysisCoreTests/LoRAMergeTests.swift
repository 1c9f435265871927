import AnalysisCore
import TVGeoTestSupport
import XCTest

final class LoRAMergeTests: XCTestCase {
    func randomFactors(_ random: inout SeededRandom, out: Int, in inFeatures: Int, rank: Int, scaling: Double) -> LoRAFactors {
        LoRAFactors(b: Matrix(rows: out, cols: rank, values: random.gaussians(out * rank)),
                    aTransposed: Matrix(rows: inFeatures, cols: rank, values: random.gaussians(inFeatures * rank)),
                    scaling: scaling)
    }

    /// max |x − y| / max |y|: a relative difference of whole matrices.
    func relativeDifference(_ x: Matrix, _ y: Matrix) -> Double {
        (x - y).values.map(abs).max()! / y.values.map(abs).max()!
    }

    /// ½(ΔW_p + ΔW_q), dense.
    func average(_ p: LoRAFactors, _ q: LoRAFactors) -> Matrix {
        let (x, y) = (p.denseDelta, q.denseDelta)
        return Matrix(rows: x.rows, cols: x.cols, values: zip(x.values, y.values).map { ($0 + $1) / 2 })
    }

    func testCombAveragesEveryElement() {
        var random = SeededRandom(seed: 1)
        let x = random.gaussians(200), y = random.gaussians(200)
        XCTAssertEqual(LoRAMerge.average(x, y, round: { $0 }), zip(x, y).map { ($0 + $1) * 0.5 })
        // In float32 the result is PyTorch's (a + b) * 0.5, also across very different magnitudes.
        let a = x.map { Double(Float($0)) }
        let b = y.enumerated().map { Double(Float($1 * pow(2, -Double($0 % 64)))) }
        let merged = LoRAMerge.average(a, b, round: { Double(Float($0)) })
        XCTAssertEqual(merged, zip(a, b).map { Double((Float($0) + Float($1)) * Float(0.5)) })
        // Float16: PyTorch adds in float32 and rounds the sum, then the half, to float16.
        let c = x.map { Double(Float16($0)) }, d = y.map { Double(Float16($0 * 3)) }
        let half = LoRAMerge.average(c, d, round: { Double(Float16($0)) })
        XCTAssertEqual(half, zip(c, d).map { Double(Float16(Float(Float16(Float($0) + Float($1))) * 0.5)) })
        XCTAssertNotEqual(half, zip(c, d).map { ($0 + $1) * 0.5 }, "the rounding to float16 must show")
    }

    func testCatIsTheExactAverage() {
        var random = SeededRandom(seed: 2)
        let p = randomFactors(&random, out: 11, in: 9, rank: 2, scaling: 2)
        let q = randomFactors(&random, out: 11, in: 9, rank: 3, scaling: 0.75)
        let merged = LoRAMerge.concatenate(p, q)
        XCTAssertEqual(merged.rank, 5)
        XCTAssertEqual(merged.scaling, 1)
        XCTAssertEqual(merged.b.columns(0..<2), p.b)   // s_i / 2 = 1: B_i unchanged
        XCTAssertEqual(merged.aTransposed.columns(2..<5), q.aTransposed)
        XCTAssertLessThan(relativeDifference(merged.denseDelta, average(p, q)), 1e-12)
        // A wrong weighting (no ½) would be far off: the comparison can fail.
        XCTAssertGreaterThan(relativeDifference(merged.denseDelta.scaled(by: 2), average(p, q)), 0.5)
    }

    func testSVDIsTheBestApproximationOfTheAverageAndReportsItsError() throws {
        var random = SeededRandom(seed: 3)
        for (out, inFeatures, ri, rj, si, sj) in [(13, 10, 3, 2, 2.0, 0.5), (10, 13, 4, 4, 0.25, 4.0), (6, 6, 3, 4, 1.0, 1.0)] {
            let p = randomFactors(&random, out: out, in: inFeatures, rank: ri, scaling: si)
            let q = randomFactors(&random, out: out, in: inFeatures, rank: rj, scaling: sj)
            let result = try LoRAMerge.truncatedAverage(p, q, rank: ri, scaling: si)
            XCTAssertEqual(result.factors.rank, ri)
            XCTAssertEqual(result.factors.scaling, si)
            XCTAssertEqual(result.factors.outFeatures, out)
            XCTAssertEqual(result.factors.inFeatures, inFeatures)
            // Dense reference: project the average onto its top r_i left singular vectors.
            let dense = average(p, q)
            let (u, sigma) = try Factorizations.leftSingularVectors(dense)
            let top = u.columns(0..<ri)
            let best = Matrix.multiply(top, Matrix.multiply(top, transposeA: true, dense))
            XCTAssertLessThan(relativeDifference(result.factors.denseDelta, best), 1e-11, "\(out)×\(inFeatures)")
            for m in 0..<min(sigma.count, result.singularValues.count) {
                XCTAssertEqual(result.singularValues[m], sigma[m], accuracy: 1e-11 * sigma[0])
            }
            let error = (dense - result.factors.denseDelta).frobeniusNorm / dense.frobeniusNorm
            XCTAssertEqual(result.relativeError, error, accuracy: 1e-11)
            XCTAssertGreaterThan(result.relativeError, 0.01, "the truncation discards something here")
            let tail = sigma.dropFirst(ri).reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(result.absoluteError, tail, accuracy: 1e-11 * sigma[0])
            // √Σ is split evenly: ‖column m of B′‖ = ‖row m of A′‖ = √(σ_m / s).
            for m in 0..<ri {
                let bNorm = result.factors.b.columns(m..<(m + 1)).frobeniusNorm
                let aNorm = result.factors.aTransposed.columns(m..<(m + 1)).frobeniusNorm
                XCTAssertEqual(bNorm, (sigma[m] / si).squareRoot(), accuracy: 1e-10)
                XCTAssertEqual(aNorm, (sigma[m] / si).squareRoot(), accuracy: 1e-10)
            }
            assertSignRule(result.factors.b)
        }
    }

    func assertSignRule(_ b: Matrix, flipped: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        for m in 0..<b.cols {
            let column = (0..<b.rows).map { b[$0, m] }
            let position = column.indices.max { abs(column[$0]) < abs(column[$1]) || (abs(column[$0]) == abs(column[$1]) && $0 > $1) }!
            guard column[position] != 0 else { continue }
            XCTAssertEqual(column[position] > 0, !flipped, "column \(m): largest entry \(column[position])", file: file, line: line)
        }
    }

    func testSignRuleNegativeScalingAndTies() throws {
        var random = SeededRandom(seed: 4)
        let p = randomFactors(&random, out: 8, in: 7, rank: 2, scaling: -1.5)
        let q = randomFactors(&random, out: 8, in: 7, rank: 2, scaling: 3)
        let result = try LoRAMerge.truncatedAverage(p, q, rank: 2, scaling: -1.5)
        let dense = average(p, q)
        let (u, _) = try Factorizations.leftSingularVectors(dense)
        let top = u.columns(0..<2)
        XCTAssertLessThan(relativeDifference(result.factors.denseDelta, Matrix.multiply(top, Matrix.multiply(top, transposeA: true, dense))), 1e-11)
        // B′ = sign(s)·U√Σ/√|s|: with s < 0 its columns carry the opposite sign of the left vectors.
        assertSignRule(result.factors.b, flipped: true)

        // Ties: the lowest index decides; v flips with u.
        var left = Matrix(rows: 3, cols: 2, values: [0.5, -0.5, 0.1, -0.5, 0.5, 0.1])
        var right = Matrix(rows: 2, cols: 2, values: [1, 2, 3, 4])
        LoRAMerge.canonicalizeSigns(u: &left, v: &right)
        XCTAssertEqual(left.values, [0.5, -0.5, 0.1, 0.5, -0.5, -0.1])
        XCTAssertEqual(right.values, [1, 2, -3, -4])
        var zero = Matrix(zeros: 2, 1), partner = Matrix(rows: 1, cols: 1, values: [-1])
        LoRAMerge.canonicalizeSigns(u: &zero, v: &partner)
        XCTAssertEqual(partner.values, [-1])
    }

    func testSVDOfAnAdapterWithItselfReproducesIt() throws {
        var random = SeededRandom(seed: 5)
        let p = randomFactors(&random, out: 12, in: 9, rank: 3, scaling: 2)
        let result = try LoRAMerge.truncatedAverage(p, p, rank: 3, scaling: 2)
        XCTAssertLessThan(relativeDifference(result.factors.denseDelta, p.denseDelta), 1e-12)
        XCTAssertLessThan(result.relativeError, 1e-13)
    }

    func testZeroAverageAndRankBeyondTheAverage() throws {
        var random = SeededRandom(seed: 6)
        let p = randomFactors(&random, out: 5, in: 4, rank: 2, scaling: 1)
        // Cancelling updates: numerically zero.
        let minus = LoRAFactors(b: p.b.scaled(by: -1), aTransposed: p.aTransposed, scaling: 1)
        let cancelled = try LoRAMerge.truncatedAverage(p, minus, rank: 2, scaling: 1)
        XCTAssertLessThan(cancelled.factors.denseDelta.frobeniusNorm, 1e-14 * p.denseDelta.frobeniusNorm)
        // Untrained adapters (B = 0): exactly zero, and the relative error is undefined.
        let untrained = LoRAFactors(b: Matrix(zeros: 5, 2), aTransposed: p.aTransposed, scaling: 1)
        let zero = try LoRAMerge.truncatedAverage(untrained, untrained, rank: 2, scaling: 1)
        XCTAssertTrue(zero.relativeError.isNaN)
        XCTAssertEqual(zero.absoluteError, 0)
        XCTAssertEqual(zero.factors.b.frobeniusNorm, 0)
        // Only min(d_out, d_in, r_i + r_j) = 4 singular values: the extra columns are zero.
        let q = randomFactors(&random, out: 5, in: 4, rank: 3, scaling: 1)
        let wide = try LoRAMerge.truncatedAverage(p, q, rank: 6, scaling: 1)
        XCTAssertEqual(wide.singularValues.count, 4)
        XCTAssertEqual(wide.factors.rank, 6)
        XCTAssertEqual(wide.factors.b.columns(4..<6).frobeniusNorm, 0)
        XCTAssertEqual(wide.relativeError, 0)
        XCTAssertLessThan(relativeDifference(wide.factors.denseDelta, average(p, q)), 1e-12)
    }
}
