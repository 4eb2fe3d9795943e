// =================================================================================================
// Canopy OpenCL kernels: matmul.cl
//
// C = alpha · op(A) · op(B) + beta · C, float32, row-major, op(A) m×k, op(B) k×n, C m×n; with
// beta == 0, C is never read (so NaN there is overwritten). Batched: dimension 2 of the launch is the
// batch, and matrix b of a batch starts at offset + b · stride (stride 0 shares a matrix).
//
// Register blocking: work-item (x, y) computes the MM_TM × MM_TN block of C at rows y·MM_TM and
// columns x·MM_TN, keeping it in MM_TM vectors of MM_TN floats. Each step p loads one MM_TN-wide
// vector of B's row p (vloadN needs only float alignment) and MM_TM scalars of A's column p, and does
// MM_TM vector FMAs. Blocks entirely inside C take that fast path; blocks on the right or bottom edge
// run the same arithmetic on a zero-padded block with bounds-checked loads and stores, so m, n, k may
// be any size ≥ 1 (and a narrow C, such as n = 10 classes, still runs vectorised).
//
// Two kernels: canopy_matmul_nn (A stored m×k) and canopy_matmul_tn (A stored k×m, op(A) = Aᵀ).
// B is always stored k×n here: the host transposes a stored n×k B first (canopy_transpose on GPUs,
// canopy_transpose_direct on CPUs), so that B's rows are contiguous for the vector loads.
// =================================================================================================

#ifndef MM_TM
#define MM_TM 8          // rows of C per work-item
#endif
#ifndef MM_TN
#define MM_TN 16         // columns of C per work-item: 4, 8 or 16 (a vector width)
#endif
#ifndef TRANSPOSE_TILE
#define TRANSPOSE_TILE 16
#endif

#if MM_TN == 4
  #define floatTN float4
  #define vloadTN vload4
  #define vstoreTN vstore4
#elif MM_TN == 8
  #define floatTN float8
  #define vloadTN vload8
  #define vstoreTN vstore8
#elif MM_TN == 16
  #define floatTN float16
  #define vloadTN vload16
  #define vstoreTN vstore16
#else
  #error "MM_TN must be 4, 8 or 16"
#endif

// Element (i, p) of op(A), for A stored m×k (nn) or k×m (tn).
#define A_NN(i, p) a[(i) * k + (p)]
#define A_TN(i, p) a[(p) * m + (i)]

#define MATMUL_KERNEL(NAME, A_AT)                                                                     \
__kernel void NAME(const int m, const int n, const int k, const float alpha, const float beta,        \
                   __global const float* A, const int offsetA, const int strideA,                     \
                   __global const float* B, const int offsetB, const int strideB,                     \
                   __global float* C, const int offsetC, const int strideC) {                         \
    const int batch = (int)get_global_id(2);                                                          \
    __global const float* a = A + offsetA + batch * strideA;                                          \
    __global const float* b = B + offsetB + batch * strideB;                                          \
    __global float* c = C + offsetC + batch * strideC;                                                \
    const int j0 = (int)get_global_id(0) * MM_TN;                                                     \
    const int i0 = (int)get_global_id(1) * MM_TM;                                                     \
    if (i0 >= m || j0 >= n) return;                                                                   \
    if (i0 + MM_TM <= m && j0 + MM_TN <= n) {                                                         \
        /* Fast path: the whole block is inside C. */                                                 \
        floatTN acc[MM_TM];                                                                           \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) acc[r] = (floatTN)(0.0f);                                     \
        for (int p = 0; p < k; ++p) {                                                                 \
            const floatTN bv = vloadTN(0, b + p * n + j0);                                            \
            _Pragma("unroll")                                                                         \
            for (int r = 0; r < MM_TM; ++r) acc[r] = fma((floatTN)(A_AT(i0 + r, p)), bv, acc[r]);    \
        }                                                                                             \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) {                                                             \
            __global float* row = c + (i0 + r) * n + j0;                                              \
            floatTN out = alpha * acc[r];                                                             \
            if (beta != 0.0f) out += beta * vloadTN(0, row);                                          \
            vstoreTN(out, 0, row);                                                                    \
        }                                                                                             \
    } else {                                                                                          \
        /* Edge path: the same vector arithmetic on a block padded with zeros; loads and stores */    \
        /* outside C are skipped, so the padding never touches memory. */                             \
        const int rows = min(MM_TM, m - i0), cols = min(MM_TN, n - j0);                               \
        floatTN acc[MM_TM];                                                                           \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) acc[r] = (floatTN)(0.0f);                                     \
        float bt[MM_TN];                                                                              \
        for (int p = 0; p < k; ++p) {                                                                 \
            _Pragma("unroll")                                                                         \
            for (int q = 0; q < MM_TN; ++q) bt[q] = q < cols ? b[p * n + j0 + q] : 0.0f;              \
            const floatTN bv = vloadTN(0, bt);                                                        \
            _Pragma("unroll")                                                                         \
            for (int r = 0; r < MM_TM; ++r) {                                                         \
                const float av = r < rows ? A_AT(i0 + r, p) : 0.0f;                                   \
                acc[r] = fma((floatTN)(av), bv, acc[r]);                                              \
            }                                                                                         \
        }                                                                                             \
        for (int r = 0; r < rows; ++r) {                                                              \
            vstoreTN(acc[r], 0, bt);                                                                  \
            for (int q = 0; q < cols; ++q) {                                                          \
                const int at = (i0 + r) * n + j0 + q;                                                 \
                c[at] = beta != 0.0f ? alpha * bt[q] + beta * c[at] : alpha * bt[q];                  \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
}

MATMUL_KERNEL(canopy_matmul_nn, A_NN)
MATMUL_KERNEL(canopy_matmul_tn, A_TN)

// dst (cols × rows) = transpose of src (rows × cols), without local memory (for CPU drivers, where local
// memory is ordinary RAM and barriers cost more than they save). Work-item (x, y) writes dst[x][y]: the
// writes of neighbouring work-items are contiguous, the reads strided.
__kernel void canopy_transpose_direct(__global const float* src, __global float* dst, const int rows, const int cols) {
    const int y = (int)get_global_id(0), x = (int)get_global_id(1);   // y: row of src, x: column of src
    if (y < rows && x < cols) dst[x * rows + y] = src[y * cols + x];
}

// dst (cols × rows) = transpose of src (rows × cols), staged through a TILE × (TILE + 1) local tile
// (the +1 avoids bank conflicts on GPUs). Work-group (TILE, TILE) covers one tile: work-item (lx, ly)
// reads src[by + ly][bx + lx] and writes dst[bx + ly][by + lx]; both accesses are row-contiguous.
__kernel void canopy_transpose(__global const float* src, __global float* dst, const int rows, const int cols) {
    __local float tile[TRANSPOSE_TILE][TRANSPOSE_TILE + 1];
    const int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    const int bx = (int)get_group_id(0) * TRANSPOSE_TILE, by = (int)get_group_id(1) * TRANSPOSE_TILE;
    if (by + ly < rows && bx + lx < cols) tile[ly][lx] = src[(by + ly) * cols + bx + lx];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (bx + ly < cols && by + lx < rows) dst[(bx + ly) * rows + by + lx] = tile[lx][ly];
}
