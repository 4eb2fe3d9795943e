// =================================================================================================
// Canopy OpenCL kernels: matmul.cl
//
// C = alpha · op(A) · op(B) + beta · C, float32, row-major, op(A) m×k, op(B) k×n, C m×n; with
// beta == 0, C is never read (so NaN there is overwritten). Batched: dimension 2 of the launch is the
// batch, and matrix b of a batch starts at offset + b · stride (stride 0 shares a matrix).
//
// Epilogue (a layer's bias and activation, fused into its product): with epilogue ≥ 0, element (i, j) of
// C becomes activation_f(epilogue & 15, v + bias_b[j]) as it is stored, v being the value above and
// bias_b = bias + biasOffset + batch · biasStride; with EPILOGUE_ROW_BIAS set, bias_b[i] (a convolution's
// filters are C's rows). activation_f (common.cl) lists the codes (0: the bias only). With epilogue < 0 the
// bias is never read. The sum and the function are separate statements, so they round as the separate
// kernels round them.
//
// Register blocking: work-item (x, y) computes the MM_TM × MM_TN block of C at rows y·MM_TM and
// columns x·MM_TN, keeping it in MM_TM vectors of MM_TN floats. Each step p loads one MM_TN-wide
// vector of B's row p (vloadN needs only float alignment) and MM_TM scalars of A's column p, and does
// MM_TM vector FMAs. Every block runs that arithmetic, so m, n, k may be any size ≥ 1 and a narrow or
// short C (n = 10 classes, m = 5 rows of a head's dW) still runs vectorised: rows past C's bottom edge
// repeat its last row; a block on the right edge moves left to end at column n (when n ≥ MM_TN) and
// stores only its own columns; when n < MM_TN a vector of B's row p spills into row p + 1 (discarded
// lanes), and the last steps, whose vector would pass B's end, load lane by lane. Blocks inside C store
// whole vectors, edge blocks element by element.
//
// Two kernels: canopy_matmul_nn (A stored m×k) and canopy_matmul_tn (A stored k×m, op(A) = Aᵀ), B stored
// k×n. A stored n×k B: on CPU drivers canopy_matmul_nt below (dot products along k, no transpose pass)
// when A is stored m×k; otherwise the host transposes B first (canopy_transpose on GPUs,
// canopy_transpose_direct on CPUs), so that B's rows are contiguous for the vector loads. (A local-memory
// tiled variant for GPUs follows the transposes at the end of this file.)
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

#define EPILOGUE_ROW_BIAS 16

#define EPILOGUE_BIAS(i, j) bb[(epilogue & EPILOGUE_ROW_BIAS) ? (i) : (j)]

// Element (i, p) of op(A), for A stored m×k (nn) or k×m (tn).
#define A_NN(i, p) a[(i) * k + (p)]
#define A_TN(i, p) a[(p) * m + (i)]

#define MATMUL_KERNEL(NAME, A_AT)                                                                     \
__kernel void NAME(const int m, const int n, const int k, const float alpha, const float beta,        \
                   __global const float* A, const int offsetA, const int strideA,                     \
                   __global const float* B, const int offsetB, const int strideB,                     \
                   __global float* C, const int offsetC, const int strideC,                           \
                   __global const float* bias, const int biasOffset, const int biasStride,            \
                   const int epilogue) {                                                              \
    const int batch = (int)get_global_id(2);                                                          \
    __global const float* a = A + offsetA + batch * strideA;                                          \
    __global const float* b = B + offsetB + batch * strideB;                                          \
    __global float* c = C + offsetC + batch * strideC;                                                \
    __global const float* bb = bias + biasOffset + batch * biasStride;                                \
    const int j0 = (int)get_global_id(0) * MM_TN;                                                     \
    const int i0 = (int)get_global_id(1) * MM_TM;                                                     \
    if (i0 >= m || j0 >= n) return;                                                                   \
    const int rows = min(MM_TM, m - i0);                                                              \
    /* The block's columns jb ..< jb + MM_TN: inside C when n >= MM_TN (a right-edge block moves */   \
    /* left and stores only its own columns j0 ..< n), else jb = 0 and lanes >= n are discarded. */   \
    const int jb = max(0, min(j0, n - MM_TN));                                                        \
    /* Steps p < pVector load B's whole vector (for n < MM_TN, lanes >= n read B's next row, which */ \
    /* exists); the last steps of a narrow B load lane by lane. */                                    \
    const int pVector = n >= MM_TN ? k : (k * n >= MM_TN ? (k * n - MM_TN) / n + 1 : 0);              \
    /* Rows past C's edge repeat its last row (the loads stay inside A) and are never stored. */      \
    int rowA[MM_TM];                                                                                  \
    _Pragma("unroll")                                                                                 \
    for (int r = 0; r < MM_TM; ++r) rowA[r] = min(i0 + r, m - 1);                                     \
    floatTN acc[MM_TM];                                                                               \
    _Pragma("unroll")                                                                                 \
    for (int r = 0; r < MM_TM; ++r) acc[r] = (floatTN)(0.0f);                                         \
    for (int p = 0; p < pVector; ++p) {                                                               \
        const floatTN bv = vloadTN(0, b + p * n + jb);                                                \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) acc[r] = fma((floatTN)(A_AT(rowA[r], p)), bv, acc[r]);       \
    }                                                                                                 \
    float bt[MM_TN];                                                                                  \
    for (int p = pVector; p < k; ++p) {                                                               \
        _Pragma("unroll")                                                                             \
        for (int q = 0; q < MM_TN; ++q) bt[q] = q < n ? b[p * n + q] : 0.0f;                         \
        const floatTN bv = vloadTN(0, bt);                                                            \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) acc[r] = fma((floatTN)(A_AT(rowA[r], p)), bv, acc[r]);       \
    }                                                                                                 \
    if (rows == MM_TM && jb == j0 && j0 + MM_TN <= n && epilogue < 0) {                             \
        /* The whole block is C's and there is no epilogue: vector loads and stores. */               \
        _Pragma("unroll")                                                                             \
        for (int r = 0; r < MM_TM; ++r) {                                                             \
            __global float* row = c + (i0 + r) * n + j0;                                              \
            floatTN out = alpha * acc[r];                                                             \
            if (beta != 0.0f) out += beta * vloadTN(0, row);                                          \
            vstoreTN(out, 0, row);                                                                    \
        }                                                                                             \
        return;                                                                                       \
    }                                                                                                 \
    /* An epilogue or an edge block: element by element (one loop, so that the epilogue's function */\
    /* is compiled once), only C's elements of this work-item's columns. */                           \
    float t[MM_TM * MM_TN];                                                                           \
    _Pragma("unroll")                                                                                 \
    for (int r = 0; r < MM_TM; ++r) vstoreTN(acc[r], r, t);                                           \
    const int qEnd = min(MM_TN, n - jb);                                                              \
    for (int r = 0; r < rows; ++r) {                                                                  \
        for (int q = j0 - jb; q < qEnd; ++q) {                                                        \
            const int at = (i0 + r) * n + jb + q;                                                     \
            const float ab = t[r * MM_TN + q];                                                        \
            float out = beta != 0.0f ? alpha * ab + beta * c[at] : alpha * ab;                        \
            if (epilogue >= 0) {                                                                      \
                const float v = out + EPILOGUE_BIAS(i0 + r, jb + q);                                  \
                out = activation_f(epilogue & 15, v);                                                 \
            }                                                                                         \
            c[at] = out;                                                                              \
        }                                                                                             \
    }                                                                                                 \
}

MATMUL_KERNEL(canopy_matmul_nn, A_NN)
MATMUL_KERNEL(canopy_matmul_tn, A_TN)

// =================================================================================================
// canopy_matmul_nt: B stored n×k (a dense layer's x·Wᵀ, W stored [out, in]), A stored m×k: both operands
// are contiguous along k, so no transpose pass is needed. Work-item (x, y) computes the MMNT_TM × MMNT_TN
// block of C at rows y·MMNT_TM and columns x·MMNT_TN as dot products along k: each step loads one
// MMNT_V-wide vector of each of its MMNT_TM rows of A and MMNT_TN rows of B and does MMNT_TM · MMNT_TN
// vector FMAs into as many vector accumulators, which are summed across their lanes after the last full
// vector; the last k mod MMNT_V products are scalar. Rows and columns past C's edge repeat C's last row
// and column (their loads stay inside A and B) and are never stored, so m, n, k may be any size ≥ 1 with
// one code path. Same arguments, batching, beta and epilogue contract as the kernels above.
// =================================================================================================

#ifndef MMNT_TM
#define MMNT_TM 4        // rows of C per work-item
#endif
#ifndef MMNT_TN
#define MMNT_TN 4        // columns of C per work-item
#endif
#ifndef MMNT_V
#define MMNT_V 16        // floats per load along k: 4, 8 or 16
#endif

#if MMNT_V == 4
  #define floatNTV float4
  #define vloadNTV vload4
  #define vstoreNTV vstore4
#elif MMNT_V == 8
  #define floatNTV float8
  #define vloadNTV vload8
  #define vstoreNTV vstore8
#elif MMNT_V == 16
  #define floatNTV float16
  #define vloadNTV vload16
  #define vstoreNTV vstore16
#else
  #error "MMNT_V must be 4, 8 or 16"
#endif

// The sum of v's lanes, halving pairwise. (Through a private array rather than .lo/.hi: Oclgrind's
// uninitialised-value check loses track of the halves of a vector.)
inline float sum_lanes_nt(const floatNTV v) {
    float t[MMNT_V];
    vstoreNTV(v, 0, t);
#if MMNT_V == 16
    _Pragma("unroll")
    for (int l = 0; l < 8; ++l) t[l] += t[l + 8];
#endif
#if MMNT_V >= 8
    _Pragma("unroll")
    for (int l = 0; l < 4; ++l) t[l] += t[l + 4];
#endif
    return (t[0] + t[2]) + (t[1] + t[3]);
}

__kernel void canopy_matmul_nt(const int m, const int n, const int k, const float alpha, const float beta,
                               __global const float* A, const int offsetA, const int strideA,
                               __global const float* B, const int offsetB, const int strideB,
                               __global float* C, const int offsetC, const int strideC,
                               __global const float* bias, const int biasOffset, const int biasStride,
                               const int epilogue) {
    const int batch = (int)get_global_id(2);
    __global const float* a = A + offsetA + batch * strideA;
    __global const float* b = B + offsetB + batch * strideB;
    __global float* c = C + offsetC + batch * strideC;
    __global const float* bb = bias + biasOffset + batch * biasStride;
    const int j0 = (int)get_global_id(0) * MMNT_TN;
    const int i0 = (int)get_global_id(1) * MMNT_TM;
    if (i0 >= m || j0 >= n) return;
    // Where each row of the block starts in A and B (past the edge: C's last row or column again).
    int rowA[MMNT_TM], rowB[MMNT_TN];
    _Pragma("unroll")
    for (int r = 0; r < MMNT_TM; ++r) rowA[r] = min(i0 + r, m - 1) * k;
    _Pragma("unroll")
    for (int q = 0; q < MMNT_TN; ++q) rowB[q] = min(j0 + q, n - 1) * k;
    floatNTV acc[MMNT_TM][MMNT_TN];
    _Pragma("unroll")
    for (int r = 0; r < MMNT_TM; ++r) {
        _Pragma("unroll")
        for (int q = 0; q < MMNT_TN; ++q) acc[r][q] = (floatNTV)(0.0f);
    }
    int p = 0;
    for (; p + MMNT_V <= k; p += MMNT_V) {
        floatNTV av[MMNT_TM], bv[MMNT_TN];
        _Pragma("unroll")
        for (int r = 0; r < MMNT_TM; ++r) av[r] = vloadNTV(0, a + rowA[r] + p);
        _Pragma("unroll")
        for (int q = 0; q < MMNT_TN; ++q) bv[q] = vloadNTV(0, b + rowB[q] + p);
        _Pragma("unroll")
        for (int r = 0; r < MMNT_TM; ++r) {
            _Pragma("unroll")
            for (int q = 0; q < MMNT_TN; ++q) acc[r][q] = fma(av[r], bv[q], acc[r][q]);
        }
    }
    float sum[MMNT_TM][MMNT_TN];
    _Pragma("unroll")
    for (int r = 0; r < MMNT_TM; ++r) {
        _Pragma("unroll")
        for (int q = 0; q < MMNT_TN; ++q) sum[r][q] = sum_lanes_nt(acc[r][q]);
    }
    for (; p < k; ++p) {
        _Pragma("unroll")
        for (int r = 0; r < MMNT_TM; ++r) {
            const float av = a[rowA[r] + p];
            _Pragma("unroll")
            for (int q = 0; q < MMNT_TN; ++q) sum[r][q] = fma(av, b[rowB[q] + p], sum[r][q]);
        }
    }
    _Pragma("unroll")
    for (int r = 0; r < MMNT_TM; ++r) {
        const int i = i0 + r;
        _Pragma("unroll")
        for (int q = 0; q < MMNT_TN; ++q) {
            const int j = j0 + q;
            if (i < m && j < n) {
                const int at = i * n + j;
                float out = beta != 0.0f ? alpha * sum[r][q] + beta * c[at] : alpha * sum[r][q];
                if (epilogue >= 0) {
                    const float v = out + EPILOGUE_BIAS(i, j);
                    out = activation_f(epilogue & 15, v);
                }
                c[at] = out;
            }
        }
    }
}

// dst (cols × rows) = transpose of src (rows × cols), without local memory (for CPU drivers, where local
// memory is ordinary RAM and barriers cost more than they save; there only a product with both operands
// transposed needs it). Work-item (x, y) writes dst[x][y]: the writes of neighbouring work-items are
// contiguous, the reads strided.
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

// =================================================================================================
// Local-memory tiled matmul (classic GPU SGEMM), next to the register-blocked kernels above that suit
// CPU drivers. Same contract: C = alpha · op(A) · op(B) + beta · C, any m, n, k ≥ 1, batched by
// dimension 2 of the launch; beta == 0 never reads C.
//
// Work-group (MMT_TSN / MMT_WPTN, MMT_TSM / MMT_WPTM) computes the MMT_TSM × MMT_TSN tile of C at rows
// group_y · MMT_TSM and columns group_x · MMT_TSN. k is walked in MMT_TSK-deep slices: the group stages
// the slice of op(A) (MMT_TSM × MMT_TSK) and of op(B) (MMT_TSK × MMT_TSN) in local memory, reading
// global memory along its contiguous direction (zero outside the matrices, so no size has to be a
// multiple of a tile), waits at a barrier, and then work-item (x, y) accumulates the MMT_WPTM × MMT_WPTN
// elements at rows y + r · RTSM and columns x + q · RTSN of the tile in registers (strided, so that
// neighbouring work-items read neighbouring local words). A second barrier guards the next slice's loads.
// Every work-item reaches both barriers (there is no early return); stores are bounds-checked.
//
// Four kernels, one per storage: canopy_matmul_tiled_nn (A m×k, B k×n), _tn (A k×m), _nt (B n×k) and
// _tt; a transposed B needs no separate transpose pass. The host launches exactly the required work-group
// shape, after checking it against the kernel's work-group limit; it checks the local arrays
// (MMT_TSK · (MMT_TSM + MMT_TSN + 2) floats) against CL_DEVICE_LOCAL_MEM_SIZE when choosing the tile. The
// arrays' rows are padded by one float: loads along k write a column of a slice, and without the padding those
// writes would fall in one local-memory bank on GPUs.
// =================================================================================================

#ifndef MMT_TSM
#define MMT_TSM 64       // rows of C per work-group tile
#endif
#ifndef MMT_TSN
#define MMT_TSN 64       // columns of C per work-group tile
#endif
#ifndef MMT_TSK
#define MMT_TSK 16       // depth of one k slice staged in local memory
#endif
#ifndef MMT_WPTM
#define MMT_WPTM 4       // rows of C per work-item
#endif
#ifndef MMT_WPTN
#define MMT_WPTN 4       // columns of C per work-item
#endif
#define MMT_RTSM (MMT_TSM / MMT_WPTM)   // work-group rows
#define MMT_RTSN (MMT_TSN / MMT_WPTN)   // work-group columns
#if MMT_TSM % MMT_WPTM != 0 || MMT_TSN % MMT_WPTN != 0
  #error "MMT_TSM and MMT_TSN must be multiples of MMT_WPTM and MMT_WPTN"
#endif

// Element (i, p) of op(A) and (p, j) of op(B) for each storage.
#define TA_N(i, p) a[(i) * k + (p)]     // A stored m×k
#define TA_T(i, p) a[(p) * m + (i)]     // A stored k×m
#define TB_N(p, j) b[(p) * n + (j)]     // B stored k×n
#define TB_T(p, j) b[(j) * k + (p)]     // B stored n×k

// A_KFAST / B_KFAST: 1 when the stored matrix is contiguous along k (then consecutive work-items load
// consecutive p), 0 when it is contiguous along m or n.
#define MATMUL_TILED_KERNEL(NAME, OPA, A_KFAST, OPB, B_KFAST)                                          \
__attribute__((reqd_work_group_size(MMT_RTSN, MMT_RTSM, 1)))                                          \
__kernel void NAME(const int m, const int n, const int k, const float alpha, const float beta,        \
                   __global const float* A, const int offsetA, const int strideA,                     \
                   __global const float* B, const int offsetB, const int strideB,                     \
                   __global float* C, const int offsetC, const int strideC,                           \
                   __global const float* bias, const int biasOffset, const int biasStride,            \
                   const int epilogue) {                                                              \
    __local float As[MMT_TSK][MMT_TSM + 1];                                                           \
    __local float Bs[MMT_TSK][MMT_TSN + 1];                                                           \
    const int batch = (int)get_global_id(2);                                                          \
    __global const float* a = A + offsetA + batch * strideA;                                          \
    __global const float* b = B + offsetB + batch * strideB;                                          \
    __global float* c = C + offsetC + batch * strideC;                                                \
    __global const float* bb = bias + biasOffset + batch * biasStride;                                \
    const int tx = (int)get_local_id(0), ty = (int)get_local_id(1);                                   \
    const int tid = ty * MMT_RTSN + tx;                                                               \
    const int i0 = (int)get_group_id(1) * MMT_TSM, j0 = (int)get_group_id(0) * MMT_TSN;               \
    float acc[MMT_WPTM][MMT_WPTN];                                                                    \
    _Pragma("unroll")                                                                                 \
    for (int r = 0; r < MMT_WPTM; ++r) {                                                              \
        _Pragma("unroll")                                                                             \
        for (int q = 0; q < MMT_WPTN; ++q) acc[r][q] = 0.0f;                                          \
    }                                                                                                 \
    for (int p0 = 0; p0 < k; p0 += MMT_TSK) {                                                         \
        for (int e = tid; e < MMT_TSK * MMT_TSM; e += MMT_RTSM * MMT_RTSN) {                          \
            const int s = A_KFAST ? e % MMT_TSK : e / MMT_TSM;                                        \
            const int r = A_KFAST ? e / MMT_TSK : e % MMT_TSM;                                        \
            const int i = i0 + r, p = p0 + s;                                                         \
            As[s][r] = (i < m && p < k) ? OPA(i, p) : 0.0f;                                           \
        }                                                                                             \
        for (int e = tid; e < MMT_TSK * MMT_TSN; e += MMT_RTSM * MMT_RTSN) {                          \
            const int s = B_KFAST ? e % MMT_TSK : e / MMT_TSN;                                        \
            const int q = B_KFAST ? e / MMT_TSK : e % MMT_TSN;                                        \
            const int j = j0 + q, p = p0 + s;                                                         \
            Bs[s][q] = (j < n && p < k) ? OPB(p, j) : 0.0f;                                           \
        }                                                                                             \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                 \
        for (int s = 0; s < MMT_TSK; ++s) {                                                           \
            float bv[MMT_WPTN];                                                                       \
            _Pragma("unroll")                                                                         \
            for (int q = 0; q < MMT_WPTN; ++q) bv[q] = Bs[s][tx + q * MMT_RTSN];                      \
            _Pragma("unroll")                                                                         \
            for (int r = 0; r < MMT_WPTM; ++r) {                                                      \
                const float av = As[s][ty + r * MMT_RTSM];                                            \
                _Pragma("unroll")                                                                     \
                for (int q = 0; q < MMT_WPTN; ++q) acc[r][q] = fma(av, bv[q], acc[r][q]);             \
            }                                                                                         \
        }                                                                                             \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                 \
    }                                                                                                 \
    _Pragma("unroll")                                                                                 \
    for (int r = 0; r < MMT_WPTM; ++r) {                                                              \
        const int i = i0 + ty + r * MMT_RTSM;                                                         \
        _Pragma("unroll")                                                                             \
        for (int q = 0; q < MMT_WPTN; ++q) {                                                          \
            const int j = j0 + tx + q * MMT_RTSN;                                                     \
            if (i < m && j < n) {                                                                     \
                const int at = i * n + j;                                                             \
                float out = beta != 0.0f ? alpha * acc[r][q] + beta * c[at] : alpha * acc[r][q];      \
                if (epilogue >= 0) {                                                                  \
                    const float v = out + EPILOGUE_BIAS(i, j);                                        \
                    out = activation_f(epilogue & 15, v);                                             \
                }                                                                                     \
                c[at] = out;                                                                          \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
}

MATMUL_TILED_KERNEL(canopy_matmul_tiled_nn, TA_N, 1, TB_N, 0)
MATMUL_TILED_KERNEL(canopy_matmul_tiled_tn, TA_T, 0, TB_N, 0)
MATMUL_TILED_KERNEL(canopy_matmul_tiled_nt, TA_N, 1, TB_T, 1)
MATMUL_TILED_KERNEL(canopy_matmul_tiled_tt, TA_T, 0, TB_T, 1)
