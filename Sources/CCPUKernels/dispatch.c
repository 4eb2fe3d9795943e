// Compiles kernels-body.h once per instruction set and chooses, once per process, the widest set the processor and
// the operating system support (see CCPUKernels.h).
#include "CCPUKernels.h"
#include <stdatomic.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

// No fused multiply-add anywhere: every variant must round exactly as the others (and as a scalar loop).
#pragma clang fp contract(off)

typedef float canopy_f16 __attribute__((ext_vector_type(16)));
typedef int canopy_i16 __attribute__((ext_vector_type(16)));
#define LOAD16(pointer) ({ canopy_f16 loaded_; __builtin_memcpy(&loaded_, (pointer), sizeof loaded_); loaded_; })
#define STORE16(pointer, value) do { canopy_f16 stored_ = (value); __builtin_memcpy((pointer), &stored_, sizeof stored_); } while (0)

struct canopy_kernel_table {
    void (*relu)(const float *, float *, long);
    void (*relu_backward)(const float *, const float *, float *, long);
    void (*add)(const float *, const float *, float *, long);
    void (*subtract)(const float *, const float *, float *, long);
    void (*multiply)(const float *, const float *, float *, long);
    void (*scale)(const float *, float, float *, long);
    void (*add_scalar)(const float *, float, float *, long);
    void (*bias_add_rows)(const float *, const float *, float *, long, long);
    void (*adam_update)(float *, const float *, float *, float *, long, float, float, float, float, float, float, float);
    void (*sgd_update)(float *, const float *, float *, long, float, float, float);
    void (*rmsprop_update)(float *, const float *, float *, float *, long, float, float, float, float, float);
    float (*dot)(const float *, const float *, long);
    void (*column_sums)(const float *, float *, long, long, long);
    void (*mixture_row)(const float *, const float *, float *, long, long);
    float (*sum)(const float *, long);
    void (*max_pool_2x2_plane)(const float *, long, long, float *, float *);
    void (*max_pool_2x2_backward_plane)(const float *, const float *, long, long, float *);
    long (*max_pool_2x2_inside)(const float *, long, long);
};

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2"))), apply_to = function)
#define VARIANT(name) name##_avx512
#include "kernels-body.h"
#undef VARIANT
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define VARIANT(name) name##_avx2
#include "kernels-body.h"
#undef VARIANT
#pragma clang attribute pop
#endif

#define VARIANT(name) name##_baseline
#include "kernels-body.h"
#undef VARIANT

canopy_vectors canopy_vectors_supported(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return canopy_vectors_baseline;
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((c & osxsave) == 0 || (c & avx) == 0) return canopy_vectors_baseline;
    const int hasFMA = (c & fma) != 0;
    unsigned xcr0, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0High) : "c"(0));
    (void)xcr0High;
    // XCR0: SSE and AVX state (bits 1, 2); AVX-512 opmask and upper registers (bits 5, 6, 7).
    const int ymmState = (xcr0 & 0x06) == 0x06, zmmState = (xcr0 & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return canopy_vectors_baseline;
    const int avx2 = (b >> 5) & 1;
    const int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);  // F, DQ, BW, VL
    if (zmmState && avx512 && avx2 && hasFMA) return canopy_vectors_avx512;
    if (ymmState && avx2) return canopy_vectors_avx2;
#endif
    return canopy_vectors_baseline;
}

static _Atomic int chosen = -1;

static int in_use(void) {
    int vectors = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (vectors < 0) {
        vectors = (int)canopy_vectors_supported();
        atomic_store_explicit(&chosen, vectors, memory_order_relaxed);
    }
    return vectors;
}

canopy_vectors canopy_vectors_in_use(void) { return (canopy_vectors)in_use(); }

void canopy_vectors_use(canopy_vectors vectors) {
    const canopy_vectors supported = canopy_vectors_supported();
    atomic_store_explicit(&chosen, (int)(vectors < supported ? vectors : supported), memory_order_relaxed);
}

static const struct canopy_kernel_table *table(void) {
    switch (in_use()) {
#if defined(__x86_64__)
    case canopy_vectors_avx512: return &table_avx512;
    case canopy_vectors_avx2: return &table_avx2;
#endif
    default: return &table_baseline;
    }
}

void canopy_relu(const float *x, float *y, long count) { table()->relu(x, y, count); }
void canopy_relu_backward(const float *source, const float *dy, float *dx, long count) {
    table()->relu_backward(source, dy, dx, count);
}
void canopy_add(const float *a, const float *b, float *y, long count) { table()->add(a, b, y, count); }
void canopy_subtract(const float *a, const float *b, float *y, long count) { table()->subtract(a, b, y, count); }
void canopy_multiply(const float *a, const float *b, float *y, long count) { table()->multiply(a, b, y, count); }
void canopy_scale(const float *x, float alpha, float *y, long count) { table()->scale(x, alpha, y, count); }
void canopy_add_scalar(const float *x, float bias, float *y, long count) { table()->add_scalar(x, bias, y, count); }
void canopy_bias_add_rows(const float *x, const float *bias, float *y, long rows, long channels) {
    table()->bias_add_rows(x, bias, y, rows, channels);
}
void canopy_adam_update(float *param, const float *grad, float *m, float *v, long count, float lr, float beta1,
                        float beta2, float epsilon, float decay, float correction1, float correction2) {
    table()->adam_update(param, grad, m, v, count, lr, beta1, beta2, epsilon, decay, correction1, correction2);
}
void canopy_sgd_update(float *param, const float *grad, float *velocity, long count, float lr, float momentum,
                       float weight_decay) {
    table()->sgd_update(param, grad, velocity, count, lr, momentum, weight_decay);
}
void canopy_rmsprop_update(float *param, const float *grad, float *square, float *buffer, long count, float lr,
                           float alpha, float epsilon, float momentum, float weight_decay) {
    table()->rmsprop_update(param, grad, square, buffer, count, lr, alpha, epsilon, momentum, weight_decay);
}
float canopy_dot(const float *a, const float *b, long count) { return table()->dot(a, b, count); }
float canopy_sum(const float *x, long count) { return table()->sum(x, count); }
void canopy_column_sums(const float *x, float *sums, long rows, long columns, long stride) {
    table()->column_sums(x, sums, rows, columns, stride);
}
void canopy_mixture_row(const float *gates, const float *values, float *y, long experts, long features) {
    table()->mixture_row(gates, values, y, experts, features);
}
void canopy_max_pool_2x2_plane(const float *x, long inHeight, long inWidth, float *y, float *index) {
    table()->max_pool_2x2_plane(x, inHeight, inWidth, y, index);
}
void canopy_max_pool_2x2_backward_plane(const float *dy, const float *index, long inHeight, long inWidth, float *dx) {
    table()->max_pool_2x2_backward_plane(dy, index, inHeight, inWidth, dx);
}
long canopy_max_pool_2x2_inside(const float *index, long inHeight, long inWidth) {
    return table()->max_pool_2x2_inside(index, inHeight, inWidth);
}
