// =================================================================================================
// Canopy OpenCL kernels: mixture.cl
//
// Combining and splitting activations: the strided block copy behind concatenation and slicing along
// any axis (cross-stitch units, task towers reading shared features), and the gated sum of expert
// outputs of a multi-gate mixture of experts (MMoE) with both of its gradients.
//
// Layouts, all row-major float32: gates [rows, experts], values [rows, experts, features],
// y and dy [rows, features]. The element-wise kernels use a 2-D launch: dimension 0 runs along the
// contiguous axis (columns or features), dimension 1 along rows; global sizes are rounded up to the
// work-group shape, so every kernel checks both indices. The gates gradient is a row reduction and
// uses the row-team launch of common.cl with one row per (sample, expert) pair.
// =================================================================================================

// y[r·yStride + yOffset + c] = x[r·xStride + xOffset + c] for r < rows, c < cols.
// Work-item (c, r) copies one element; no other element of y is read or written. The host checks that
// the strides are at least cols (block rows never overlap) and that both blocks fit their buffers.
__kernel void canopy_copy_block(__global const float* x, __global float* y, const int rows, const int cols,
                                const int xStride, const int xOffset, const int yStride, const int yOffset) {
    const int c = (int)get_global_id(0), r = (int)get_global_id(1);
    if (c < cols && r < rows) y[r * yStride + yOffset + c] = x[r * xStride + xOffset + c];
}

// y[n, f] = Σ_e gates[n, e] · values[n, e, f], summed over e in increasing order (as the CPU backend does).
// Work-item (f, n) computes one output; neighbouring work-items read neighbouring features of each expert.
__kernel void canopy_mixture(__global const float* gates, __global const float* values, __global float* y,
                             const int rows, const int experts, const int features) {
    const int f = (int)get_global_id(0), n = (int)get_global_id(1);
    if (f >= features || n >= rows) return;
    __global const float* gn = gates + n * experts;
    __global const float* vn = values + n * experts * features + f;
    float acc = gn[0] * vn[0];
    for (int e = 1; e < experts; ++e) acc += gn[e] * vn[e * features];
    y[n * features + f] = acc;
}

// dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]. Row-team launch (common.cl) over rows · experts rows of
// `features` elements: row q = n·experts + e; the T lanes of its team each sum the features f ≡ lane (mod T),
// then the team adds the lane sums.
__kernel void canopy_mixture_backward_gates(__global const float* values, __global const float* dy,
                                            __global float* dGates, const int rows, const int experts,
                                            const int features) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), q = (int)get_global_id(1);
    const bool live = q < rows * experts;
    float acc = 0.0f;
    if (live) {
        __global const float* vq = values + q * features;
        __global const float* dyn = dy + (q / experts) * features;
        for (int f = lane; f < features; f += T) acc += dyn[f] * vq[f];
    }
    const float total = team_sum(acc, scratch);
    if (live && lane == 0) dGates[q] = total;
}

// dValues[n, e, f] = gates[n, e] · dy[n, f], or with accumulate ≠ 0 dValues[n, e, f] += that product (a
// gradient sum computed into). A 3-D launch: work-item (f, e, n) writes one element (no division to split a
// flat index, which devices without vector integer division scalarise).
__kernel void canopy_mixture_backward_values(__global const float* gates, __global const float* dy,
                                             __global float* dValues, const int rows, const int experts,
                                             const int features, const int accumulate) {
    const int f = (int)get_global_id(0), e = (int)get_global_id(1), n = (int)get_global_id(2);
    if (f >= features || e >= experts || n >= rows) return;
    const int q = n * experts + e, at = q * features + f;
    const float term = gates[q] * dy[n * features + f];
    dValues[at] = accumulate ? dValues[at] + term : term;
}

// A softmax gate and its mixture (the executor's fusion of canopy_softmax and canopy_mixture). Work-item
// (x, n) computes y[n, 16x ..< 16x + 16] (fewer at the row's end) with 16-float vector loads of each expert's
// values, and the work-group's rows' gates are shared through local memory: first the work-item with local
// x = 0 of each row takes the row's maximum, exp-sum and gates in order (as canopy_softmax does for a row of
// one lane), keeps them in local memory and, in the row's first work-group along x, writes them out; after a
// barrier every work-item sums the experts in increasing e as canopy_mixture does. The host sizes the
// work-group so that its rows' gates fit ROW_TEAM_WG floats (rows per group ≤ ROW_TEAM_WG / experts).
__kernel void canopy_mixture_softmax(__global const float* logits, __global const float* values,
                                     __global float* gates, __global float* y, const int rows,
                                     const int experts, const int features) {
    __local float shared[ROW_TEAM_WG];
    const int f0 = (int)get_global_id(0) * 16, n = (int)get_global_id(1);
    const bool live = n < rows;
    __local float* gn = shared + (int)get_local_id(1) * experts;
    if (live && get_local_id(0) == 0) {
        __global const float* ln = logits + n * experts;
        float m = ln[0];
        for (int e = 1; e < experts; ++e) m = fmax(m, ln[e]);
        float s = 0.0f;
        for (int e = 0; e < experts; ++e) s += exp(ln[e] - m);
        const bool writes = get_group_id(0) == 0;
        for (int e = 0; e < experts; ++e) {
            gn[e] = exp(ln[e] - m) / s;
            if (writes) gates[n * experts + e] = gn[e];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (!live || f0 >= features) return;
    __global const float* vn = values + n * experts * features + f0;
    __global float* yn = y + n * features + f0;
    if (f0 + 16 <= features) {
        float16 acc = gn[0] * vload16(0, vn);
        for (int e = 1; e < experts; ++e) acc += gn[e] * vload16(0, vn + e * features);
        vstore16(acc, 0, yn);
    } else {
        for (int f = 0; f < features - f0; ++f) {
            float acc = gn[0] * vn[f];
            for (int e = 1; e < experts; ++e) acc += gn[e] * vn[e * features + f];
            yn[f] = acc;
        }
    }
}

// The gates gradient through their softmax (the executor's fusion of canopy_mixture_backward_gates and
// canopy_softmax_backward). Row-team launch, one team per sample n: for each expert e the team sums
// dGates[n, e] = Σ_f dy[n, f] · values[n, e, f] (lanes over f ≡ lane (mod T), a lane alone on its row 16
// features at a time; then team_sum, which every lane gets), and every lane accumulates dot = Σ_e dGates ·
// gates in the same order; lane 0 keeps each dGates in dLogits[n, e] and finally rewrites it as
// gates · (dGates − dot), as canopy_softmax_backward.
__kernel void canopy_mixture_backward_logits(__global const float* values, __global const float* gates,
                                             __global const float* dy, __global float* dLogits,
                                             const int rows, const int experts, const int features) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), n = (int)get_global_id(1);
    const bool live = n < rows;
    const int row = live ? n : 0;
    __global const float* dyn = dy + row * features;
    __global const float* gn = gates + row * experts;
    __global float* dn = dLogits + row * experts;
    float dot = 0.0f;
    for (int e = 0; e < experts; ++e) {
        __global const float* ve = values + (row * experts + e) * features;
        float acc = 0.0f;
        if (live && T == 1) {
            // A lane alone on its row (many rows, as on CPU drivers): 16 features at a time.
            float16 sum16 = (float16)(0.0f);
            int f = 0;
            for (; f + 16 <= features; f += 16) sum16 = fma(vload16(0, dyn + f), vload16(0, ve + f), sum16);
            // Through a private array: Oclgrind's uninitialised-value check loses track of .lo/.hi halves.
            float lanes[16];
            vstore16(sum16, 0, lanes);
            for (int i = 0; i < 16; ++i) acc += lanes[i];
            for (; f < features; ++f) acc += dyn[f] * ve[f];
        } else if (live) {
            for (int f = lane; f < features; f += T) acc += dyn[f] * ve[f];
        }
        const float dGate = team_sum(acc, scratch);
        dot += dGate * gn[e];
        if (live && lane == 0) dn[e] = dGate;
    }
    if (live && lane == 0) for (int e = 0; e < experts; ++e) dn[e] = gn[e] * (dn[e] - dot);
}
