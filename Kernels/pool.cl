// =================================================================================================
// Canopy OpenCL kernels: pool.cl
//
// Max pooling over NCHW input without padding (windows that would cross the edge are not formed),
// window K×K, stride S: OH = (H − K) / S + 1, OW = (W − K) / S + 1. A "plane" is one (n, c) image.
// Indices are stored as floats holding h·W + w within the input plane (exact below 2²⁴).
// =================================================================================================

// Forward. Work-item e computes output element e = (plane · OH + oh) · OW + ow: the maximum of its
// window and the index of the first maximum in row-major order (strict > keeps the first on ties).
__kernel void canopy_max_pool(__global const float* input, __global float* output, __global float* indices,
                              const int H, const int W, const int K, const int S, const int OH, const int OW,
                              const int count) {
    const int e = (int)get_global_id(0);
    if (e >= count) return;
    const int plane = e / (OH * OW), r = e - plane * OH * OW;
    const int oh = r / OW, ow = r - oh * OW;
    __global const float* x = input + plane * H * W;
    const int h0 = oh * S, w0 = ow * S;
    float best = x[h0 * W + w0];
    int where = h0 * W + w0;
    for (int dh = 0; dh < K; ++dh) {
        for (int dw = 0; dw < K; ++dw) {
            const int at = (h0 + dh) * W + (w0 + dw);
            if (x[at] > best) { best = x[at]; where = at; }
        }
    }
    output[e] = best;
    indices[e] = (float)where;
}

// Backward, race-free: work-item e computes input element e = (plane · H + h) · W + w by scanning
// the windows that contain (h, w) — oh with oh·S ≤ h < oh·S + K, likewise ow — in row-major order
// and adding dOutput where that window's recorded index is (h, w). Zero where no window chose it.
__kernel void canopy_max_pool_backward(__global const float* dOutput, __global const float* indices,
                                       __global float* dInput, const int H, const int W, const int K,
                                       const int S, const int OH, const int OW, const int count) {
    const int e = (int)get_global_id(0);
    if (e >= count) return;
    const int plane = e / (H * W), r = e - plane * H * W;
    const int h = r / W, w = r - h * W;
    const int ohFirst = h - K + 1 <= 0 ? 0 : (h - K + 1 + S - 1) / S;
    const int owFirst = w - K + 1 <= 0 ? 0 : (w - K + 1 + S - 1) / S;
    const int ohLast = min(h / S, OH - 1), owLast = min(w / S, OW - 1);
    const int base = plane * OH * OW;
    float acc = 0.0f;
    for (int oh = ohFirst; oh <= ohLast; ++oh) {
        for (int ow = owFirst; ow <= owLast; ++ow) {
            const int o = base + oh * OW + ow;
            if ((int)indices[o] == r) acc += dOutput[o];
        }
    }
    dInput[e] = acc;
}
