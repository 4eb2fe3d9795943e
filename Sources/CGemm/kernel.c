// The AVX-512 microkernel (12×32 tile of C) and the update of C from a finished tile.
//
// The k loop is inline assembly, so it runs at full speed in debug builds too (SwiftPM compiles C at -O0
// there, where intrinsics would keep every accumulator in memory). Packing and the C update are intrinsics.
#include "gemm_internal.h"

#if defined(__x86_64__)

// One step of k: B's row of 32 (zmm30, zmm31), then for each of the 12 rows of A one broadcast folded into
// two FMAs. `o` is the row's byte offset in the packed A column.
#define CGEMM_ROW(o, c0, c1) \
    "vfmadd231ps " #o "(%[a])%{1to16%}, %%zmm30, %%zmm" #c0 "\n\t" \
    "vfmadd231ps " #o "(%[a])%{1to16%}, %%zmm31, %%zmm" #c1 "\n\t"

#define CGEMM_STEP \
    "vmovups (%[b]), %%zmm30\n\t" \
    "vmovups 64(%[b]), %%zmm31\n\t" \
    CGEMM_ROW(0, 0, 1) CGEMM_ROW(4, 2, 3) CGEMM_ROW(8, 4, 5) CGEMM_ROW(12, 6, 7) \
    CGEMM_ROW(16, 8, 9) CGEMM_ROW(20, 10, 11) CGEMM_ROW(24, 12, 13) CGEMM_ROW(28, 14, 15) \
    CGEMM_ROW(32, 16, 17) CGEMM_ROW(36, 18, 19) CGEMM_ROW(40, 20, 21) CGEMM_ROW(44, 22, 23) \
    "add $48, %[a]\n\t" \
    "add %[bs], %[b]\n\t"

#define CGEMM_STORE(r, o) "vmovaps %%zmm" #r ", " #o "(%[t])\n\t"

CGEMM_TARGET
void cgemm_kernel(long kc, const float *a, const float *b, long bstride, float *tile) {
    long quads = kc >> 2, rest = kc & 3;
    long bs = bstride * 4;
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"   "vmovaps %%zmm0, %%zmm1\n\t"
        "vmovaps %%zmm0, %%zmm2\n\t"  "vmovaps %%zmm0, %%zmm3\n\t"  "vmovaps %%zmm0, %%zmm4\n\t"
        "vmovaps %%zmm0, %%zmm5\n\t"  "vmovaps %%zmm0, %%zmm6\n\t"  "vmovaps %%zmm0, %%zmm7\n\t"
        "vmovaps %%zmm0, %%zmm8\n\t"  "vmovaps %%zmm0, %%zmm9\n\t"  "vmovaps %%zmm0, %%zmm10\n\t"
        "vmovaps %%zmm0, %%zmm11\n\t" "vmovaps %%zmm0, %%zmm12\n\t" "vmovaps %%zmm0, %%zmm13\n\t"
        "vmovaps %%zmm0, %%zmm14\n\t" "vmovaps %%zmm0, %%zmm15\n\t" "vmovaps %%zmm0, %%zmm16\n\t"
        "vmovaps %%zmm0, %%zmm17\n\t" "vmovaps %%zmm0, %%zmm18\n\t" "vmovaps %%zmm0, %%zmm19\n\t"
        "vmovaps %%zmm0, %%zmm20\n\t" "vmovaps %%zmm0, %%zmm21\n\t" "vmovaps %%zmm0, %%zmm22\n\t"
        "vmovaps %%zmm0, %%zmm23\n\t"
        "test %[q], %[q]\n\t"
        "jz 2f\n\t"
        "1:\n\t"
        CGEMM_STEP CGEMM_STEP CGEMM_STEP CGEMM_STEP
        "dec %[q]\n\t"
        "jnz 1b\n\t"
        "2:\n\t"
        "test %[r], %[r]\n\t"
        "jz 4f\n\t"
        "3:\n\t"
        CGEMM_STEP
        "dec %[r]\n\t"
        "jnz 3b\n\t"
        "4:\n\t"
        CGEMM_STORE(0, 0)      CGEMM_STORE(1, 64)     CGEMM_STORE(2, 128)    CGEMM_STORE(3, 192)
        CGEMM_STORE(4, 256)    CGEMM_STORE(5, 320)    CGEMM_STORE(6, 384)    CGEMM_STORE(7, 448)
        CGEMM_STORE(8, 512)    CGEMM_STORE(9, 576)    CGEMM_STORE(10, 640)   CGEMM_STORE(11, 704)
        CGEMM_STORE(12, 768)   CGEMM_STORE(13, 832)   CGEMM_STORE(14, 896)   CGEMM_STORE(15, 960)
        CGEMM_STORE(16, 1024)  CGEMM_STORE(17, 1088)  CGEMM_STORE(18, 1152)  CGEMM_STORE(19, 1216)
        CGEMM_STORE(20, 1280)  CGEMM_STORE(21, 1344)  CGEMM_STORE(22, 1408)  CGEMM_STORE(23, 1472)
        "vzeroupper\n\t"
        : [a] "+r"(a), [b] "+r"(b), [q] "+r"(quads), [r] "+r"(rest)
        : [bs] "r"(bs), [t] "r"(tile)
        : "cc", "memory",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
          "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
          "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

CGEMM_TARGET
void cgemm_update(long mr, long nr, float alpha, const float *tile, float beta, float *c, long ldc) {
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (long i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        __m512 t0 = _mm512_mul_ps(va, _mm512_load_ps(tile + i * CGEMM_NR));
        __m512 t1 = _mm512_mul_ps(va, _mm512_load_ps(tile + i * CGEMM_NR + 16));
        if (beta != 0) {
            t0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), t0);
            t1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), t1);
        }
        _mm512_mask_storeu_ps(row, m0, t0);
        _mm512_mask_storeu_ps(row + 16, m1, t1);
    }
}

#endif
