@testable import Charts
import XCTest

final class NiceTicksTests: XCTestCase {
    func testStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 0.17) == (2, -1))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 0.2) == (2, -1))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 0.21) == (5, -1))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 7) == (1, 1))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 1) == (1, 0))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: 0) == (1, 0))
        XCTAssertTrue(NiceTicks.niceStep(atLeast: .nan) == (1, 0))
        for raw in stride(from: 0.0013, to: 5000, by: 7.77) {
            let (mantissa, exponent) = NiceTicks.niceStep(atLeast: raw)
            XCTAssertTrue([1, 2, 5].contains(mantissa))
            let step = Double(mantissa) * pow(10, Double(exponent))
            XCTAssertGreaterThanOrEqual(step, raw * (1 - 1e-9))
            XCTAssertLessThan(step, raw * 2.5 + 1e-12)
        }
    }

    func testUnitRange() {
        let ticks = NiceTicks.ticks(0, 1)
        XCTAssertEqual(ticks.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(ticks.decimals, 1)
        XCTAssertEqual(ticks.step, 0.2, accuracy: 1e-15)
    }

    func testDecimalTicksAreExactAndLabelsClean() {
        let ticks = NiceTicks.ticks(0, 0.3, targetCount: 3)
        XCTAssertEqual(ticks.values, [0, 0.1, 0.2, 0.3])  // exact doubles: 3 × 0.1 would be 0.30000000000000004
        XCTAssertEqual(ticks.labels, ["0.0", "0.1", "0.2", "0.3"])
        for lower in stride(from: -3.0, to: 3, by: 0.37) {
            for target in [3, 5, 7] {
                let set = NiceTicks.ticks(lower, lower + 0.713, targetCount: target)
                for label in set.labels {
                    XCTAssertLessThanOrEqual(label.count, 8, "label \(label) too long")
                    XCTAssertFalse(label.contains("000000"), label)
                }
                // One number of decimals for every label.
                let decimals = Set(set.labels.map { $0.split(separator: ".").dropFirst().first?.count ?? 0 })
                XCTAssertEqual(decimals.count, 1, "\(set.labels)")
            }
        }
    }

    func testTicksStayInsideOrExpandToNiceBounds() {
        let inside = NiceTicks.ticks(0.13, 0.87)
        XCTAssertEqual(inside.values.first!, 0.2, accuracy: 1e-12)
        XCTAssertEqual(inside.values.last!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(inside.domain, 0.13...0.87)
        let expanded = NiceTicks.ticks(0.13, 0.87, expandToNiceBounds: true)
        XCTAssertEqual(expanded.values.first!, 0, accuracy: 1e-12)
        XCTAssertEqual(expanded.values.last!, 1, accuracy: 1e-12)
        XCTAssertEqual(expanded.domain.lowerBound, 0, accuracy: 1e-12)
        XCTAssertEqual(expanded.domain.upperBound, 1, accuracy: 1e-12)
    }

    func testZeroWidthRangesAreWidened() {
        XCTAssertEqual(NiceTicks.sanitizedRange(0, 0), -1...1)
        let five = NiceTicks.sanitizedRange(5, 5)
        XCTAssertEqual(five.lowerBound, 4.5, accuracy: 1e-12)
        XCTAssertEqual(five.upperBound, 5.5, accuracy: 1e-12)
        let ticks = NiceTicks.ticks(5, 5)
        XCTAssertGreaterThanOrEqual(ticks.values.count, 3)
        XCTAssertTrue(ticks.values.contains { abs($0 - 5) < 1e-12 })
        XCTAssertEqual(NiceTicks.ticks(0, 0).labels, ["−1.0", "−0.5", "0.0", "0.5", "1.0"])
    }

    func testNonFiniteAndReversedInputNeverTraps() {
        XCTAssertEqual(NiceTicks.sanitizedRange(.nan, .nan), 0...1)
        XCTAssertEqual(NiceTicks.sanitizedRange(-.infinity, .infinity), 0...1)
        XCTAssertEqual(NiceTicks.sanitizedRange(.nan, 2).lowerBound, 1.8, accuracy: 1e-12)
        XCTAssertEqual(NiceTicks.sanitizedRange(3, 1), 1...3)
        XCTAssertFalse(NiceTicks.ticks(.nan, .infinity).values.isEmpty)
        XCTAssertFalse(NiceTicks.ticks(-.greatestFiniteMagnitude, .greatestFiniteMagnitude).values.isEmpty)
        XCTAssertFalse(NiceTicks.ticks(1e300, 1e300).values.isEmpty)
        XCTAssertFalse(NiceTicks.ticks(Double.leastNonzeroMagnitude, 2 * Double.leastNonzeroMagnitude).values.isEmpty)
        XCTAssertEqual(NiceTicks.ticks(0, 1, targetCount: 0).values.count, 2)
    }

    func testNegativeLabelsUseTheMinusSignAndNoNegativeZero() {
        let ticks = NiceTicks.ticks(-1, 1)
        XCTAssertEqual(ticks.labels.first, "−1.0")
        XCTAssertTrue(ticks.labels.contains("0.0"))
        XCTAssertFalse(ticks.labels.contains { $0.hasPrefix("-") })
        XCTAssertEqual(NiceTicks.ticks(-1, 1, asciiMinus: true).labels.first, "-1.0")
    }

    func testIntegerStepsForLayers() {
        let ticks = NiceTicks.ticks(0, 3, targetCount: 10, integerSteps: true)
        XCTAssertEqual(ticks.values, [0, 1, 2, 3])
        XCTAssertEqual(ticks.labels, ["0", "1", "2", "3"])
        XCTAssertEqual(NiceTicks.ticks(0, 23, targetCount: 5, integerSteps: true).values, [0, 5, 10, 15, 20])
    }

    func testLargeAndTinyNumbersUseScientificLabels() {
        let large = NiceTicks.ticks(0, 3e7, targetCount: 3)
        XCTAssertEqual(large.labels, ["0", "1×10⁷", "2×10⁷", "3×10⁷"])
        let tiny = NiceTicks.ticks(0, 3e-5, targetCount: 3)
        XCTAssertEqual(tiny.labels, ["0", "1×10⁻⁵", "2×10⁻⁵", "3×10⁻⁵"])
        let big = NiceTicks.ticks(1000, 5000, targetCount: 4)
        XCTAssertEqual(big.labels, ["1000", "2000", "3000", "4000", "5000"])
    }

    func testLinearScaleMapsAndHandlesZeroWidth() {
        let scale = LinearScale(domain: 0...10, start: 100, end: 0)
        XCTAssertEqual(scale(0), 100)
        XCTAssertEqual(scale(2.5), 75)
        XCTAssertEqual(LinearScale(domain: 1...1, start: 0, end: 10)(1), 5)
    }
}

final class NumberFormatTests: XCTestCase {
    func testFixed() {
        XCTAssertEqual(NumberFormat.fixed(0.1 + 0.2, decimals: 2), "0.30")
        XCTAssertEqual(NumberFormat.fixed(-0.0, decimals: 2), "0.00")
        XCTAssertEqual(NumberFormat.fixed(-0.001, decimals: 2), "0.00")
        XCTAssertEqual(NumberFormat.fixed(-0.42, decimals: 2), "−0.42")
        XCTAssertEqual(NumberFormat.fixed(-0.42, decimals: 2, asciiMinus: true), "-0.42")
        XCTAssertEqual(NumberFormat.fixed(3, decimals: 0), "3")
        XCTAssertEqual(NumberFormat.fixed(.nan, decimals: 2), "NaN")
        XCTAssertEqual(NumberFormat.fixed(.infinity, decimals: 2), "∞")
        XCTAssertEqual(NumberFormat.fixed(-.infinity, decimals: 2), "−∞")
        XCTAssertEqual(NumberFormat.fixed(1.5, decimals: 99), "1.500000000000")
    }

    func testPercentAndScientific() {
        XCTAssertEqual(NumberFormat.percent(0.623), "62.3 %")
        XCTAssertEqual(NumberFormat.percent(1), "100.0 %")
        XCTAssertEqual(NumberFormat.scientific(2.5e-5, decimals: 1), "2.5×10⁻⁵")
        XCTAssertEqual(NumberFormat.scientific(-4e12, decimals: 0), "−4×10¹²")
        XCTAssertEqual(NumberFormat.scientific(9.96e3, decimals: 1), "1.0×10⁴")
        XCTAssertEqual(NumberFormat.scientific(0, decimals: 1), "0")
    }
}

final class NiceTicksMinimumCountTests: XCTestCase {
    /// A short axis over −22.5…40.7 with three intervals gets a step of 50 and one tick; asking for
    /// at least three ticks refines the step.
    func testMinimumCountRefinesACoarseStep() {
        XCTAssertEqual(NiceTicks.ticks(-22.5, 40.7, targetCount: 3).values, [0])
        let refined = NiceTicks.ticks(-22.5, 40.7, targetCount: 3, minimumCount: 3)
        XCTAssertEqual(refined.values, [-20, 0, 20, 40])
        XCTAssertEqual(refined.labels, ["−20", "0", "20", "40"])
        // Already enough: unchanged.
        XCTAssertEqual(NiceTicks.ticks(0, 10, targetCount: 5, minimumCount: 3).values, NiceTicks.ticks(0, 10, targetCount: 5).values)
    }
}
