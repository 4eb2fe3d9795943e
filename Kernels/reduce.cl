// =================================================================================================
// Canopy OpenCL kernels: reduce.cl
//
// Whole-array reductions to one float: sum and sum of squares, in two passes.
// Pass 1 (canopy_*_partial): G work-groups of L work-items (L a power of two ≤ REDUCE_WG). The array is
// read as vectors of REDUCE_VEC floats: work-item g of the launch adds vectors g, g + G·L, g + 2·G·L, ...
// into a vector accumulator (neighbouring work-items read neighbouring vectors), adds the vector's lanes,
// and work-item g also adds the scalar tail element count − count % REDUCE_VEC + g when it exists. Each
// work-group then adds its L values in a fixed tree in local memory and writes partial[group]. Pass 2 (canopy_sum_final):
// one work-group reduces the G partials the same way. With G = 1 the host skips pass 2 and pass 1
// writes the result directly. The order of additions depends only on (count, G, L): deterministic.
// =================================================================================================

#ifndef REDUCE_WG
#define REDUCE_WG 256   // the largest work-group size the host will use; sizes the local array
#endif
#ifndef REDUCE_VEC
#define REDUCE_VEC 4    // floats per load: 4, 8 or 16
#endif

#if REDUCE_VEC == 4
  #define floatV float4
  #define vloadV vload4
  #define LANES(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif REDUCE_VEC == 8
  #define floatV float8
  #define vloadV vload8
  #define LANES(v) ((((v).s0 + (v).s1) + ((v).s2 + (v).s3)) + (((v).s4 + (v).s5) + ((v).s6 + (v).s7)))
#elif REDUCE_VEC == 16
  #define floatV float16
  #define vloadV vload16
  #define LANES(v) (((((v).s0 + (v).s1) + ((v).s2 + (v).s3)) + (((v).s4 + (v).s5) + ((v).s6 + (v).s7))) + \
                    ((((v).s8 + (v).s9) + ((v).sa + (v).sb)) + (((v).sc + (v).sd) + ((v).se + (v).sf))))
#else
  #error "REDUCE_VEC must be 4, 8 or 16"
#endif

// Tree sum of one value per work-item over the work-group; every work-item must call it.
inline float group_sum(float value, __local float* scratch) {
    const int L = (int)get_local_size(0), l = (int)get_local_id(0);
    scratch[l] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = L / 2; stride > 0; stride >>= 1) {
        if (l < stride) scratch[l] += scratch[l + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[0];
}

// The body of both partial kernels: SQUARE(v) is v or v·v.
#define PARTIAL_SUM(SQUARE)                                                                            \
    __local float scratch[REDUCE_WG];                                                                  \
    const int stride = (int)get_global_size(0), g = (int)get_global_id(0);                            \
    const int vectors = count / REDUCE_VEC;                                                            \
    floatV acc = (floatV)(0.0f);                                                                       \
    for (int i = g; i < vectors; i += stride) { const floatV v = vloadV(i, x); acc += SQUARE(v); }     \
    float total = LANES(acc);                                                                          \
    const int tail = vectors * REDUCE_VEC + g;                                                         \
    if (tail < count) { const float t = x[tail]; total += SQUARE(t); }                                 \
    total = group_sum(total, scratch);                                                                 \
    if (get_local_id(0) == 0) partial[get_group_id(0)] = total;

#define IDENTITY(v) (v)
#define SQUARED(v) ((v) * (v))

// partial[group] = Σ x[i] over the elements this work-group visits (see the banner).
__kernel void canopy_sum_partial(__global const float* x, __global float* partial, const int count) {
    PARTIAL_SUM(IDENTITY)
}

// partial[group] = Σ x[i]² over the elements this work-group visits.
__kernel void canopy_sum_of_squares_partial(__global const float* x, __global float* partial, const int count) {
    PARTIAL_SUM(SQUARED)
}

// y[0] = Σ partial[0 ..< count], by one work-group.
__kernel void canopy_sum_final(__global const float* partial, __global float* y, const int count) {
    __local float scratch[REDUCE_WG];
    const int L = (int)get_local_size(0);
    float acc = 0.0f;
    for (int i = (int)get_local_id(0); i < count; i += L) acc += partial[i];
    const float total = group_sum(acc, scratch);
    if (get_local_id(0) == 0) y[0] = total;
}
