// =================================================================================================
// Canopy OpenCL kernels: pool.cl
//
// Max and average pooling over NCHW input without padding (windows that would cross the edge are not formed),
// window K×K, stride S: OH = (H − K) / S + 1, OW = (W − K) / S + 1. A "plane" is one (n, c) image.
// Max pooling's indices are stored as floats holding h·W + w within the input plane (exact below 2²⁴).
// Global average pooling is a row mean over [N·C, H·W] (a row-team launch, see common.cl).
// =================================================================================================

// Forward. Work-item (ow, oh, plane) of a 3-D launch computes output element (plane · OH + oh) · OW + ow:
// the maximum of its window and the index of the first maximum in row-major order (strict > keeps the first
// on ties). The launch shape gives the coordinates, so there is no integer division.
__kernel void canopy_max_pool(__global const float* input, __global float* output, __global float* indices,
                              const int H, const int W, const int K, const int S, const int OH, const int OW,
                              const int planes) {
    const int ow = (int)get_global_id(0), oh = (int)get_global_id(1), plane = (int)get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= planes) return;
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
    const int e = (plane * OH + oh) * OW + ow;
    output[e] = best;
    indices[e] = (float)where;
}

// The windows along one side that contain position p, for windows of K with stride S and n windows in all:
// those o with o·S ≤ p < o·S + K, from *first to *last (empty when *first > *last). Both backward passes use it.
inline void covering_windows(const int p, const int K, const int S, const int n, int* first, int* last) {
    *first = p - K + 1 <= 0 ? 0 : (p - K + 1 + S - 1) / S;
    *last = min(p / S, n - 1);
}

// Backward for overlapping windows (S < K), race-free: work-item (w, h, plane) of a 3-D launch computes input
// element (plane · H + h) · W + w by scanning the windows that contain (h, w) — oh with oh·S ≤ h < oh·S + K,
// likewise ow — in row-major order and adding dOutput where that window's recorded index is (h, w). Zero where no
// window chose it.
__kernel void canopy_max_pool_backward(__global const float* dOutput, __global const float* indices,
                                       __global float* dInput, const int H, const int W, const int K,
                                       const int S, const int OH, const int OW, const int planes) {
    const int w = (int)get_global_id(0), h = (int)get_global_id(1), plane = (int)get_global_id(2);
    if (w >= W || h >= H || plane >= planes) return;
    const int r = h * W + w;
    int ohFirst, ohLast, owFirst, owLast;
    covering_windows(h, K, S, OH, &ohFirst, &ohLast);
    covering_windows(w, K, S, OW, &owFirst, &owLast);
    const int base = plane * OH * OW;
    float acc = 0.0f;
    for (int oh = ohFirst; oh <= ohLast; ++oh) {
        for (int ow = owFirst; ow <= owLast; ++ow) {
            const int o = base + oh * OW + ow;
            if ((int)indices[o] == r) acc += dOutput[o];
        }
    }
    dInput[plane * H * W + r] = acc;
}

// Backward for windows that do not overlap (S ≥ K): work-item (ow, oh, plane) of a 3-D launch owns the cell of
// input rows oh·S ..< (oh+1)·S and columns ow·S ..< (ow+1)·S (the last cell of a row or column extends to the
// edge, so the cells tile the plane) and writes all of it: dOutput at the window's recorded index, zero elsewhere.
// Every input element is written by exactly one work-item, with one read of dOutput and the index per window.
__kernel void canopy_max_pool_backward_cells(__global const float* dOutput, __global const float* indices,
                                             __global float* dInput, const int H, const int W, const int S,
                                             const int OH, const int OW, const int planes) {
    const int ow = (int)get_global_id(0), oh = (int)get_global_id(1), plane = (int)get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= planes) return;
    const int o = (plane * OH + oh) * OW + ow;
    const int chosen = (int)indices[o];
    const float d = dOutput[o];
    const int h0 = oh * S, h1 = oh == OH - 1 ? H : h0 + S;
    const int w0 = ow * S, w1 = ow == OW - 1 ? W : w0 + S;
    __global float* dx = dInput + plane * H * W;
    for (int h = h0; h < h1; ++h) {
        for (int w = w0; w < w1; ++w) dx[h * W + w] = h * W + w == chosen ? d : 0.0f;
    }
}

// ---- Average pooling ------------------------------------------------------------------------------

// Forward. Work-item e computes output element e = (plane · OH + oh) · OW + ow: its window's sum in
// row-major order times scale = 1 / K² (computed by the host, as the CPU backend computes it).
__kernel void canopy_avg_pool(__global const float* input, __global float* output, const float scale,
                              const int H, const int W, const int K, const int S, const int OH, const int OW,
                              const int count) {
    const int e = (int)get_global_id(0);
    if (e >= count) return;
    const int plane = e / (OH * OW), r = e - plane * OH * OW;
    const int oh = r / OW, ow = r - oh * OW;
    __global const float* x = input + plane * H * W + (oh * S) * W + ow * S;
    float sum = 0.0f;
    for (int dh = 0; dh < K; ++dh) {
        for (int dw = 0; dw < K; ++dw) sum += x[dh * W + dw];
    }
    output[e] = sum * scale;
}

// Backward, race-free: work-item e computes input element e = (plane · H + h) · W + w as the sum of
// dOutput · scale over the windows that contain (h, w), in row-major order (as for max pooling).
// Zero where no window reaches.
__kernel void canopy_avg_pool_backward(__global const float* dOutput, __global float* dInput,
                                       const float scale, const int H, const int W, const int K,
                                       const int S, const int OH, const int OW, const int count) {
    const int e = (int)get_global_id(0);
    if (e >= count) return;
    const int plane = e / (H * W), r = e - plane * H * W;
    const int h = r / W, w = r - h * W;
    int ohFirst, ohLast, owFirst, owLast;
    covering_windows(h, K, S, OH, &ohFirst, &ohLast);
    covering_windows(w, K, S, OW, &owFirst, &owLast);
    const int base = plane * OH * OW;
    float acc = 0.0f;
    for (int oh = ohFirst; oh <= ohLast; ++oh) {
        for (int ow = owFirst; ow <= owLast; ++ow) acc += dOutput[base + oh * OW + ow] * scale;
    }
    dInput[e] = acc;
}

// ---- Global average pooling: row means --------------------------------------------------------------

// y[r] = Σ_j x[r, j] · scale, scale = 1 / cols from the host. Row-team launch: the T lanes of row r each
// sum the elements j ≡ lane (mod T), then the team adds the lane sums.
__kernel void canopy_row_mean(__global const float* x, __global float* y, const float scale,
                              const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0);
    const int r = (int)get_global_id(1);
    float acc = 0.0f;
    if (r < rows) {
        __global const float* row = x + r * cols;
        for (int j = lane; j < cols; j += T) acc += row[j];
    }
    const float total = team_sum(acc, scratch);
    if (r < rows && lane == 0) y[r] = total * scale;
}

// dx[r, j] = dy[r] · scale. 1-D launch: work-item e computes flat element e = r · cols + j.
__kernel void canopy_row_mean_backward(__global const float* dy, __global float* dx, const float scale,
                                       const int cols, const int count) {
    const int e = (int)get_global_id(0);
    if (e < count) dx[e] = dy[e / cols] * scale;
}
