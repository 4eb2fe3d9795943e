// =================================================================================================
// Canopy OpenCL kernels: softmax.cl
//
// Row softmax and log-softmax of a row-major [rows, cols] matrix, their gradients, and the fused
// softmax cross-entropy with integer labels. All are computed stably: the row maximum is subtracted
// before exponentiating.
//
// Layout and work split: the row kernels use the row-team launch of common.cl (dimension 0: the T
// lanes of a team, which stride over the row's columns j ≡ lane (mod T); dimension 1: the row).
// The cross-entropy backward is element-wise: work-item e computes element (e / classes, e % classes).
// =================================================================================================

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

// y = exp(x − max) / Σ exp(x − max), per row.
__kernel void canopy_softmax(__global const float* x, __global float* y, const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    __global const float* xr = x + (live ? row : 0) * cols;
    float m, s;
    team_row_max_and_exp_sum(xr, cols, live, lane, T, scratch, &m, &s);
    if (live) for (int j = lane; j < cols; j += T) y[row * cols + j] = exp(xr[j] - m) / s;
}

// dx = y ⊙ (dy − Σ_j dy·y), per row, from the softmax output y.
__kernel void canopy_softmax_backward(__global const float* y, __global const float* dy, __global float* dx,
                                      const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    const int base = (live ? row : 0) * cols;
    float dot = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) dot += dy[base + j] * y[base + j];
    dot = team_sum(dot, scratch);
    if (live) for (int j = lane; j < cols; j += T) dx[base + j] = y[base + j] * (dy[base + j] - dot);
}

// y = x − max − log Σ exp(x − max), per row.
__kernel void canopy_log_softmax(__global const float* x, __global float* y, const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    __global const float* xr = x + (live ? row : 0) * cols;
    float m, s;
    team_row_max_and_exp_sum(xr, cols, live, lane, T, scratch, &m, &s);
    // (x − max) − log Σ, not x − (max + log Σ): the first keeps precision when |x| is large.
    const float log_sum = log(s);
    if (live) for (int j = lane; j < cols; j += T) y[row * cols + j] = (xr[j] - m) - log_sum;
}

// dx = dy − exp(y) · Σ_j dy, per row, from the log-softmax output y.
__kernel void canopy_log_softmax_backward(__global const float* y, __global const float* dy, __global float* dx,
                                          const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    const int base = (live ? row : 0) * cols;
    float total = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) total += dy[base + j];
    total = team_sum(total, scratch);
    if (live) for (int j = lane; j < cols; j += T) dx[base + j] = dy[base + j] - exp(y[base + j]) * total;
}

// probs = softmax(logits) per row; rowLoss[i] = mask[i] · (logsumexp(logits[i]) − logits[i, label[i]]).
// A row with mask 0 gets loss 0 and its label is never read as an index. A label outside [0, classes)
// on an unmasked row gives a NaN loss (the host cannot check labels without reading them back).
__kernel void canopy_softmax_xent(__global const float* logits, __global const float* labels,
                                  __global const float* mask, __global float* probs, __global float* rowLoss,
                                  const int rows, const int classes) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    __global const float* xr = logits + (live ? row : 0) * classes;
    float m, s;
    team_row_max_and_exp_sum(xr, classes, live, lane, T, scratch, &m, &s);
    if (!live) return;   // no barriers below
    for (int j = lane; j < classes; j += T) probs[row * classes + j] = exp(xr[j] - m) / s;
    if (lane == 0) {
        const float mk = mask[row];
        float loss = 0.0f;
        if (mk != 0.0f) {
            const float label = labels[row];
            const int k = (int)label;
            loss = (label >= 0.0f && k < classes) ? mk * (log(s) - (xr[k] - m)) : NAN;
        }
        rowLoss[row] = loss;
    }
}

// dLogits[i, j] = dRowLoss[i] · mask[i] · (probs[i, j] − [j == label[i]]); zero for masked rows.
// Element-wise: work-item e computes element e = i · classes + j.
__kernel void canopy_softmax_xent_backward(__global const float* probs, __global const float* labels,
                                           __global const float* mask, __global const float* dRowLoss,
                                           __global float* dLogits, const int rows, const int classes) {
    const int e = (int)get_global_id(0);
    if (e >= rows * classes) return;
    const int i = e / classes, j = e - i * classes;
    const float mk = mask[i];
    float g = 0.0f;
    if (mk != 0.0f) {
        const float target = (j == (int)labels[i] && labels[i] >= 0.0f) ? 1.0f : 0.0f;
        g = dRowLoss[i] * mk * (probs[e] - target);
    }
    dLogits[e] = g;
}
