// =================================================================================================
// Canopy OpenCL kernels: common.cl
//
// Helpers shared by every kernel file. The host prepends this file to each program's source (then
// resets line numbers, so build logs point into the kernel file itself). OpenCL C 1.2, float32 only.
//
// Row teams. Kernels that reduce along a row (softmax, losses, bias gradients) run as a 2-D launch:
// dimension 0 is a team of T lanes that share one row (T a power of two, T = get_local_size(0)),
// dimension 1 enumerates rows (R rows per work-group, R = get_local_size(1)). T = 1 gives one
// work-item per row, the fastest choice for short rows; long rows get a team. Rows past the end
// still take part in the barriers and do no memory accesses.
// =================================================================================================

#ifndef ROW_TEAM_WG
#define ROW_TEAM_WG 256   // capacity of the local scratch for one work-group: T × R ≤ ROW_TEAM_WG
#endif

// Sum of `value` over the T lanes of the caller's team, returned to every lane.
// Every work-item of the work-group must call it (it contains barriers).
// `scratch` holds ROW_TEAM_WG floats; the team of local row `ly` uses scratch[ly*T .. ly*T+T).
inline float team_sum(float value, __local float* scratch) {
    const int T = (int)get_local_size(0), lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    __local float* s = scratch + ly * T;
    s[lx] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = T / 2; stride > 0; stride >>= 1) {
        if (lx < stride) s[lx] += s[lx + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float result = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);   // the scratch is reused by the next call
    return result;
}

// Maximum of `value` over the T lanes of the caller's team (same contract as team_sum).
inline float team_max(float value, __local float* scratch) {
    const int T = (int)get_local_size(0), lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    __local float* s = scratch + ly * T;
    s[lx] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = T / 2; stride > 0; stride >>= 1) {
        if (lx < stride) s[lx] = fmax(s[lx], s[lx + stride]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float result = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return result;
}

// The row's maximum m and Σ_j exp(x_j − m), reduced over the team; every lane gets both. Rows past the end
// (live == false) take part in the barriers and get m = −∞, s = 0.
inline void team_row_max_and_exp_sum(__global const float* xr, const int cols, const bool live, const int lane,
                                     const int T, __local float* scratch, float* m_out, float* s_out) {
    float m = -INFINITY;
    if (live) for (int j = lane; j < cols; j += T) m = fmax(m, xr[j]);
    m = team_max(m, scratch);
    float s = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) s += exp(xr[j] - m);
    *m_out = m;
    *s_out = team_sum(s, scratch);
}

// ---- Unary functions, shared by the element-wise kernels and the products' epilogues ---------------

inline float relu_f(float x) { return x > 0.0f ? x : 0.0f; }
inline float sigmoid_f(float x) {
    // Never exponentiates a large positive number: exp(-|x|) ≤ 1.
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}
inline float gelu_cdf(float x) { return 0.5f * (1.0f + erf(x * 0.70710678118654752f)); }   // Φ(x)
inline float gelu_f(float x) { return x * gelu_cdf(x); }
inline float silu_f(float x) { return x * sigmoid_f(x); }

// A product's epilogue function by code (the host's UnaryFunction.clCode, ProductEpilogue.code & 15): 1 relu,
// 2 sigmoid, 3 tanh, 4 gelu, 5 silu, otherwise none (the bias only). matmul.cl and conv.cl apply it.
inline float activation_f(const int code, const float x) {
    switch (code) {
    case 1: return relu_f(x);
    case 2: return sigmoid_f(x);
    case 3: return tanh(x);
    case 4: return gelu_f(x);
    case 5: return silu_f(x);
    default: return x;
    }
}
