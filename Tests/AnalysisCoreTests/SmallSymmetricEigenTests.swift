@testable import AnalysisCore
import CLapack
import TVGeoTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SmallSymmetricEigenTests: XCTestCase {
    private let eps = Double.ulpOfOne

    // MARK: - Helpers

    /// Our eigenvalues of a column-major n × n matrix (copied; the copy is destroyed).
    private func ours(_ a: [Double], _ n: Int) -> (ok: Bool, values: [Double]) {
        var work = a
        var values = [Double](repeating: -42, count: n)
        var scratch = [Double](repeating: 0, count: 2 * n)
        let ok = work.withUnsafeMutableBufferPointer { w in
            values.withUnsafeMutableBufferPointer { v in
                scratch.withUnsafeMutableBufferPointer { s in
                    SmallSymmetricEigen.values(w.baseAddress!, n: n, into: v.baseAddress!, scratch: s.baseAddress!)
                }
            }
        }
        return (ok, values)
    }

    /// LAPACK's eigenvalues (dsyev, values only), descending.
    private func reference(_ a: [Double], _ n: Int) -> [Double] {
        var work = a
        var values = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyev(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")),
                                 Int32(n), &work, Int32(n), &values)
        XCTAssertEqual(info, 0)
        return values.reversed()
    }

    private func randomSymmetric(_ n: Int, _ rng: inout SeededRandom, scale: Double = 1) -> [Double] {
        var a = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in j..<n {
                let x = scale * Double.random(in: -1..<1, using: &rng)
                a[i + j * n] = x
                a[j + i * n] = x
            }
        }
        return a
    }

    private func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout SeededRandom) -> Matrix {
        Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Double.random(in: -1..<1, using: &rng) })
    }

    private func randomOrthogonal(_ n: Int, _ rng: inout SeededRandom) throws -> Matrix {
        let q = try Factorizations.thinQR(randomMatrix(n, n, &rng)).q
        XCTAssertEqual(q.rows, n)
        XCTAssertEqual(q.cols, n)
        return q
    }

    /// Q·diag(s)·Qᵀ, symmetrized exactly.
    private func similar(_ q: Matrix, _ s: [Double]) -> [Double] {
        let n = s.count
        var a = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in j..<n {
                var sum = 0.0
                for k in 0..<n { sum += q[i, k] * s[k] * q[j, k] }
                a[i + j * n] = sum
                a[j + i * n] = sum
            }
        }
        return a
    }

    /// The lower triangle mirrored into the upper one (BLAS products need not be bit-symmetric).
    private func symmetrized(_ m: Matrix) -> [Double] {
        let n = m.rows
        var a = m.values
        for j in 0..<n { for i in (j + 1)..<n { a[j + i * n] = a[i + j * n] } }
        return a
    }

    private func tridiagonal(_ d: [Double], _ e: [Double]) -> [Double] {
        let n = d.count
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * (n + 1)] = d[i] }
        for i in 0..<(n - 1) {
            a[(i + 1) + i * n] = e[i]
            a[i + (i + 1) * n] = e[i]
        }
        return a
    }

    private func assertClose(_ got: [Double], _ want: [Double], tolerance: Double, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        var worst = 0.0
        for (g, w) in zip(got, want) {
            let error = abs(g - w)
            if !(error <= worst) { worst = error }
        }
        XCTAssertTrue(worst <= tolerance, "\(label): max error \(worst) > tolerance \(tolerance)", file: file, line: line)
        for i in 1..<max(1, got.count) {
            XCTAssertGreaterThanOrEqual(got[i - 1], got[i], "\(label): not descending", file: file, line: line)
        }
    }

    private func norm2(_ values: [Double]) -> Double {
        values.reduce(0) { max($0, abs($1)) }
    }

    // MARK: - Random symmetric matrices vs LAPACK

    func testRandomSymmetricMatchesLAPACK() {
        var rng = SeededRandom(seed: 0x5EED_0001)
        for n in Array(1...16) + [32, 64] {
            for trial in 0..<(n <= 16 ? 20 : 5) {
                let a = randomSymmetric(n, &rng)
                let want = reference(a, n)
                let got = ours(a, n)
                XCTAssertTrue(got.ok, "n = \(n) trial \(trial)")
                assertClose(got.values, want, tolerance: 8 * Double(n) * eps * norm2(want), "random n = \(n) trial \(trial)")
            }
        }
    }

    // MARK: - Gram matrices

    func testGramMatricesMatchLAPACK() throws {
        var rng = SeededRandom(seed: 0x5EED_0002)
        for n in [8, 16] {
            for trial in 0..<10 {
                let m = randomMatrix(n, n, &rng)
                let gram = symmetrized(Matrix.multiply(m, transposeA: true, m))
                let want = reference(gram, n)
                let got = ours(gram, n)
                XCTAssertTrue(got.ok)
                assertClose(got.values, want, tolerance: 8 * Double(n) * eps * norm2(want), "Gram n = \(n) trial \(trial)")
                XCTAssertGreaterThanOrEqual(got.values[n - 1], -8 * Double(n) * eps * norm2(want), "PSD")
            }
        }
    }

    func testGramMatricesWithSpreadSingularValues() throws {
        var rng = SeededRandom(seed: 0x5EED_0003)
        for n in [8, 16] {
            for trial in 0..<10 {
                let q1 = try randomOrthogonal(n, &rng), q2 = try randomOrthogonal(n, &rng)
                // σ log-spaced over 1e-8 … 1.
                let sigma = (0..<n).map { pow(10, -8 * Double($0) / Double(n - 1)) }
                var scaled = q1
                for j in 0..<n { for i in 0..<n { scaled[i, j] *= sigma[j] } }
                let m = Matrix.multiply(scaled, q2.transposed)
                let gram = symmetrized(Matrix.multiply(m, transposeA: true, m))
                let want = reference(gram, n)
                let got = ours(gram, n)
                XCTAssertTrue(got.ok)
                let tolerance = 8 * Double(n) * eps * norm2(want)
                assertClose(got.values, want, tolerance: tolerance, "spread Gram n = \(n) trial \(trial)")
                // And against the exact σ² (the construction's own rounding is ~ n·ε).
                assertClose(got.values, sigma.map { $0 * $0 }, tolerance: tolerance, "spread Gram vs σ² n = \(n)")
            }
        }
    }

    // MARK: - Structured inputs

    func testZeroMatrix() {
        for n in [1, 2, 8, 16] {
            let got = ours([Double](repeating: 0, count: n * n), n)
            XCTAssertTrue(got.ok)
            XCTAssertEqual(got.values, [Double](repeating: 0, count: n))
        }
        let empty = ours([], 0)
        XCTAssertTrue(empty.ok)
        XCTAssertEqual(empty.values, [])
    }

    func testScaledIdentityAndRepeatedDiagonalAreExact() {
        for n in [1, 3, 8] {
            let got = ours(Matrix.identity(n).values.map { 3 * $0 }, n)
            XCTAssertTrue(got.ok)
            XCTAssertEqual(got.values, [Double](repeating: 3, count: n))
        }
        let diagonal = [0.1, -2.5, 0.1, 7, 1e-300, -2.5, 0.1, 3e200]
        let got = ours(tridiagonal(diagonal, [Double](repeating: 0, count: 7)), 8)
        XCTAssertTrue(got.ok)
        XCTAssertEqual(got.values, diagonal.sorted(by: >))
    }

    func testFourFoldRepeatedEigenvalue() throws {
        var rng = SeededRandom(seed: 0x5EED_0004)
        let spectrum = [2.0, 2, 2, 2, 1, 0, -1, 5]
        for trial in 0..<10 {
            let q = try randomOrthogonal(8, &rng)
            let a = similar(q, spectrum)
            let got = ours(a, 8)
            XCTAssertTrue(got.ok)
            assertClose(got.values, spectrum.sorted(by: >), tolerance: 8 * 8 * eps * 5, "repeated trial \(trial)")
            assertClose(got.values, reference(a, 8), tolerance: 8 * 8 * eps * 5, "repeated vs LAPACK trial \(trial)")
        }
    }

    func testTridiagonalWithTinyOffDiagonals() {
        var rng = SeededRandom(seed: 0x5EED_0005)
        for n in [2, 8, 16] {
            let d = (0..<n).map { _ in Double.random(in: -1..<1, using: &rng) }
            let a = tridiagonal(d, [Double](repeating: 1e-300, count: n - 1))
            let got = ours(a, n)
            XCTAssertTrue(got.ok)
            // 1e-300 couplings are far below ε·|d|: the diagonal comes back unchanged.
            XCTAssertEqual(got.values, d.sorted(by: >), "n = \(n)")
        }
        // Tiny couplings between equal zeros: eigenvalues ±1e-300-scale, computed without underflow.
        let a = tridiagonal([0, 0, 0, 0], [1e-300, 1e-300, 1e-300])
        let got = ours(a, 4)
        XCTAssertTrue(got.ok)
        let golden = (1 + 5.0.squareRoot()) / 2
        assertClose(got.values, [golden, golden - 1, 1 - golden, -golden].map { $0 * 1e-300 },
                    tolerance: 32 * eps * 2e-300, "tiny path graph")
    }

    func testHugeEntriesDoNotOverflow() {
        var rng = SeededRandom(seed: 0x5EED_0006)
        for scale in [1e150, 1e300, 1e-150, 1e-300] {
            for n in [3, 8, 16] {
                let d = (0..<n).map { _ in scale * Double.random(in: -1..<1, using: &rng) }
                let e = (0..<(n - 1)).map { _ in scale * Double.random(in: -1..<1, using: &rng) }
                let tri = tridiagonal(d, e)
                let dense = randomSymmetric(n, &rng, scale: scale)
                for (label, a) in [("tridiagonal", tri), ("dense", dense)] {
                    let got = ours(a, n)
                    XCTAssertTrue(got.ok, "\(label) scale \(scale) n = \(n)")
                    XCTAssertTrue(got.values.allSatisfy(\.isFinite), "\(label) scale \(scale) n = \(n)")
                    let want = reference(a, n)
                    let norm = norm2(want)
                    XCTAssertGreaterThan(norm, 0)
                    // Relative to ‖A‖: compare the eigenvalues divided by ‖A‖.
                    assertClose(got.values.map { $0 / norm }, want.map { $0 / norm }, tolerance: 8 * Double(n) * eps,
                                "\(label) scale \(scale) n = \(n)")
                }
            }
        }
    }

    func testAlreadyTridiagonalInput() {
        var rng = SeededRandom(seed: 0x5EED_0007)
        for n in [2, 3, 8, 16, 64] {
            let d = (0..<n).map { _ in Double.random(in: -1..<1, using: &rng) }
            let e = (0..<(n - 1)).map { _ in Double.random(in: -1..<1, using: &rng) }
            let a = tridiagonal(d, e)
            let want = reference(a, n)
            let got = ours(a, n)
            XCTAssertTrue(got.ok)
            assertClose(got.values, want, tolerance: 8 * Double(n) * eps * norm2(want), "tridiagonal n = \(n)")
        }
        // The Wilkinson matrix W21⁺ has pairs of eigenvalues agreeing to ~1e-14 … 1e-1.
        let n = 21
        let a = tridiagonal((0..<n).map { abs(Double($0) - 10) }, [Double](repeating: 1, count: n - 1))
        let want = reference(a, n)
        let got = ours(a, n)
        XCTAssertTrue(got.ok)
        assertClose(got.values, want, tolerance: 8 * Double(n) * eps * norm2(want), "Wilkinson W21+")
    }

    // MARK: - Non-finite input

    func testNaNAndInfinityAreRejected() {
        var rng = SeededRandom(seed: 0x5EED_0008)
        for bad in [Double.nan, .infinity, -.infinity] {
            for n in [1, 2, 8] {
                var a = randomSymmetric(n, &rng)
                let i = n - 1, j = n / 2
                a[i + j * n] = bad
                a[j + i * n] = bad
                let got = ours(a, n)
                XCTAssertFalse(got.ok, "\(bad) n = \(n)")
                XCTAssertEqual(got.values.count, n)
                XCTAssertTrue(got.values.allSatisfy(\.isNaN), "\(bad) n = \(n): \(got.values)")
            }
        }
    }

    // MARK: - Invariants

    func testOrthogonalSimilarityAndTrace() throws {
        var rng = SeededRandom(seed: 0x5EED_0009)
        for n in [4, 8, 16, 32] {
            for trial in 0..<5 {
                let a = randomSymmetric(n, &rng)
                let q = try randomOrthogonal(n, &rng)
                let rotated = Matrix.multiply(Matrix.multiply(q, transposeA: true, Matrix(rows: n, cols: n, values: a)), q)
                let b = symmetrized(rotated)
                let ea = ours(a, n), eb = ours(b, n)
                XCTAssertTrue(ea.ok && eb.ok)
                let norm = norm2(ea.values)
                let tolerance = 8 * Double(n) * eps * norm
                assertClose(eb.values, ea.values, tolerance: tolerance, "QᵀAQ n = \(n) trial \(trial)")
                var trace = 0.0
                for i in 0..<n { trace += a[i * (n + 1)] }
                let sum = ea.values.reduce(0, +)
                XCTAssertEqual(sum, trace, accuracy: tolerance, "trace n = \(n) trial \(trial)")
            }
        }
    }

    // MARK: - Timing (printed, not asserted)

    func testPerformancePrint() {
        #if DEBUG
        let calls = 2_000
        #else
        let calls = 100_000
        #endif
        var rng = SeededRandom(seed: 0x5EED_000A)
        for n in [8, 16] {
            let source = randomSymmetric(n, &rng)
            // Buffers allocated once, outside the timed loops, for both solvers.
            let original = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
            let work = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
            let values = UnsafeMutablePointer<Double>.allocate(capacity: n)
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
            defer { for buffer in [original, work, values, scratch] { buffer.deallocate() } }
            for i in 0..<(n * n) { original[i] = source[i] }
            var checksum = 0.0

            // LAPACK workspace query, then the values-only driver with its workspace reused.
            var query = 0.0
            work.update(from: original, count: n * n)
            var info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")),
                                          Int32(n), work, Int32(n), values, &query, -1)
            XCTAssertEqual(info, 0)
            let lwork = max(1, Int(query))
            let lapackWork = UnsafeMutablePointer<Double>.allocate(capacity: lwork)
            defer { lapackWork.deallocate() }

            var allConverged = true
            let oursTime = seconds {
                for _ in 0..<calls {
                    work.update(from: original, count: n * n)
                    allConverged = SmallSymmetricEigen.values(work, n: n, into: values, scratch: scratch) && allConverged
                    checksum += values[0]
                }
            }
            let lapackTime = seconds {
                for _ in 0..<calls {
                    work.update(from: original, count: n * n)
                    info |= LAPACKE_dsyev_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")),
                                               Int32(n), work, Int32(n), values, lapackWork, Int32(lwork))
                    checksum += values[n - 1]
                }
            }
            let wrapperCalls = max(1, calls / 10)
            let matrix = Matrix(rows: n, cols: n, values: source)
            let wrapperTime = seconds {
                for _ in 0..<wrapperCalls {
                    checksum += (try? Factorizations.symmetricEigen(matrix).values[0]) ?? 0
                }
            }
            XCTAssertTrue(allConverged)
            XCTAssertEqual(info, 0)
            XCTAssertTrue(checksum.isFinite)
            let perCall = { (t: Double, count: Int) in String(format: "%.3f", t / Double(count) * 1e6) }
            print("SmallSymmetricEigen n = \(n): ours \(perCall(oursTime, calls)) µs/call, "
                  + "LAPACKE_dsyev_work('N') \(perCall(lapackTime, calls)) µs/call, "
                  + "Factorizations.symmetricEigen (dsyevd, vectors) \(perCall(wrapperTime, wrapperCalls)) µs/call "
                  + "[\(calls) calls, checksum \(checksum)]")
        }
    }

    private func seconds(_ body: () -> Void) -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }

    /// The cheap full-rank test of a LoRA factor's triangle: a lower bound on σ_min/σ_max that is
    /// never above the truth, close to it for well-conditioned factors, and 0 where the
    /// eigenvalues of RᵀR cannot resolve it (the caller then takes the SVD).
    func testConditionLowerBoundOfKnownSpectra() throws {
        var rng = SeededRandom(seed: 7)
        for ratio in [1.0, 0.3, 1e-3, 1e-5, 1e-6, 1e-7, 1e-9, 1e-12, 0] {
            let n = 8
            var sigma = (0..<n).map { 1 - Double($0) / Double(n) * 0.5 }
            sigma[n - 1] = ratio
            var diagonal = Matrix(zeros: n, n)
            for k in 0..<n { diagonal[k, k] = sigma[k] * 3.5 }
            let m = try randomOrthogonal(n, &rng) * diagonal * randomOrthogonal(n, &rng).transposed
            let bound = AdapterBasis.conditionLowerBound(m)
            let truth = sigma.min()! / sigma.max()!
            XCTAssertLessThanOrEqual(bound, truth * (1 + 1e-10) + 1e-15, "ratio \(ratio)")
            if ratio >= 1e-5 { XCTAssertGreaterThan(bound, truth * 0.99, "ratio \(ratio)") }
            if ratio <= 1e-9 { XCTAssertEqual(bound, 0, "ratio \(ratio)") }
        }
        XCTAssertEqual(AdapterBasis.conditionLowerBound(Matrix(zeros: 4, 4)), 0)
        XCTAssertEqual(AdapterBasis.conditionLowerBound(Matrix(rows: 2, cols: 2, values: [.nan, 0, 0, 1])), 0)
    }
}
