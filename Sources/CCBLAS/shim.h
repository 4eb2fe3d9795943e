// CBLAS as OpenBLAS provides it (Debian: libopenblas-dev).
#ifndef CANOPY_CCBLAS_SHIM_H
#define CANOPY_CCBLAS_SHIM_H
#include <cblas.h>
#endif
