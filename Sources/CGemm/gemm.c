// canopy_sgemm's driver: argument cases, the blocking loops and per-thread buffers.
#include "cgemm.h"
#include "gemm_internal.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include "CCPUKernels.h"

// The processor and OS check is CCPUKernels' (the AVX-512 variant needs F, DQ, BW, VL and FMA with the zmm state
// saved); it runs CPUID each time, so its answer is kept.
static int cgemm_supported_flag;
static pthread_once_t cgemm_detect_once = PTHREAD_ONCE_INIT;
static void cgemm_detect_now(void) { cgemm_supported_flag = canopy_vectors_supported() == canopy_vectors_avx512; }

int canopy_gemm_supported(void) {
    pthread_once(&cgemm_detect_once, cgemm_detect_now);
    return cgemm_supported_flag;
}

// Per-thread packing memory: one B block (KC × NC), one A micro-panel (MR × KC) and one tile (MR × NR), 64-byte
// aligned, allocated on a thread's first product and freed by the key's destructor when the thread exits.
typedef struct {
    float *b, *a, *tile;
} cgemm_buffers;

static pthread_key_t cgemm_key;
static pthread_once_t cgemm_once = PTHREAD_ONCE_INIT;

static void cgemm_free(void *p) { free(p); }
static void cgemm_make_key(void) { pthread_key_create(&cgemm_key, cgemm_free); }

static int cgemm_get_buffers(cgemm_buffers *out) {
    pthread_once(&cgemm_once, cgemm_make_key);
    float *base = pthread_getspecific(cgemm_key);
    const size_t bFloats = (size_t)CGEMM_KC * CGEMM_NC, aFloats = (size_t)CGEMM_MR * CGEMM_KC;
    const size_t tileFloats = (size_t)CGEMM_MR * CGEMM_NR;
    if (!base) {
        base = aligned_alloc(64, (bFloats + aFloats + tileFloats) * sizeof(float));
        if (!base) return 0;
        pthread_setspecific(cgemm_key, base);
    }
    out->b = base;
    out->a = base + bFloats;
    out->tile = base + bFloats + aFloats;
    return 1;
}
#else
int canopy_gemm_supported(void) { return 0; }
#endif

/// C = beta · C over m×n (beta == 0 writes zeros, ignoring NaN).
static void cgemm_scale(long m, long n, float beta, float *c, long ldc) {
    if (beta == 1) return;
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0) {
            for (long j = 0; j < n; j++) row[j] = 0;
        } else {
            for (long j = 0; j < n; j++) row[j] *= beta;
        }
    }
}

/// Plain triple loop with the same semantics, for builds without the AVX-512 path (or if memory ran out).
static void cgemm_reference(int transA, int transB, long m, long n, long k, float alpha, const float *a,
                            long lda, const float *b, long ldb, const float *const *rows, float beta, float *c,
                            long ldc) {
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            float sum = 0;
            for (long p = 0; p < k; p++) {
                const float bpj = transB ? (rows ? rows[j][p] : b[j * ldb + p]) : (rows ? rows[p][j] : b[p * ldb + j]);
                sum += (transA ? a[p * lda + i] : a[i * lda + p]) * bpj;
            }
            float *x = c + i * ldc + j;
            *x = alpha * sum + (beta == 0 ? 0 : beta * *x);
        }
    }
}

/// The driver of both entry points: B is `b` (rows ldb apart) or, when `rows` is given, its stored rows' starts.
static void cgemm_run(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, const float *const *rows, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (alpha == 0 || k <= 0) {
        cgemm_scale(m, n, beta, c, ldc);
        return;
    }
#if defined(__x86_64__)
    cgemm_buffers buf;
    if (!canopy_gemm_supported() || !cgemm_get_buffers(&buf)) {
        cgemm_reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, rows, beta, c, ldc);
        return;
    }
    // Passes over k and blocks of n of equal size, from k and n alone.
    const long passes = (k + CGEMM_KC - 1) / CGEMM_KC, kstep = (k + passes - 1) / passes;
    const long blocks = (n + CGEMM_NC - 1) / CGEMM_NC;
    const long nstep = ((n + blocks - 1) / blocks + CGEMM_NR - 1) / CGEMM_NR * CGEMM_NR;
    const int directA = !transA && nstep <= CGEMM_DIRECT_A_COLUMNS;
    for (long j0 = 0; j0 < n; j0 += nstep) {
        const long nc = n - j0 < nstep ? n - j0 : nstep;
        for (long p0 = 0; p0 < k; p0 += kstep) {
            const long kc = k - p0 < kstep ? k - p0 : kstep;
            const float passBeta = p0 == 0 ? beta : 1;
            // With few rows of C (each B panel used by at most CGEMM_DIRECT_B_ROWS / MR A micro-panels), an
            // untransposed B is read in place (op(B)'s rows are stored rows, ldb apart), except a last panel
            // narrower than NR, which is packed so that no read passes a row's end. Otherwise (and always for B
            // given by its rows) B is packed whole: for larger m its packed block stays in L2 without the
            // stride's set conflicts and TLB misses.
            const long full = transB || rows || m > CGEMM_DIRECT_B_ROWS ? 0 : nc / CGEMM_NR * CGEMM_NR;
            cgemm_pack_b(transB, b, ldb, rows, p0, kc, j0 + full, nc - full, buf.b);
            for (long i0 = 0; i0 < m; i0 += CGEMM_MR) {
                const long mr = m - i0 < CGEMM_MR ? m - i0 : CGEMM_MR;
                // An untransposed A is read in place where few B panels would reuse its packed copy (and the
                // kernel reads only its rows: mr is 4, 8 or 12); otherwise its micro-panel is packed.
                const int aInPlace = directA && (mr == CGEMM_MR || mr == 8 || mr == 4);
                const float *panelA = aInPlace ? a + i0 * lda + p0 : buf.a;
                if (!aInPlace) cgemm_pack_a(transA, a, lda, i0, mr, p0, kc, buf.a);
                for (long jp = 0; jp < nc; jp += CGEMM_NR) {
                    const long nr = nc - jp < CGEMM_NR ? nc - jp : CGEMM_NR;
                    const int inPlace = jp < full;
                    const float *panel = inPlace ? b + p0 * ldb + j0 + jp : buf.b + (jp - full) * kc;
                    cgemm_kernel(mr, nr, kc, panelA, aInPlace ? lda : 1, aInPlace ? 1 : CGEMM_MR,
                                 panel, inPlace ? ldb : CGEMM_NR, buf.tile);
                    cgemm_update(mr, nr, alpha, buf.tile, passBeta, c + i0 * ldc + j0 + jp, ldc);
                }
            }
        }
    }
#else
    cgemm_reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, rows, beta, c, ldc);
#endif
}

void canopy_sgemm(int transA, int transB, long m, long n, long k, float alpha,
                  const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    cgemm_run(transA, transB, m, n, k, alpha, a, lda, b, ldb, 0, beta, c, ldc);
}

void canopy_sgemm_rows(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *const *rows, float beta, float *c, long ldc) {
    cgemm_run(transA, transB, m, n, k, alpha, a, lda, 0, 0, rows, beta, c, ldc);
}
