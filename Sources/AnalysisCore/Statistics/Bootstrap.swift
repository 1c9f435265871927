/// SplitMix64 (Steele, Lea & Flood): a small, fully specified generator, so that bootstrap
/// intervals are reproducible bit for bit on every machine and by other implementations.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum Bootstrap {
    /// The seed of every bootstrap ("tvgeo" in ASCII), restarted for each interval.
    public static let seed: UInt64 = 0x74_7667_656F
    public static let resamples = 10_000

    /// The 95 % percentile interval of the mean of `values`: 10 000 resamples with replacement,
    /// indices drawn as `next() % n` from `SplitMix64(seed:)`, percentiles by linear
    /// interpolation (NumPy's default). nil with fewer than two values.
    public static func meanInterval95(_ values: [Double], resamples: Int = resamples, seed: UInt64 = seed) -> (Double, Double)? {
        let n = values.count
        guard n >= 2 else { return nil }
        var generator = SplitMix64(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        for b in 0..<resamples {
            var sum = 0.0
            for _ in 0..<n { sum += values[Int(generator.next() % UInt64(n))] }
            means[b] = sum / Double(n)
        }
        means.sort()
        return (percentile(means, 2.5), percentile(means, 97.5))
    }

    /// The q-th percentile (0–100) of sorted values, linear interpolation between neighbours.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = Double(sorted.count - 1) * q / 100
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}
