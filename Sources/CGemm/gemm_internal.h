// Block sizes and the pieces of the AVX-512 SGEMM shared by gemm.c, pack.c and kernel.c.
//
// Row-major C = op(A)·op(B) is computed in MR×NR tiles of C: NR = 32 columns (two zmm registers along a row of
// C, the "vector" operand is op(B)) by MR = 12 rows (broadcasts of op(A)); 24 zmm accumulators, 2 for op(B)'s
// row, the rest free. MR = 12 rather than 14: two FMA pipes of latency 4 need only 8 independent
// accumulators, and 12 leaves W1's m = 128 a last tile of 8 rows (an 8-row variant of the kernel), where 14
// leaves 2. Edge tiles use variants of 8 or 4 rows and 16 columns (kernel.c).
//
// Cache blocking (AMD Zen 5 here: 48 KB L1d, 1 MB L2 per core), the row-major counterpart of BLIS's loops:
// - KC = 256: the depth of one pass. An A micro-panel (MR×KC, 12 KB) stays in L1 while the microkernel sweeps
//   the B block; each B micro-panel (KC×NR, 32 KB) streams from L2. k is cut into ceil(k/KC) passes of equal
//   depth (the last may be shorter), from k alone, so the summation order of an element of C never depends on
//   m, n, or where the element lies: a block of C's rows or columns computed alone gives the same bits.
// - NC = 768: the width of the packed B block, KC×NC×4 = 768 KB, which stays in the 1 MB L2 while every A
//   micro-panel of C's rows passes over it. n is cut into ceil(n/NC) equal blocks (multiples of NR).
// - MC = MR: A is packed one micro-panel at a time, just before its sweep over the B block, so it is in L1
//   when used; each element of A is packed once per (B block, pass), which for n ≤ NC is once per pass.
#ifndef CANOPY_GEMM_INTERNAL_H
#define CANOPY_GEMM_INTERNAL_H

#include <stdint.h>

#define CGEMM_MR 12
#define CGEMM_NR 32
#ifndef CGEMM_KC
#define CGEMM_KC 256
#endif
#ifndef CGEMM_NC
#define CGEMM_NC 768
#endif
// Up to this many rows of C, an untransposed B is read in place instead of packed (measured: TN 10×256×128
// 130 → 185 GFLOP/s; no gain from m = 128 up, and a loss on 2048³).
#define CGEMM_DIRECT_B_ROWS 48
// Up to this many columns of C, an untransposed A is read in place instead of packed (transposed): its packed
// copy would serve at most 4 B panels (measured: NT 128×10×256 63 → 117 GFLOP/s, NT 512×64×100 151 → 201).
#ifndef CGEMM_DIRECT_A_COLUMNS
#define CGEMM_DIRECT_A_COLUMNS 128
#endif

#if defined(__x86_64__)
#include <immintrin.h>

#define CGEMM_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

/// Packs op(B)[p0 ..< p0+kc][j0 ..< j0+nc] into panels of NR columns: panel q holds kc rows of NR floats
/// (columns j0+q·NR …), zero past column nc. B's stored row s starts at `rows[s]` when `rows` is given, else at
/// `b + s·ldb`. `dst` is 64-byte aligned and holds kc·ceil(nc/NR)·NR floats.
void cgemm_pack_b(int transB, const float *b, long ldb, const float *const *rows, long p0, long kc, long j0,
                  long nc, float *dst);

/// Packs op(A)[i0 ..< i0+mr][p0 ..< p0+kc] (mr ≤ MR) as kc columns of MR floats, rows past mr zero.
void cgemm_pack_a(int transA, const float *a, long lda, long i0, long mr, long p0, long kc, float *dst);

/// tile (MR×NR floats, row-major, 64-byte aligned) = A micro-panel · B micro-panel over kc steps, for the
/// first mr ≤ MR rows and nr ≤ NR columns (rows up to 4, 8 or 12 are read and written). A's element (i, p) is
/// at a[i·ars + p·acs] (packed: ars = 1, acs = MR; in place: ars = lda, acs = 1); B's rows are bstride apart.
void cgemm_kernel(long mr, long nr, long kc, const float *a, long ars, long acs, const float *b, long bstride,
                  float *tile);

/// C[0 ..< mr][0 ..< nr] = alpha · tile + beta · C (beta == 0: C is not read).
void cgemm_update(long mr, long nr, float alpha, const float *tile, float beta, float *c, long ldc);
#endif

#endif
