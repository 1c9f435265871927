// OpenBLAS provides CBLAS (and openblas_set_num_threads); Debian's OpenBLAS ships no
// lapacke.h, so LAPACKE comes from liblapacke-dev (it calls the LAPACK that OpenBLAS provides).
#include <cblas.h>
#include <lapacke.h>
