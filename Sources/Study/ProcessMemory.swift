import CSystem

/// Process-wide memory settings for a short, allocation-heavy run.
public enum ProcessMemory {
    /// Keeps freed heap memory for reuse rather than handing it back to the kernel after each
    /// large free (glibc's default): tvgeo allocates blocks of the same shapes again and again,
    /// and every page handed back costs a page fault when it is touched again (about half the
    /// page faults of an analysis of ten small adapters). Allocations over 64 MiB are still
    /// mapped and unmapped on their own, so peak memory stays that of the largest live data.
    /// glibc's settings: elsewhere (macOS, musl) this does nothing.
    public static func keepFreedMemory() {
        tvgeo_keep_freed_memory()
    }
}
