// =================================================================================================
// Canopy OpenCL kernels: softmax.cl
//
// Row softmax and log-softmax of a row-major [rows, cols] matrix and their gradients, computed stably:
// the row maximum is subtracted before exponentiating (team_row_max_and_exp_sum, in common.cl). The fused
// softmax cross-entropy is in loss.cl, with the other losses, so that a classifier's step builds one
// program for its loss and a driver asked for that program's binary compiles no unused softmax kernels.
//
// Layout and work split: the row kernels use the row-team launch of common.cl (dimension 0: the T
// lanes of a team, which stride over the row's columns j ≡ lane (mod T); dimension 1: the row).
// =================================================================================================

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
