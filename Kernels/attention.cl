// =================================================================================================
// Canopy OpenCL kernels: attention.cl
//
// The operations multi-head attention is assembled from: a batched matrix product with transpose
// flags, the exchange of two adjacent axes (splitting and merging heads), and the causal mask. All
// layouts are row-major float32; global sizes are rounded up to the work-group shape, so every kernel
// checks its indices.
// =================================================================================================

// C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b]; A[b] is m×k (k×m stored when transA), B[b] is k×n
// (n×k stored when transB), C[b] m×n, each matrix contiguous. 3-D launch: work-item (j, i, b) computes
// C[b, i, j], summing over k in increasing order. With beta == 0, C's previous contents are not read.
__kernel void canopy_batched_matmul(__global const float* a, __global const float* b, __global float* c,
                                    const int batch, const int m, const int n, const int k,
                                    const int transA, const int transB, const float alpha, const float beta) {
    const int j = (int)get_global_id(0), i = (int)get_global_id(1), q = (int)get_global_id(2);
    if (j >= n || i >= m || q >= batch) return;
    __global const float* aq = a + (size_t)q * m * k;
    __global const float* bq = b + (size_t)q * k * n;
    const int aRow = transA ? 1 : k, aCol = transA ? m : 1;   // element (i, p) of op(A) at i·aRow + p·aCol
    const int bRow = transB ? 1 : n, bCol = transB ? k : 1;   // element (p, j) of op(B) at p·bRow + j·bCol
    float acc = 0.0f;
    for (int p = 0; p < k; ++p) acc += aq[i * aRow + p * aCol] * bq[p * bRow + j * bCol];
    __global float* cq = c + (size_t)q * m * n + i * n + j;
    *cq = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cq;
}

// y[o, j, i, e] = x[o, i, j, e] for x [outer, first, second, inner]. Work-item g writes y's element g,
// so neighbouring work-items write neighbouring elements.
__kernel void canopy_swap_axes(__global const float* x, __global float* y, const int outer, const int first,
                               const int second, const int inner) {
    const int g = (int)get_global_id(0);
    if (g >= outer * first * second * inner) return;
    const int e = g % inner, i = (g / inner) % first, j = (g / (inner * first)) % second;
    const int o = g / (inner * first * second);
    y[g] = x[((o * first + i) * second + j) * inner + e];
}

// y[b, i, j] = j > i ? fill : x[b, i, j] for x [batch, rows, cols]. Work-item g writes element g.
__kernel void canopy_causal_mask(__global const float* x, __global float* y, const int count, const int rows,
                                 const int cols, const float fill) {
    const int g = (int)get_global_id(0);
    if (g >= count) return;
    const int j = g % cols, i = (g / cols) % rows;
    y[g] = j > i ? fill : x[g];
}
