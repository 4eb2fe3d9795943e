// The AVX-512 microkernels (tiles of up to 12×32 of C) and the update of C from a finished tile.
//
// The k loop is inline assembly, so it runs at full speed in debug builds too (SwiftPM compiles C at -O0
// there, where intrinsics would keep every accumulator in memory). Packing and the C update are intrinsics.
// Six variants: 12, 8 or 4 rows (a last panel of C's rows) by 32 or 16 columns (a last panel of C's columns,
// or n ≤ 16), so an edge tile does not pay for a full one. Accumulators: row r in zmm(2r) (columns 0–15) and
// zmm(2r+1) (16–31); B's row in zmm30 and zmm31.
#include "gemm_internal.h"

#if defined(__x86_64__)

// One FMA per (row, half): A's element broadcast from memory, folded into the FMA. Row r of A's column is at
// base + (r mod 4)·rs, base = a0, a4 or a8 (rows 0, 4 and 8), so A may be packed (rs = 4 bytes, 48 bytes a
// step) or read in place (rs = lda·4 bytes, 4 bytes a step).
#define CGEMM_FMA(addr, bz, c) "vfmadd231ps " addr "%{1to16%}, %%zmm" #bz ", %%zmm" #c "\n\t"
#define CGEMM_W32(addr, c0, c1) CGEMM_FMA(addr, 30, c0) CGEMM_FMA(addr, 31, c1)
#define CGEMM_W16(addr, c0, c1) CGEMM_FMA(addr, 30, c0)
#define CGEMM_LOAD_W32 "vmovups (%[b]), %%zmm30\n\t" "vmovups 64(%[b]), %%zmm31\n\t"
#define CGEMM_LOAD_W16 "vmovups (%[b]), %%zmm30\n\t"

// Four rows from one base, for width W (W32 or W16), then rows 0–3, 0–7 or 0–11 of one step.
#define CGEMM_QUAD(W, base, c0, c1, c2, c3, c4, c5, c6, c7) \
    W("(%[" base "])", c0, c1) W("(%[" base "],%[rs],1)", c2, c3) \
    W("(%[" base "],%[rs],2)", c4, c5) W("(%[" base "],%[rs3],1)", c6, c7)
#define CGEMM_ROWS4(W) CGEMM_QUAD(W, "a0", 0, 1, 2, 3, 4, 5, 6, 7)
#define CGEMM_ROWS8(W) CGEMM_ROWS4(W) CGEMM_QUAD(W, "a4", 8, 9, 10, 11, 12, 13, 14, 15)
#define CGEMM_ROWS12(W) CGEMM_ROWS8(W) CGEMM_QUAD(W, "a8", 16, 17, 18, 19, 20, 21, 22, 23)

#define CGEMM_STEP(ROWS, W, LOAD) \
    LOAD ROWS(W) "add %[cs], %[a0]\n\t" "add %[cs], %[a4]\n\t" "add %[cs], %[a8]\n\t" "add %[bs], %[b]\n\t"

// For each accumulator of rows 0–3 (0–7, 0–11) at width 32: OP(register, tile byte offset).
#define CGEMM_ACC4(OP) OP(0, 0) OP(1, 64) OP(2, 128) OP(3, 192) OP(4, 256) OP(5, 320) OP(6, 384) OP(7, 448)
#define CGEMM_ACC8(OP) CGEMM_ACC4(OP) OP(8, 512) OP(9, 576) OP(10, 640) OP(11, 704) \
    OP(12, 768) OP(13, 832) OP(14, 896) OP(15, 960)
#define CGEMM_ACC12(OP) CGEMM_ACC8(OP) OP(16, 1024) OP(17, 1088) OP(18, 1152) OP(19, 1216) \
    OP(20, 1280) OP(21, 1344) OP(22, 1408) OP(23, 1472)
#define CGEMM_ZERO(c, o) "vpxord %%zmm" #c ", %%zmm" #c ", %%zmm" #c "\n\t"
#define CGEMM_STORE(c, o) "vmovaps %%zmm" #c ", " #o "(%[t])\n\t"

// A microkernel: tile = Σ over kc steps of A's column × B's row, the k loop unrolled by four; tile rows are NR
// floats apart whatever the width. rs, cs and bs are byte strides (A's rows, A's steps, B's rows).
#define CGEMM_DEFINE_KERNEL(name, ROWS, W, LOAD, ACC)                                                    \
    CGEMM_TARGET static void name(long kc, const float *a0, long rs, long cs, const float *b, long bs,    \
                                  float *tile) {                                                           \
        long quads = kc >> 2, rest = kc & 3, rs3 = 3 * rs;                                                \
        const float *a4 = (const float *)((const char *)a0 + 4 * rs);                                     \
        const float *a8 = (const float *)((const char *)a0 + 8 * rs);                                     \
        __asm__ volatile(                                                                                  \
            ACC(CGEMM_ZERO)                                                                                \
            "test %[q], %[q]\n\t" "jz 2f\n\t"                                                             \
            "1:\n\t"                                                                                       \
            CGEMM_STEP(ROWS, W, LOAD) CGEMM_STEP(ROWS, W, LOAD)                                            \
            CGEMM_STEP(ROWS, W, LOAD) CGEMM_STEP(ROWS, W, LOAD)                                            \
            "dec %[q]\n\t" "jnz 1b\n\t"                                                                   \
            "2:\n\t" "test %[r], %[r]\n\t" "jz 4f\n\t"                                                    \
            "3:\n\t"                                                                                       \
            CGEMM_STEP(ROWS, W, LOAD)                                                                      \
            "dec %[r]\n\t" "jnz 3b\n\t"                                                                   \
            "4:\n\t"                                                                                       \
            ACC(CGEMM_STORE)                                                                               \
            "vzeroupper\n\t"                                                                               \
            : [a0] "+r"(a0), [a4] "+r"(a4), [a8] "+r"(a8), [b] "+r"(b), [q] "+r"(quads), [r] "+r"(rest)    \
            : [rs] "r"(rs), [rs3] "r"(rs3), [cs] "r"(cs), [bs] "r"(bs), [t] "r"(tile)                      \
            : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",            \
              "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",             \
              "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30", "xmm31");          \
    }

CGEMM_DEFINE_KERNEL(cgemm_kernel_12x32, CGEMM_ROWS12, CGEMM_W32, CGEMM_LOAD_W32, CGEMM_ACC12)
CGEMM_DEFINE_KERNEL(cgemm_kernel_12x16, CGEMM_ROWS12, CGEMM_W16, CGEMM_LOAD_W16, CGEMM_ACC12)
CGEMM_DEFINE_KERNEL(cgemm_kernel_8x32, CGEMM_ROWS8, CGEMM_W32, CGEMM_LOAD_W32, CGEMM_ACC8)
CGEMM_DEFINE_KERNEL(cgemm_kernel_8x16, CGEMM_ROWS8, CGEMM_W16, CGEMM_LOAD_W16, CGEMM_ACC8)
CGEMM_DEFINE_KERNEL(cgemm_kernel_4x32, CGEMM_ROWS4, CGEMM_W32, CGEMM_LOAD_W32, CGEMM_ACC4)
CGEMM_DEFINE_KERNEL(cgemm_kernel_4x16, CGEMM_ROWS4, CGEMM_W16, CGEMM_LOAD_W16, CGEMM_ACC4)

void cgemm_kernel(long mr, long nr, long kc, const float *a, long ars, long acs, const float *b, long bstride,
                  float *tile) {
    long rs = ars * 4, cs = acs * 4, bs = bstride * 4;
    if (nr > 16) {
        if (mr > 8) cgemm_kernel_12x32(kc, a, rs, cs, b, bs, tile);
        else if (mr > 4) cgemm_kernel_8x32(kc, a, rs, cs, b, bs, tile);
        else cgemm_kernel_4x32(kc, a, rs, cs, b, bs, tile);
    } else {
        if (mr > 8) cgemm_kernel_12x16(kc, a, rs, cs, b, bs, tile);
        else if (mr > 4) cgemm_kernel_8x16(kc, a, rs, cs, b, bs, tile);
        else cgemm_kernel_4x16(kc, a, rs, cs, b, bs, tile);
    }
}

CGEMM_TARGET
void cgemm_update(long mr, long nr, float alpha, const float *tile, float beta, float *c, long ldc) {
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    // The second half only when some of its columns exist: a fully masked load or store still costs a microcode
    // assist when its address lies in an unmapped page (past C's end on the last rows).
    for (long i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        __m512 t0 = _mm512_mul_ps(va, _mm512_load_ps(tile + i * CGEMM_NR));
        if (beta != 0) t0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), t0);
        _mm512_mask_storeu_ps(row, m0, t0);
        if (m1) {
            __m512 t1 = _mm512_mul_ps(va, _mm512_load_ps(tile + i * CGEMM_NR + 16));
            if (beta != 0) t1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), t1);
            _mm512_mask_storeu_ps(row + 16, m1, t1);
        }
    }
}

#endif
