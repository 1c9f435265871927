import Foundation

/// Tick positions on 1-2-5 steps and their labels, shared by every axis and colour bar.
public struct TickSet: Hashable, Sendable {
    /// Tick values, ascending, inside `domain`.
    public var values: [Double]
    /// The labels of `values`, with one number of decimals for all.
    public var labels: [String]
    /// Distance between neighbouring ticks: 1, 2 or 5 × 10ⁿ.
    public var step: Double
    /// The digits after the decimal point in every label (0 for integer steps).
    public var decimals: Int
    /// The range the ticks were chosen for: the input range, widened when it had zero width, and
    /// grown to the outer ticks when nice bounds were asked for.
    public var domain: ClosedRange<Double>
}

/// The "nice numbers" tick algorithm.
///
/// A step is the smallest of 1, 2 or 5 × 10ⁿ that is at least (range ÷ target count), so an axis
/// gets between about 0.4 and 1 times the target count of intervals. Values are computed as
/// integer multiples of the step divided by a power of ten, so 3 × 0.1 is exactly the double
/// nearest 0.3 and labels never read "0.30000000000000004".
public enum NiceTicks {
    /// The nice step for a raw step: (mantissa ∈ {1, 2, 5}, exponent).
    public static func niceStep(atLeast raw: Double) -> (mantissa: Int, exponent: Int) {
        guard raw.isFinite, raw > 0 else { return (1, 0) }
        var exponent = Int(log10(raw).rounded(.down))
        let fraction = raw / pow(10, Double(exponent))
        let mantissa: Int
        if fraction <= 1 + 1e-9 { mantissa = 1 }
        else if fraction <= 2 + 1e-9 { mantissa = 2 }
        else if fraction <= 5 + 1e-9 { mantissa = 5 }
        else { mantissa = 1; exponent += 1 }
        return (mantissa, exponent)
    }

    /// The range actually used for `lower...upper`. The bounds are swapped when reversed. A
    /// non-finite bound is replaced by the other one; with neither finite the range is 0...1. A
    /// zero-width range around v is widened to v ± 10 % of |v| (−1...1 around 0).
    public static func sanitizedRange(_ lower: Double, _ upper: Double) -> ClosedRange<Double> {
        var lo = lower, hi = upper
        if !lo.isFinite && !hi.isFinite { return 0...1 }
        if !lo.isFinite { lo = hi }
        if !hi.isFinite { hi = lo }
        if lo > hi { swap(&lo, &hi) }
        let magnitude = max(abs(lo), abs(hi))
        if hi - lo <= magnitude * 1e-12 {
            let middle = (lo + hi) / 2
            if middle == 0 { return -1...1 }
            let half = abs(middle) * 0.1
            return (middle - half)...(middle + half)
        }
        return lo...hi
    }

    /// Ticks for `lower...upper` with about `targetCount` intervals (at least 1).
    /// - Parameters:
    ///   - expandToNiceBounds: grow the domain outwards to the nearest ticks (for value axes);
    ///     otherwise only ticks inside the range are returned (colour bars, padded scatter axes).
    ///   - integerSteps: never step below 1 (layer indices).
    ///   - asciiMinus: label negatives with "-" instead of "−".
    ///   - minimumCount: ask for more intervals until at least this many ticks fall inside the range
    ///     (a 1-2-5 step can otherwise leave a short axis with a single tick); at most 50 intervals.
    public static func ticks(
        _ lower: Double, _ upper: Double, targetCount: Int = 5,
        expandToNiceBounds: Bool = false, integerSteps: Bool = false, asciiMinus: Bool = false,
        minimumCount: Int
    ) -> TickSet {
        var count = max(targetCount, 1)
        var set = ticks(lower, upper, targetCount: count, expandToNiceBounds: expandToNiceBounds,
                        integerSteps: integerSteps, asciiMinus: asciiMinus)
        while set.values.count < minimumCount && count < 50 {
            count += 1
            set = ticks(lower, upper, targetCount: count, expandToNiceBounds: expandToNiceBounds,
                        integerSteps: integerSteps, asciiMinus: asciiMinus)
        }
        return set
    }

    public static func ticks(
        _ lower: Double, _ upper: Double, targetCount: Int = 5,
        expandToNiceBounds: Bool = false, integerSteps: Bool = false, asciiMinus: Bool = false
    ) -> TickSet {
        let range = sanitizedRange(lower, upper)
        let intervals = Double(max(targetCount, 1))
        // Divide before subtracting so that ±greatestFiniteMagnitude does not overflow.
        var (mantissa, exponent) = niceStep(atLeast: range.upperBound / intervals - range.lowerBound / intervals)
        if integerSteps && exponent < 0 { (mantissa, exponent) = (1, 0) }
        let step = value(index: 1, mantissa: mantissa, exponent: exponent)
        let epsilon = 1e-9
        var first = (range.lowerBound / step + (expandToNiceBounds ? epsilon : -epsilon))
        var last = (range.upperBound / step + (expandToNiceBounds ? -epsilon : epsilon))
        first = expandToNiceBounds ? first.rounded(.down) : first.rounded(.up)
        last = expandToNiceBounds ? last.rounded(.up) : last.rounded(.down)
        // Guard against absurd counts (cannot happen for sanitised ranges, but never loop forever).
        guard first.isFinite, last.isFinite, last - first < 10_000, abs(first) < 1e15, abs(last) < 1e15 else {
            return TickSet(values: [], labels: [], step: step, decimals: 0, domain: range)
        }
        let firstIndex = Int64(first), lastIndex = Int64(last)
        var values: [Double] = []
        if firstIndex <= lastIndex {
            for i in firstIndex...lastIndex { values.append(value(index: i, mantissa: mantissa, exponent: exponent)) }
        }
        let domain = expandToNiceBounds && !values.isEmpty
            ? min(values.first!, range.lowerBound)...max(values.last!, range.upperBound)
            : range
        let decimals = max(0, -exponent)
        return TickSet(values: values, labels: labels(for: values, step: step, decimals: decimals, asciiMinus: asciiMinus),
                       step: step, decimals: decimals, domain: domain)
    }

    /// i × mantissa × 10^exponent, computed so that decimal steps are exact to the last bit.
    static func value(index i: Int64, mantissa: Int, exponent: Int) -> Double {
        let multiple = Double(i * Int64(mantissa))
        let v = exponent >= 0 ? multiple * pow(10, Double(exponent)) : multiple / pow(10, Double(-exponent))
        return v == 0 ? 0 : v  // no −0
    }

    /// Fixed-point labels, or scientific ones when the numbers are very large or small.
    static func labels(for values: [Double], step: Double, decimals: Int, asciiMinus: Bool) -> [String] {
        let largest = values.map(abs).max() ?? 0
        if largest >= 1e6 || (step < 1e-4 && largest < 1e-2) {
            // One mantissa precision for all: enough digits to show the step.
            let stepExponent = Int(log10(step).rounded(.down))
            return values.map { v in
                guard v != 0 else { return "0" }
                let valueExponent = Int(log10(abs(v)).rounded(.down))
                return NumberFormat.scientific(v, decimals: max(0, valueExponent - stepExponent), asciiMinus: asciiMinus)
            }
        }
        return values.map { NumberFormat.fixed($0, decimals: decimals, asciiMinus: asciiMinus) }
    }
}

/// A linear map from a data domain to page coordinates. A zero-width domain maps to the middle
/// of the range; non-finite input gives a non-finite output.
public struct LinearScale: Hashable, Sendable {
    public var domain: ClosedRange<Double>
    /// Page coordinates of domain.lowerBound and domain.upperBound (may be decreasing, as on y axes).
    public var start: Double
    public var end: Double

    public init(domain: ClosedRange<Double>, start: Double, end: Double) {
        self.domain = domain
        self.start = start
        self.end = end
    }

    public func callAsFunction(_ value: Double) -> Double {
        let width = domain.upperBound - domain.lowerBound
        guard width > 0 else { return (start + end) / 2 }
        return start + (value - domain.lowerBound) / width * (end - start)
    }
}
