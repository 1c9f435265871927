#ifndef TVGEO_CSYSTEM_SHIM_H
#define TVGEO_CSYSTEM_SHIM_H
// Linux system calls the Swift Glibc module does not expose.

// renameat2(2), declared here because glibc exposes it only under _GNU_SOURCE.
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// Swaps two paths atomically (RENAME_EXCHANGE): both must exist. Returns 0, or -1 with errno
/// set (EINVAL or ENOSYS where the file system or kernel cannot exchange).
static inline int tvgeo_exchange_paths(const char *a, const char *b) {
    return renameat2(-100 /* AT_FDCWD */, a, -100, b, 1u << 1 /* RENAME_EXCHANGE */);
}

// sync_file_range(2), also _GNU_SOURCE only.
extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

/// Starts writing a file's dirty pages to the device without waiting (SYNC_FILE_RANGE_WRITE).
/// Returns 0, or -1 with errno set.
static inline int tvgeo_start_write_out(int fd) {
    return sync_file_range(fd, 0, 0, 2u);
}

/// Writes a file's dirty pages to the device and waits for them, without the cache flush and
/// journal commit of fsync (SYNC_FILE_RANGE_WAIT_BEFORE | WRITE | WAIT_AFTER). Returns 0, or -1
/// with errno set.
static inline int tvgeo_write_out(int fd) {
    return sync_file_range(fd, 0, 0, 1u | 2u | 4u);
}

#include <malloc.h>

/// Keeps freed heap memory for reuse instead of returning it to the kernel after every large
/// free: blocks of the same shapes are allocated again and again, and each return costs page
/// faults when the memory is touched again. Allocations above 64 MiB are still mapped apart.
static inline void tvgeo_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

#endif
