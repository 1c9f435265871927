#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One scratch file per fuzzing process, rewritten for every input, for parsers that only take
/// a path. Lives in $TMPDIR (or /tmp) and is removed at exit.
public final class TempInput: @unchecked Sendable {
    public let path: String

    public init(suffix: String) {
        let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        path = "\(folder)/tvgeo-fuzz-\(getpid())\(suffix)"
        let copy = strdup(path)!
        TempInput.registered = copy
        atexit { if let p = TempInput.registered { unlink(p) } }
    }

    nonisolated(unsafe) private static var registered: UnsafeMutablePointer<CChar>?

    /// Replaces the file's contents with `size` bytes at `data`.
    public func write(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var written = 0
        while written < size, let data {
            let n = Glibc.write(fd, data + written, size - written)
            precondition(n > 0, "cannot write \(path)")
            written += n
        }
        close(fd)
    }
}

/// libFuzzer's driver, exported by the runtime that `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// Runs libFuzzer with the process's arguments and `callback` (the target's
/// `LLVMFuzzerTestOneInput`), then exits with its status. SwiftPM makes every executable's `main`
/// the module's own entry point (it links `--defsym main=<Module>_main`), so libFuzzer's `main`
/// is never reached; each target's main.swift calls this instead.
public func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}
