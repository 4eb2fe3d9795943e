// Packing op(A) and op(B) into the microkernel's layouts, for all four transpose cases.
//
// Copies along a stored row are masked vector loads and stores (zero past the edge). Where packing transposes
// (op(A) of a row-major A, op(B) of a transposed B), 16×16 blocks are transposed in registers.
#include "gemm_internal.h"

#if defined(__x86_64__)

static inline __mmask16 cgemm_mask(long count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/// Transposes 16 rows of 16 floats in place: r[i][j] becomes r[j][i].
CGEMM_TARGET
static inline void cgemm_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 16; h += 8) {
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
        }
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
}

/// Writes the transposed columns of 16 loaded rows: column q (q < count) to `dst + q·dstride`, its first `width`
/// floats.
CGEMM_TARGET
static inline void cgemm_store_transposed(__m512 r[16], long count, float *dst, long dstride, __mmask16 width) {
    cgemm_transpose16(r);
    for (int q = 0; q < 16; q++) {
        if (q < count) _mm512_mask_storeu_ps(dst + q * dstride, width, r[q]);
    }
}

// Reading `rows` (≤ 16) rows of `count` (≤ 16) floats, zero elsewhere, then storing them transposed. Constant loop
// bounds, so that r stays in registers. Rows past `rows` are zeros without a load: a masked-off load still costs a
// microcode assist when its address lies in an unmapped page (past the operand's end), which made a 16×9×4096
// product 20× slower than OpenBLAS.

/// The block's rows `ld` apart from `src`.
CGEMM_TARGET
static inline void cgemm_transpose_block(const float *src, long ld, long rows, long count,
                                         float *dst, long dstride, __mmask16 width) {
    __m512 r[16];
    __mmask16 m = cgemm_mask(count);
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * ld) : _mm512_setzero_ps();
    cgemm_store_transposed(r, count, dst, dstride, width);
}

/// The block's row i at `row[i] + offset`.
CGEMM_TARGET
static inline void cgemm_transpose_rows(const float *const row[16], long offset, long rows, long count,
                                        float *dst, long dstride, __mmask16 width) {
    __m512 r[16];
    __mmask16 m = cgemm_mask(count);
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, row[i] + offset) : _mm512_setzero_ps();
    cgemm_store_transposed(r, count, dst, dstride, width);
}

CGEMM_TARGET
void cgemm_pack_b(int transB, const float *b, long ldb, const float *const *rows, long p0, long kc, long j0,
                  long nc, float *dst) {
    for (long jp = 0; jp < nc; jp += CGEMM_NR, dst += kc * CGEMM_NR) {
        long nr = nc - jp < CGEMM_NR ? nc - jp : CGEMM_NR;
        long j = j0 + jp;
        if (!transB) {
            // op(B)[p][j] = row p [j]: rows of 32 copied as they are.
            __mmask16 m0 = cgemm_mask(nr), m1 = cgemm_mask(nr - 16);
            for (long p = 0; p < kc; p++) {
                const float *src = (rows ? rows[p0 + p] : b + (p0 + p) * ldb) + j;
                _mm512_store_ps(dst + p * CGEMM_NR, _mm512_maskz_loadu_ps(m0, src));
                _mm512_store_ps(dst + p * CGEMM_NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
            }
        } else if (!rows) {
            // op(B)[p][j] = B[j·ldb + p]: 16 stored rows (columns of op(B)) by 16 p at a time, transposed.
            for (long half = 0; half < 2; half++) {
                long count16 = nr - 16 * half;
                const float *src = b + (j + 16 * half) * ldb + p0;
                for (long p = 0; p < kc; p += 16) {
                    long count = kc - p < 16 ? kc - p : 16;
                    cgemm_transpose_block(src + p, ldb, count16 < 0 ? 0 : count16, count,
                                          dst + p * CGEMM_NR + 16 * half, CGEMM_NR, (__mmask16)0xFFFF);
                }
            }
        } else {
            // The same with column j of op(B) at rows[j].
            for (long half = 0; half < 2; half++) {
                long count16 = nr - 16 * half;
                const float *row[16];
                for (long i = 0; i < 16; i++) row[i] = i < count16 ? rows[j + 16 * half + i] : 0;
                for (long p = 0; p < kc; p += 16) {
                    long count = kc - p < 16 ? kc - p : 16;
                    cgemm_transpose_rows(row, p0 + p, count16 < 0 ? 0 : count16, count,
                                         dst + p * CGEMM_NR + 16 * half, CGEMM_NR, (__mmask16)0xFFFF);
                }
            }
        }
    }
}

CGEMM_TARGET
void cgemm_pack_a(int transA, const float *a, long lda, long i0, long mr, long p0, long kc, float *dst) {
    __mmask16 width = cgemm_mask(CGEMM_MR);
    if (transA) {
        // op(A)[i][p] = A[p·lda + i]: each column of the panel is mr contiguous floats.
        __mmask16 m = cgemm_mask(mr);
        const float *src = a + p0 * lda + i0;
        for (long p = 0; p < kc; p++, src += lda) {
            _mm512_mask_storeu_ps(dst + p * CGEMM_MR, width, _mm512_maskz_loadu_ps(m, src));
        }
    } else {
        // op(A)[i][p] = A[i·lda + p]: mr stored rows by 16 p at a time, transposed.
        const float *src = a + i0 * lda + p0;
        for (long p = 0; p < kc; p += 16) {
            long count = kc - p < 16 ? kc - p : 16;
            cgemm_transpose_block(src + p, lda, mr, count, dst + p * CGEMM_MR, CGEMM_MR, width);
        }
    }
}

#endif
