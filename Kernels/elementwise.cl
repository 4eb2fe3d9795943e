// =================================================================================================
// Canopy OpenCL kernels: elementwise.cl
//
// Element-wise kernels over flat float32 arrays: fill, copy, unary functions (plain and with a
// parameter) and their gradients,
// binary arithmetic, scaling, bias add and its gradient, and inverted dropout.
// Unless stated otherwise: 1-D launch, work-item i computes element i; the global size is rounded
// up to the work-group size, so every kernel checks i < count.
// =================================================================================================

// y[i] = value
__kernel void canopy_fill(__global float* y, const float value, const int count) {
    const int i = (int)get_global_id(0);
    if (i < count) y[i] = value;
}

// y[i] = x[i]
__kernel void canopy_copy(__global const float* x, __global float* y, const int count) {
    const int i = (int)get_global_id(0);
    if (i < count) y[i] = x[i];
}

// ---- Unary functions: forward y = f(x), backward dx = f'(x) · dy ---------------------------------

// The forward functions (relu_f, sigmoid_f, tanh, gelu_f, silu_f) are in common.cl: the products' epilogues
// (matmul.cl) apply them too.

// Each backward reads what it needs: gelu and silu the input x, relu (y > 0 exactly where x > 0), sigmoid and
// tanh the output y (UnaryFunction.derivativeReadsInput on the host says the same).
inline float relu_grad(float x, float y, float dy) { return y > 0.0f ? dy : 0.0f; }
inline float sigmoid_grad(float x, float y, float dy) { return dy * y * (1.0f - y); }
inline float tanh_grad(float x, float y, float dy) { return dy * (1.0f - y * y); }
inline float gelu_grad(float x, float y, float dy) {
    const float pdf = exp(-0.5f * x * x) * 0.39894228040143268f;   // φ(x) = exp(-x²/2) / √(2π)
    return dy * (gelu_cdf(x) + x * pdf);
}
inline float silu_grad(float x, float y, float dy) {
    const float s = sigmoid_f(x);
    return dy * s * (1.0f + x * (1.0f - s));
}

#define UNARY_KERNELS(NAME, FORWARD, GRAD)                                                           \
__kernel void canopy_##NAME(__global const float* x, __global float* y, const int count) {           \
    const int i = (int)get_global_id(0);                                                             \
    if (i < count) y[i] = FORWARD(x[i]);                                                             \
}                                                                                                    \
__kernel void canopy_##NAME##_backward(__global const float* x, __global const float* y,             \
                                       __global const float* dy, __global float* dx, const int count) { \
    const int i = (int)get_global_id(0);                                                             \
    if (i < count) dx[i] = GRAD(x[i], y[i], dy[i]);                                                  \
}

UNARY_KERNELS(relu, relu_f, relu_grad)
UNARY_KERNELS(sigmoid, sigmoid_f, sigmoid_grad)
UNARY_KERNELS(tanh, tanh, tanh_grad)
UNARY_KERNELS(gelu, gelu_f, gelu_grad)
UNARY_KERNELS(silu, silu_f, silu_grad)

// ---- Parametric unary functions: y = f(x; alpha), dx = f'(x; alpha) · dy (PyTorch's definitions) ----------
// Same launch as the plain unary kernels; both backward kernels read the input x only.

inline float leaky_relu_f(float x, float alpha) { return x > 0.0f ? x : alpha * x; }
inline float leaky_relu_grad(float x, float alpha, float dy) { return x > 0.0f ? dy : alpha * dy; }
inline float elu_f(float x, float alpha) { return x > 0.0f ? x : alpha * expm1(x); }
inline float elu_grad(float x, float alpha, float dy) { return x > 0.0f ? dy : alpha * exp(x) * dy; }

#define PARAMETRIC_UNARY_KERNELS(NAME, FORWARD, GRAD)                                                \
__kernel void canopy_##NAME(__global const float* x, __global float* y, const float alpha,          \
                            const int count) {                                                       \
    const int i = (int)get_global_id(0);                                                             \
    if (i < count) y[i] = FORWARD(x[i], alpha);                                                      \
}                                                                                                    \
__kernel void canopy_##NAME##_backward(__global const float* x, __global const float* dy,           \
                                       __global float* dx, const float alpha, const int count) {     \
    const int i = (int)get_global_id(0);                                                             \
    if (i < count) dx[i] = GRAD(x[i], alpha, dy[i]);                                                 \
}

PARAMETRIC_UNARY_KERNELS(leaky_relu, leaky_relu_f, leaky_relu_grad)
PARAMETRIC_UNARY_KERNELS(elu, elu_f, elu_grad)

// ---- Binary functions: y = a ∘ b --------------------------------------------------------------------

#define BINARY_KERNEL(NAME, OP)                                                                      \
__kernel void canopy_##NAME(__global const float* a, __global const float* b, __global float* y,    \
                            const int count) {                                                       \
    const int i = (int)get_global_id(0);                                                             \
    if (i < count) y[i] = a[i] OP b[i];                                                              \
}

BINARY_KERNEL(add, +)
BINARY_KERNEL(subtract, -)
BINARY_KERNEL(multiply, *)

// y[i] = alpha · x[i]
__kernel void canopy_scale(__global const float* x, __global float* y, const float alpha, const int count) {
    const int i = (int)get_global_id(0);
    if (i < count) y[i] = alpha * x[i];
}

// ---- Bias ---------------------------------------------------------------------------------------------

// x, y viewed as [outer, channels, inner]: y[o, c, i] = x[o, c, i] + bias[c].
// Work-item e computes flat element e (count = outer · channels · inner).
__kernel void canopy_bias_add(__global const float* x, __global const float* bias, __global float* y,
                              const int outer, const int channels, const int inner) {
    // 3-D launch [inner, channels, outer]: the coordinates come from the launch, no division per element.
    const int i = (int)get_global_id(0), c = (int)get_global_id(1), o = (int)get_global_id(2);
    if (i >= inner || c >= channels || o >= outer) return;
    const int e = (o * channels + c) * inner + i;
    y[e] = x[e] + bias[c];
}

// The same for inner = 1 (dense layers): a 2-D launch [channels, outer], so that the first (vectorised,
// coalesced) dimension runs along the channels.
__kernel void canopy_bias_add_rows(__global const float* x, __global const float* bias, __global float* y,
                                   const int outer, const int channels) {
    const int c = (int)get_global_id(0), o = (int)get_global_id(1);
    if (c >= channels || o >= outer) return;
    y[o * channels + c] = x[o * channels + c] + bias[c];
}

// dBias[c] = Σ_{o,i} dy[o, c, i]. Row-team launch (common.cl) with one row per channel: the T lanes of
// channel c each sum the elements i ≡ lane (mod T) of every outer slice, then the team adds the lane sums.
__kernel void canopy_bias_gradient(__global const float* dy, __global float* dBias,
                                   const int outer, const int channels, const int inner) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0);
    const int c = (int)get_global_id(1);
    float acc = 0.0f;
    if (c < channels) {
        for (int o = 0; o < outer; ++o) {
            __global const float* slice = dy + (o * channels + c) * inner;
            for (int i = lane; i < inner; i += T) acc += slice[i];
        }
    }
    const float total = team_sum(acc, scratch);
    if (c < channels && lane == 0) dBias[c] = total;
}

// The derivative of the identity (code 0: an epilogue with a bias only), the form of the other *_grad functions.
inline float identity_grad(float x, float y, float dy) { return dy; }

// f'(x, y) · dy for the host's UnaryFunction.clCode chosen at run time, one element at a time.
inline float unary_grad_of(const int function, const float x, const float y, const float dy) {
    switch (function) {
    case 1: return relu_grad(x, y, dy);
    case 2: return sigmoid_grad(x, y, dy);
    case 3: return tanh_grad(x, y, dy);
    case 4: return gelu_grad(x, y, dy);
    case 5: return silu_grad(x, y, dy);
    default: return identity_grad(x, y, dy);
    }
}

// A layer's activation and bias backward in one pass: dx = f'(x, y) · dy element-wise (as the unary
// backward kernels) over [outer, channels, inner], and dBias[c] = Σ_{o,i} dx[o, c, i] (as canopy_bias_gradient,
// same launch and same order of sums). The function's switch is outside the loops, one loop per function: inside
// them it kept compilers from vectorising or unrolling the loop (PoCL ran it at a tenth of its speed). Not for gelu
// and silu, whose derivatives' arithmetic costs as much with the switch inside (unary_grad_of): one loop for
// both keeps the kernel's compile short (PoCL compiles at first launch).
#define UNARY_BACKWARD_BIAS_LOOP(GRAD)                                                                \
    for (int o = 0; o < outer; ++o) {                                                                 \
        const int base = (o * channels + c) * inner;                                                  \
        for (int i = lane; i < inner; i += T) {                                                       \
            const float d = GRAD(x[base + i], y[base + i], dy[base + i]);                             \
            dx[base + i] = d;                                                                         \
            acc += d;                                                                                 \
        }                                                                                             \
    }

#define GRAD_OF_FUNCTION(x, y, dy) unary_grad_of(function, x, y, dy)

__kernel void canopy_unary_backward_bias_gradient(__global const float* x, __global const float* y,
                                                  __global const float* dy, __global float* dx,
                                                  __global float* dBias, const int outer, const int channels,
                                                  const int inner, const int function) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0);
    const int c = (int)get_global_id(1);
    float acc = 0.0f;
    if (c < channels) {
        switch (function) {   // the host's UnaryFunction.clCode (as common.cl's activation_f)
        case 1: UNARY_BACKWARD_BIAS_LOOP(relu_grad) break;
        case 2: UNARY_BACKWARD_BIAS_LOOP(sigmoid_grad) break;
        case 3: UNARY_BACKWARD_BIAS_LOOP(tanh_grad) break;
        case 4:
        case 5: UNARY_BACKWARD_BIAS_LOOP(GRAD_OF_FUNCTION) break;
        default: UNARY_BACKWARD_BIAS_LOOP(identity_grad) break;
        }
    }
    const float total = team_sum(acc, scratch);
    if (c < channels && lane == 0) dBias[c] = total;
}

// The same for a dense layer's [outer, channels] gradient (inner = 1) on devices that run a work-group's
// work-items one after another (CPU drivers), where one work-item per channel strides through memory: each
// work-item takes COLUMN_BLOCK neighbouring channels through every row, so its loads and stores are contiguous
// and its COLUMN_BLOCK sums independent (the compiler vectorises them). dBias[c] sums over the rows in order, as
// the row kernel with one lane per channel does; so does the last, partial block.
//
// A full block runs unrolled at constant width, one loop per function, for the functions whose derivative the
// compiler vectorises (identity, relu, sigmoid, tanh: several times faster so). gelu's and silu's derivatives run
// as fast in the plain loop below, with the function's switch per element, that also takes the last, partial
// block: unrolled copies of them would only lengthen the kernel's compile (PoCL compiles at first launch).
#define COLUMN_BLOCK 8
#define UNARY_BACKWARD_COLUMNS_LOOP(GRAD)                                                              \
    for (int o = 0; o < outer; ++o) {                                                                 \
        const int at = o * channels + c0;                                                             \
        _Pragma("unroll")                                                                             \
        for (int k = 0; k < COLUMN_BLOCK; ++k) {                                                      \
            const float d = GRAD(x[at + k], y[at + k], dy[at + k]);                                   \
            dx[at + k] = d;                                                                           \
            acc[k] += d;                                                                              \
        }                                                                                             \
    }

__kernel void canopy_unary_backward_bias_gradient_columns(__global const float* x, __global const float* y,
                                                          __global const float* dy, __global float* dx,
                                                          __global float* dBias, const int outer,
                                                          const int channels, const int function) {
    const int c0 = (int)get_global_id(0) * COLUMN_BLOCK;
    if (c0 >= channels) return;
    const int count = min(COLUMN_BLOCK, channels - c0);
    if (count == COLUMN_BLOCK && function != 4 && function != 5) {
        // Sums of their own, only ever indexed by constants (so they stay in registers).
        float acc[COLUMN_BLOCK] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
        switch (function) {
        case 1: UNARY_BACKWARD_COLUMNS_LOOP(relu_grad) break;
        case 2: UNARY_BACKWARD_COLUMNS_LOOP(sigmoid_grad) break;
        case 3: UNARY_BACKWARD_COLUMNS_LOOP(tanh_grad) break;
        default: UNARY_BACKWARD_COLUMNS_LOOP(identity_grad) break;
        }
        _Pragma("unroll")
        for (int k = 0; k < COLUMN_BLOCK; ++k) dBias[c0 + k] = acc[k];
        return;
    }
    float acc[COLUMN_BLOCK] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int o = 0; o < outer; ++o) {
        const int at = o * channels + c0;
        for (int k = 0; k < count; ++k) {
            const float d = unary_grad_of(function, x[at + k], y[at + k], dy[at + k]);
            dx[at + k] = d;
            acc[k] += d;
        }
    }
    for (int k = 0; k < count; ++k) dBias[c0 + k] = acc[k];
}

// ---- Dropout ------------------------------------------------------------------------------------------

// Chris Wellons' lowbias32 hash, exactly as DropoutRandom.hash in Kernel.swift (wrapping uint arithmetic).
inline uint lowbias32(uint x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

// Inverted dropout: u = (hash(hash(firstIndex + i) ^ seed) >> 8) · 2⁻²⁴ (bit-identical to DropoutRandom.uniform);
// mask[i] = u < p ? 0 : keepScale, y[i] = x[i] · mask[i]. keepScale = 1/(1−p) is computed by the host,
// because OpenCL's float division need not be correctly rounded and the masks must match bit for bit.
__kernel void canopy_dropout(__global const float* x, __global float* y, __global float* mask,
                             const float p, const float keepScale, const uint seed, const uint firstIndex,
                             const int count) {
    const int i = (int)get_global_id(0);
    if (i >= count) return;
    const float u = (float)(lowbias32(lowbias32(firstIndex + (uint)i) ^ seed) >> 8) * (1.0f / 16777216.0f);
    const float m = u < p ? 0.0f : keepScale;
    mask[i] = m;
    y[i] = x[i] * m;
}
