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

#endif
