// CGemm: Canopy's single-precision matrix product for x86-64 CPUs with AVX-512.
//
// A BLIS-style SGEMM (packed panels, cache blocking, one register-blocked microkernel) used by the CPU
// backend in place of cblas_sgemm where the processor and the operating system support AVX-512.
#ifndef CANOPY_CGEMM_H
#define CANOPY_CGEMM_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when CCPUKernels' check finds its AVX-512 variant supported (AVX-512 F, VL, BW, DQ, AVX2 and FMA, with the
/// opmask and zmm registers saved by the operating system); 0 otherwise, and always 0 off x86-64. Cheap after the
/// first call.
int canopy_gemm_supported(void);

/// Row-major `C = alpha · op(A) · op(B) + beta · C`, with cblas_sgemm's semantics.
///
/// op(A) is m×k (A itself k×m when `transA` is nonzero), op(B) is k×n (B itself n×k when `transB`), C is m×n;
/// lda, ldb and ldc are the stored row lengths. With beta == 0 C is overwritten (NaN in C is ignored); with
/// alpha == 0 or k == 0 C is only scaled by beta; with m or n == 0 nothing happens. Single-threaded and
/// deterministic: each element of C is summed over k in an order that depends only on k, so computing a
/// block of rows or columns of C on its own gives the same bits. Uses per-thread packing buffers, allocated
/// on a thread's first call and freed when the thread exits. Call only when canopy_gemm_supported() is 1
/// (elsewhere it runs a plain reference loop).
void canopy_sgemm(int transA, int transB, long m, long n, long k, float alpha,
                  const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// canopy_sgemm with B given by its stored rows: stored row s starts at `rows[s]` (row p of op(B) when `transB`
/// is 0, k of them; column j of op(B) when it is nonzero, n of them), each long enough for the product's reads.
/// Rows may overlap, which lets a convolution read shifted windows of one image as the rows of its column
/// matrix without unfolding it (canopy_conv_*). Same summation order as canopy_sgemm.
void canopy_sgemm_rows(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *const *rows, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
