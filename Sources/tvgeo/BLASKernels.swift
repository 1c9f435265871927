import AnalysisCore
import Foundation

/// Re-executes tvgeo once with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to SSE kernels on
/// a CPU with AVX (BLASCore.preferredCore): the variable is read only when the library loads,
/// before `main`. A user's own `OPENBLAS_CORETYPE` is kept, and `TVGEO_BLAS_REEXEC` marks the
/// second process so it never loops. If exec fails, the run goes on with the kernels it has.
enum BLASKernels {
    static func useTheCPUsKernels() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["TVGEO_BLAS_REEXEC"] == nil else { return }
        let current = BLASCore.coreName
        // Most machines stop here, before reading /proc/cpuinfo.
        guard BLASCore.usesKernelsWithoutAVX(current),
              let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let core = BLASCore.preferredCore(current: current, cpuFlags: BLASCore.cpuFlags(fromCPUInfo: info))
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("TVGEO_BLAS_REEXEC", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
