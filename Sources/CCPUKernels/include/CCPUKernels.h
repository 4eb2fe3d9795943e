// Canopy's CPU element-wise and optimizer kernels, in C so that they run on the widest vector instructions the
// processor has: each kernel is compiled three times (AVX-512, AVX2, and the x86-64 baseline or the host's own
// vectors elsewhere) and the variant to run is chosen once per process from the processor's features. Swift's own
// SIMD types compile for the baseline only (SSE2 on x86-64), at a quarter of AVX-512's width.
//
// Every variant does the same IEEE operations in the same order with no fused multiply-add (contraction is off),
// so results are bit-identical whichever variant runs, to one another and to a plain scalar loop.
// Pointers may be equal (in-place) but must not otherwise overlap.
#ifndef CANOPY_CPU_KERNELS_H
#define CANOPY_CPU_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction sets a variant may use.
typedef enum {
    canopy_vectors_baseline = 0,
    canopy_vectors_avx2 = 1,
    canopy_vectors_avx512 = 2,
} canopy_vectors;

/// The widest variant this processor and operating system support (AVX-512: F, DQ, BW, VL, AVX2 and FMA, with
/// the opmask and zmm state saved by the OS; AVX2: with the ymm state saved). CGemm's AVX-512 check is this one.
canopy_vectors canopy_vectors_supported(void);
/// The variant the kernels run (the widest supported, unless set).
canopy_vectors canopy_vectors_in_use(void);
/// Runs the kernels on `vectors` (at most the supported ones; a wider choice is lowered). For tests and
/// benchmarks: call it before starting kernels on other threads.
void canopy_vectors_use(canopy_vectors vectors);

/// `y = x > 0 ? x : 0` (NaN gives 0).
void canopy_relu(const float *x, float *y, long count);
/// `dx = source > 0 ? dy : 0`, where `source` is relu's input or output.
void canopy_relu_backward(const float *source, const float *dy, float *dx, long count);
/// `y = a + b`, `y = a − b`, `y = a · b`.
void canopy_add(const float *a, const float *b, float *y, long count);
void canopy_subtract(const float *a, const float *b, float *y, long count);
void canopy_multiply(const float *a, const float *b, float *y, long count);
/// `y = alpha · x`.
void canopy_scale(const float *x, float alpha, float *y, long count);
/// `y[r, c] = x[r, c] + bias[c]` over `rows` rows of `channels`.
void canopy_bias_add_rows(const float *x, const float *bias, float *y, long rows, long channels);
/// `y[i] = x[i] + bias` over `count` elements (one channel's plane of a convolution's output).
void canopy_add_scalar(const float *x, float bias, float *y, long count);

/// AdamW as the CPU backend documents it: `param −= decay·param`, `m = β1·m + (1−β1)·g`,
/// `v = β2·v + (1−β2)·g²`, `param −= lr · (m / c1) / (sqrt(v / c2) + ε)`; `decay = lr·wd`, `c = 1 − βᵗ`.
void canopy_adam_update(float *param, const float *grad, float *m, float *v, long count, float lr, float beta1,
                        float beta2, float epsilon, float decay, float correction1, float correction2);
/// SGD: `g = grad + wd·param`, `velocity = momentum·velocity + g`, `param −= lr·velocity`.
void canopy_sgd_update(float *param, const float *grad, float *velocity, long count, float lr, float momentum,
                       float weight_decay);
/// RMSprop: `g = grad + wd·param`, `square = α·square + (1−α)·g²`, `step = g / (sqrt(square) + ε)`; with momentum
/// `buffer = μ·buffer + step`, `param −= lr·buffer`, else `param −= lr·step` (buffer untouched).
void canopy_rmsprop_update(float *param, const float *grad, float *square, float *buffer, long count, float lr,
                           float alpha, float epsilon, float momentum, float weight_decay);

/// `Σ a[i]·b[i]`, summed pairwise exactly as Canopy's Swift `pairwiseSum` (Summation.swift) sums its terms.
float canopy_dot(const float *a, const float *b, long count);
/// `Σ x[i]`, summed pairwise exactly as Canopy's Swift `pairwiseSum` (Summation.swift) sums its terms.
float canopy_sum(const float *x, long count);
/// `sums[c] = Σ_r x[r·stride + c]` for `c < columns`, each column summed pairwise as `canopy_dot` sums.
void canopy_column_sums(const float *x, float *sums, long rows, long columns, long stride);
/// One sample of a mixture of experts: `y[f] = Σ_e gates[e] · values[e·features + f]`, e in increasing order.
void canopy_mixture_row(const float *gates, const float *values, float *y, long experts, long features);
/// 2×2, stride-2 max pooling of one inHeight × inWidth plane (an odd last row or column in no window): `y` the
/// windows' maxima (the first in row-major order on ties; NaN never wins), `index` their positions in the plane.
void canopy_max_pool_2x2_plane(const float *x, long inHeight, long inWidth, float *y, float *index);
/// Its gradient, for a plane whose indices all lie in their own windows (canopy_max_pool_2x2_inside): writes all
/// of the plane `dx`, `dy + 0` at each window's recorded position and +0 elsewhere.
void canopy_max_pool_2x2_backward_plane(const float *dy, const float *index, long inHeight, long inWidth, float *dx);
/// 1 when each of a plane's recorded indices lies in its own 2×2 window (as maxPool records them), else 0.
long canopy_max_pool_2x2_inside(const float *index, long inHeight, long inWidth);

/// A chunk of a parallel loop: `function(context, chunk)`.
typedef void (*canopy_chunk_function)(void *context, long chunk);
/// Runs `function(context, chunk)` for every chunk in `0 ..< chunks` on up to `threads` threads (the caller and
/// workers of a process-wide pool, which poll for some 10–20 µs between loops before they sleep, so the back-to-
/// back kernels of a training step do not pay for waking a thread). Which thread runs a chunk is not fixed: a chunk
/// must write only its own memory. Returns when every chunk has run. A loop started while another runs (from
/// another thread, or from inside a chunk) runs on its caller's thread alone.
void canopy_parallel_for(long chunks, long threads, canopy_chunk_function function, void *context);

#ifdef __cplusplus
}
#endif
#endif
