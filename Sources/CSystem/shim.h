#ifndef TVGEO_CSYSTEM_SHIM_H
#define TVGEO_CSYSTEM_SHIM_H
// System calls the Swift Glibc and Darwin modules do not expose, one set of functions for every
// platform: the Linux calls, their macOS equivalents, or a fallback the caller already handles
// (each function below says what its failure means to the caller).

#include <errno.h>
#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__)

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

#elif defined(__APPLE__)

#include <stdio.h> // renamex_np, RENAME_SWAP (macOS 10.12 and later)

/// Swaps two paths atomically (renamex_np with RENAME_SWAP): both must exist. Returns 0, or -1
/// with errno set (ENOTSUP where the file system cannot swap).
static inline int tvgeo_exchange_paths(const char *a, const char *b) {
    return renamex_np(a, b, RENAME_SWAP);
}

/// macOS cannot start a write-out without waiting: nothing is done here (returns 0), and
/// `tvgeo_write_out` writes the pages later.
static inline int tvgeo_start_write_out(int fd) {
    (void)fd;
    return 0;
}

/// Writes a file's dirty pages to the device and waits for them. macOS's fsync does just that,
/// without asking the drive to flush its cache (that is fcntl F_FULLFSYNC, not used here).
/// Returns 0, or -1 with errno set.
static inline int tvgeo_write_out(int fd) {
    return fsync(fd);
}

#else

// Other systems (musl's Linux among them): the slower paths the callers already have.

/// No atomic exchange here: returns -1 with errno ENOSYS, and the caller moves the earlier path
/// aside, then renames (two steps).
static inline int tvgeo_exchange_paths(const char *a, const char *b) {
    (void)a;
    (void)b;
    errno = ENOSYS;
    return -1;
}

/// Returns -1 with errno ENOSYS: the caller then runs a full fsync.
static inline int tvgeo_start_write_out(int fd) {
    (void)fd;
    errno = ENOSYS;
    return -1;
}

/// Returns -1 with errno ENOSYS: the caller then runs a full fsync.
static inline int tvgeo_write_out(int fd) {
    (void)fd;
    errno = ENOSYS;
    return -1;
}

#endif

#if defined(__GLIBC__)
#include <malloc.h>

/// Keeps freed heap memory for reuse instead of returning it to the kernel after every large
/// free: blocks of the same shapes are allocated again and again, and each return costs page
/// faults when the memory is touched again. Allocations above 64 MiB are still mapped apart.
static inline void tvgeo_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

#else

/// glibc's malloc settings only: elsewhere (macOS, musl) the allocator keeps its defaults.
static inline void tvgeo_keep_freed_memory(void) {}

#endif

#endif
