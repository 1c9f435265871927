import CLapack

/// Which OpenBLAS kernels this process runs. OpenBLAS picks its kernels when it loads, from the
/// CPU's model number; a CPU newer than the library (OpenBLAS 0.3.21 on a 2023 Xeon) falls back
/// to its SSE3 kernels ("Prescott"), a third slower on tvgeo's products than the AVX-512 ones the
/// CPU has. `OPENBLAS_CORETYPE`, read at load, overrides the choice (the CLI re-executes with it).
public enum BLASCore {
    /// OpenBLAS's description of its build and kernels, e.g.
    /// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64".
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The kernel family OpenBLAS chose at load ("Prescott", "Haswell", "SkylakeX", …).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Kernel families that use no AVX: what OpenBLAS falls back to for an x86 CPU it does not know.
    static let kernelsWithoutAVX: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
        "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat",
    ]

    /// Whether `core` is one of the SSE-only families (the only choice `preferredCore` corrects).
    public static func usesKernelsWithoutAVX(_ core: String) -> Bool { kernelsWithoutAVX.contains(core.lowercased()) }

    /// The kernel family to ask for instead of `current`, or nil to keep it. Only a fallback to
    /// SSE kernels is corrected (a choice OpenBLAS made knowingly is kept), and only to a family
    /// whose instructions `cpuFlags` (the `flags` of /proc/cpuinfo, which the kernel clears for
    /// state the OS does not save) all lists: AVX-512 F/CD/BW/DQ/VL → "SkylakeX", AVX2 + FMA →
    /// "Haswell", AVX → "Sandybridge".
    public static func preferredCore(current: String, cpuFlags: Set<String>) -> String? {
        guard usesKernelsWithoutAVX(current) else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        if cpuFlags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// The `flags` of the first processor in a /proc/cpuinfo text (empty when there is none).
    public static func cpuFlags(fromCPUInfo text: String) -> Set<String> {
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }
}
