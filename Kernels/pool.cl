// =================================================================================================
// Canopy OpenCL kernels: pool.cl
//
// Max and average pooling over NCHW input without padding (windows that would cross the edge are not formed),
// window K×K, stride S: OH = (H − K) / S + 1, OW = (W − K) / S + 1. A "plane" is one (n, c) image.
// Max pooling's indices are stored as floats holding h·W + w within the input plane (exact below 2²⁴).
// Global average pooling is a row mean over [N·C, H·W] (a row-team launch, see common.cl).
// =================================================================================================

// Forward. Work-item plane · OH + oh of a 1-D launch computes output row oh of its plane, elements
// (plane · OH + oh) · OW + ow for every ow: the maximum of each window and the index of its first maximum in
// row-major order (strict > keeps the first on ties). One division per row; the loop over ow reads and writes
// neighbouring elements, eight windows at a time for the usual 2×2 windows with stride 2.
__kernel void canopy_max_pool(__global const float* input, __global float* output, __global float* indices,
                              const int H, const int W, const int K, const int S, const int OH, const int OW,
                              const int planes) {
    const int row = (int)get_global_id(0);
    if (row >= planes * OH) return;
    const int plane = row / OH, oh = row - plane * OH;
    __global const float* x = input + plane * H * W;
    const int h0 = oh * S, e0 = row * OW;
    int ow = 0;
    if (K == 2 && S == 2) {
        // 2×2 windows, stride 2: eight windows from one float16 of each input row (even lanes the windows' left
        // column, odd lanes their right), compared in the scalar loop's order with the same strict >.
        __global const float* r0 = x + h0 * W;
        __global const float* r1 = r0 + W;
        const int8 column = (int8)(0, 2, 4, 6, 8, 10, 12, 14);
        for (; ow + 8 <= OW; ow += 8) {
            const float16 top = vload16(0, r0 + 2 * ow), bottom = vload16(0, r1 + 2 * ow);
            const int8 at = (int8)(h0 * W + 2 * ow) + column;
            float8 best = top.even;
            int8 where = at;
            int8 greater = isgreater(top.odd, best);
            best = select(best, top.odd, greater); where = select(where, at + 1, greater);
            greater = isgreater(bottom.even, best);
            best = select(best, bottom.even, greater); where = select(where, at + W, greater);
            greater = isgreater(bottom.odd, best);
            best = select(best, bottom.odd, greater); where = select(where, at + W + 1, greater);
            vstore8(best, 0, output + e0 + ow);
            vstore8(convert_float8(where), 0, indices + e0 + ow);
        }
    }
    for (; ow < OW; ++ow) {
        const int w0 = ow * S;
        float best = x[h0 * W + w0];
        int where = h0 * W + w0;
        for (int dh = 0; dh < K; ++dh) {
            for (int dw = 0; dw < K; ++dw) {
                const int at = (h0 + dh) * W + (w0 + dw);
                if (x[at] > best) { best = x[at]; where = at; }
            }
        }
        output[e0 + ow] = best;
        indices[e0 + ow] = (float)where;
    }
}

// The windows along one side that contain position p, for windows of K with stride S and n windows in all:
// those o with o·S ≤ p < o·S + K, from *first to *last (empty when *first > *last). Both backward passes use it.
inline void covering_windows(const int p, const int K, const int S, const int n, int* first, int* last) {
    *first = p - K + 1 <= 0 ? 0 : (p - K + 1 + S - 1) / S;
    *last = min(p / S, n - 1);
}

// Backward for overlapping windows (S < K), race-free: work-item plane · H + h of a 1-D launch computes input row h
// of its plane; element (h, w) scans the windows that contain it — oh with oh·S ≤ h < oh·S + K, likewise ow — in
// row-major order and adds dOutput where that window's recorded index is (h, w). Zero where no window chose it.
__kernel void canopy_max_pool_backward(__global const float* dOutput, __global const float* indices,
                                       __global float* dInput, const int H, const int W, const int K,
                                       const int S, const int OH, const int OW, const int planes) {
    const int row = (int)get_global_id(0);
    if (row >= planes * H) return;
    const int plane = row / H, h = row - plane * H;
    int ohFirst, ohLast;
    covering_windows(h, K, S, OH, &ohFirst, &ohLast);
    const int base = plane * OH * OW;
    for (int w = 0; w < W; ++w) {
        const int r = h * W + w;
        int owFirst, owLast;
        covering_windows(w, K, S, OW, &owFirst, &owLast);
        float acc = 0.0f;
        for (int oh = ohFirst; oh <= ohLast; ++oh) {
            for (int ow = owFirst; ow <= owLast; ++ow) {
                const int o = base + oh * OW + ow;
                if ((int)indices[o] == r) acc += dOutput[o];
            }
        }
        dInput[plane * H * W + r] = acc;
    }
}

// Backward for windows that do not overlap (S ≥ K): output row oh owns input rows oh·S ..< (oh+1)·S (the last
// row of windows extends to the bottom edge, the last window of a row to the right edge, so the cells tile the
// plane). Work-item plane · OH + oh of a 1-D launch writes those input rows whole: for each input row, zeros, then
// each window's dOutput at its recorded index if the index lies in that row. Every input element is written by
// exactly one work-item; the zeroing loop writes neighbouring elements.
__kernel void canopy_max_pool_backward_cells(__global const float* dOutput, __global const float* indices,
                                             __global float* dInput, const int H, const int W, const int S,
                                             const int OH, const int OW, const int planes) {
    const int row = (int)get_global_id(0);
    if (row >= planes * OH) return;
    const int plane = row / OH, oh = row - plane * OH, o0 = row * OW;
    const int h0 = oh * S, h1 = oh == OH - 1 ? H : h0 + S;
    __global float* dx = dInput + plane * H * W;
    for (int h = h0; h < h1; ++h) {
        __global float* row = dx + h * W;
        for (int w = 0; w < W; ++w) row[w] = 0.0f;
        for (int ow = 0; ow < OW; ++ow) {
            const int chosen = (int)indices[o0 + ow] - h * W;
            if (chosen >= 0 && chosen < W) row[chosen] = dOutput[o0 + ow];
        }
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
