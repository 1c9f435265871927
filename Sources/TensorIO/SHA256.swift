#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics

/// SHA-256 (FIPS 180-4): the digests a merge records of its inputs and a report's provenance
/// records of every input file.
public struct SHA256 {
    private var state: [UInt32] = SHA256.initialState
    private var pending: [UInt8] = []
    private var length: UInt64 = 0
    /// The message schedule, reused for every 64-byte block.
    private var schedule = [UInt32](repeating: 0, count: 64)

    public init() {}

    /// The first 32 bits of the fractional parts of the square roots of the first 8 primes.
    static let initialState: [UInt32] = primes(8).map { fractionBits(of: $0, root: 2) }
    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    static let roundConstants: [UInt32] = primes(64).map { fractionBits(of: $0, root: 3) }

    public mutating func update(_ bytes: some Collection<UInt8>) {
        length &+= UInt64(bytes.count)
        pending.append(contentsOf: bytes)
        let whole = pending.count / 64 * 64
        guard whole > 0 else { return }
        let blocks = pending
        pending.removeFirst(whole)
        blocks.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: whole, by: 64) { compress(buffer, at: start) }
        }
    }

    /// The digest; the value is finished and should not be updated again.
    public mutating func finish() -> [UInt8] {
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
        tail += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * (7 - UInt64($0)))) }
        let savedLength = length
        update(tail)
        length = savedLength
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * (3 - UInt32($0)))) } }
    }

    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hexString(hash.finish())
    }

    /// The digest of a file, read in 1 MiB chunks.
    public static func hex(ofFile path: String) throws(ToolError) -> String {
        guard let handle = fopen(path, "rb") else {
            throw .missingInput(path: path, problem: errno == EACCES ? "permission denied" : "no such file or directory")
        }
        defer { fclose(handle) }
        var hash = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = fread(&chunk, 1, chunk.count, handle)
            if count > 0 { hash.update(chunk[0..<count]) }
            if count < chunk.count {
                if ferror(handle) != 0 { throw .missingInput(path: path, problem: "read error") }
                break
            }
        }
        return hexString(hash.finish())
    }

    /// Lowercase hex of a digest.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    private mutating func compress(_ buffer: UnsafeBufferPointer<UInt8>, at start: Int) {
        // Unchecked pointers: with bounds checks on every word, hashing the inputs was a visible
        // part of a report's time.
        var (a0, b0, c0, d0, e0, f0, g0, h0) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
        Self.roundConstants.withUnsafeBufferPointer { k in
            schedule.withUnsafeMutableBufferPointer { w in
                for t in 0..<16 {
                    let base = start + 4 * t
                    w[t] = UInt32(buffer[base]) << 24 | UInt32(buffer[base + 1]) << 16 | UInt32(buffer[base + 2]) << 8 | UInt32(buffer[base + 3])
                }
                for t in 16..<64 {
                    let s0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3)
                    let s1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = (a0, b0, c0, d0, e0, f0, g0, h0)
                for t in 0..<64 {
                    let sum1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
                    let choose = (e & f) ^ (~e & g)
                    let t1 = h &+ sum1 &+ choose &+ k[t] &+ w[t]
                    let sum0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = sum0 &+ majority
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                }
                a0 &+= a; b0 &+= b; c0 &+= c; d0 &+= d; e0 &+= e; f0 &+= f; g0 &+= g; h0 &+= h
            }
        }
        state = [a0, b0, c0, d0, e0, f0, g0, h0]
    }

    private static func primes(_ count: Int) -> [UInt64] {
        var found: [UInt64] = []
        var candidate: UInt64 = 2
        while found.count < count {
            if !found.contains(where: { candidate % $0 == 0 }) { found.append(candidate) }
            candidate += 1
        }
        return found
    }

    /// floor(p^(1/root) · 2³²) mod 2³², exactly: the largest x with x^root ≤ p · 2^(32·root).
    private static func fractionBits(of prime: UInt64, root: Int) -> UInt32 {
        let target = UInt128(prime) << (32 * root)
        func power(_ x: UInt128) -> UInt128 { root == 2 ? x * x : x * x * x }
        var x = UInt128((root == 2 ? Double(prime).squareRoot() : cbrt(Double(prime))) * 4294967296.0)
        while power(x + 1) <= target { x += 1 }
        while power(x) > target { x -= 1 }
        return UInt32(truncatingIfNeeded: x)
    }
}

@inline(__always) private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
