// OpenBLAS provides CBLAS (and openblas_set_num_threads). Homebrew's OpenBLAS also carries
// LAPACKE (lapacke.h, and the functions in libopenblas); Debian's ships no lapacke.h, so there
// LAPACKE comes from liblapacke-dev (it calls the LAPACK that OpenBLAS provides) and is linked
// on Linux only (AnalysisCore's linker settings in Package.swift).
#include <cblas.h>
#include <lapacke.h>

// Not in cblas.h: stops OpenBLAS's worker threads. They are started when the library loads and
// busy-wait for ~0.1 s; tvgeo runs BLAS single-threaded on its own threads, so it stops them.
int blas_thread_shutdown_(void);
