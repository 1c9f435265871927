import AnalysisCore
import XCTest

final class BLASCoreTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    func testAnSSEFallbackOnAnAVXMachineAsksForTheWidestKernelsTheFlagsAllow() {
        XCTAssertEqual(BLASCore.preferredCore(current: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASCore.preferredCore(current: "Nehalem", cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
        XCTAssertEqual(BLASCore.preferredCore(current: "Core2", cpuFlags: ["sse4_2", "avx"]), "Sandybridge")
        // AVX-512 without BW/DQ/VL (Knights Landing) is not enough for SkylakeX's kernels.
        XCTAssertEqual(BLASCore.preferredCore(current: "Prescott", cpuFlags: ["avx", "avx2", "fma", "avx512f", "avx512cd"]), "Haswell")
    }

    func testAKnownChoiceOrAMachineWithoutAVXIsKept() {
        for core in ["Haswell", "SkylakeX", "Cooperlake", "Zen", "Sandybridge", "ARMV8", "NEOVERSEN1"] {
            XCTAssertNil(BLASCore.preferredCore(current: core, cpuFlags: avx512), core)
        }
        XCTAssertNil(BLASCore.preferredCore(current: "Prescott", cpuFlags: ["sse3", "ssse3", "sse4_2"]))
        XCTAssertNil(BLASCore.preferredCore(current: "Prescott", cpuFlags: []))
    }

    func testFlagsComeFromTheFirstProcessor() {
        let info = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse3 avx2 fma\n\n"
            + "processor\t: 1\nflags\t\t: fpu\n"
        XCTAssertEqual(BLASCore.cpuFlags(fromCPUInfo: info), ["fpu", "sse3", "avx2", "fma"])
        XCTAssertEqual(BLASCore.cpuFlags(fromCPUInfo: "processor : 0\n"), [])
    }

    func testTheLoadedLibraryNamesItsKernels() {
        XCTAssertTrue(BLASCore.configuration.hasPrefix("OpenBLAS "), BLASCore.configuration)
        XCTAssertTrue(BLASCore.configuration.contains(BLASCore.coreName), BLASCore.configuration)
    }
}
