// OpenBLAS provides CBLAS (and openblas_set_num_threads); Debian's OpenBLAS ships no
// lapacke.h, so LAPACKE comes from liblapacke-dev (it calls the LAPACK that OpenBLAS provides).
#include <cblas.h>
#include <lapacke.h>

// Not in cblas.h: stops OpenBLAS's worker threads. They are started when the library loads and
// busy-wait for ~0.1 s; tvgeo runs BLAS single-threaded on its own threads, so it stops them.
int blas_thread_shutdown_(void);
