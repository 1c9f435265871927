#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Diagnostics

/// A regular file mapped read-only, shared by the tensor readers. Opening refuses folders, FIFOs
/// and devices (which could block forever) with `.missingInput`; the mapping is released when the
/// value goes away.
final class MappedFile: @unchecked Sendable {
    /// Files at least this large give their pages back after each tensor is read.
    static let releaseThreshold = 4 << 20
    /// Linux maps up to 16 pages around a faulting page (`fault_around_bytes`, 64 KiB).
    static let faultAroundBytes = 64 << 10

    let path: String
    let bytes: UnsafeRawBufferPointer

    /// `expected` completes "is a directory, expected …" (e.g. "a .safetensors file").
    init(path: String, expected: String) throws(ToolError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .missingInput(path: path, problem: Self.errnoText(errno))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .missingInput(path: path, problem: "is a directory, expected \(expected)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .missingInput(path: path, problem: "is not a regular file")
        }
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw .missingInput(path: path, problem: Self.errnoText(errno))
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else {
            throw .missingInput(path: path, problem: Self.errnoText(errno))
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw .missingInput(path: path, problem: "cannot map the file: \(Self.errnoText(errno))")
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(mapped), count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    var count: Int { bytes.count }

    /// Drops the mapped pages of a byte range that has been read (they are file-backed and come
    /// back from the file if read again), so resident memory stays at the blocks in flight instead
    /// of growing with everything read so far. The range is widened by the kernel's fault-around
    /// window on both sides (pages mapped around a touched page), which would otherwise stay
    /// resident until their own tensor is read. Small files stay mapped: their pages are few, and
    /// each release costs a TLB flush on every core.
    func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, bytes.count >= Self.releaseThreshold, !range.isEmpty else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = max(0, range.lowerBound - Self.faultAroundBytes)
        let end = min(bytes.count, range.upperBound + Self.faultAroundBytes)
        let alignedStart = start - start % pageSize
        guard end > alignedStart else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + alignedStart), end - alignedStart, MADV_DONTNEED)
    }

    static func errnoText(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        case ENOTDIR: return "a component of the path is not a directory"
        default: return String(cString: strerror(code))
        }
    }
}
