// =================================================================================================
// Canopy OpenCL kernels: norm.cl
//
// Scaled layer normalization over the last dimension of a row-major [rows, cols] matrix (PyTorch's
// LayerNorm: biased variance, eps inside the square root; its shift beta is a following bias add)
// and its gradient with respect to x. The gradient of gamma is a column sum of dy·normalized,
// computed by canopy_bias_gradient of elementwise.cl.
//
// Layout and work split: both kernels use the row-team launch of common.cl (dimension 0: the T lanes
// of a team, which stride over the row's columns j ≡ lane (mod T); dimension 1: the row). Each team
// reduces its row with team_sum, so every lane sees the row's statistics.
// =================================================================================================

// mean = Σ x / cols; var = Σ (x − mean)² / cols (two passes, so a large mean costs no precision);
// rstd = 1 / sqrt(var + eps); normalized = (x − mean)·rstd; y = normalized·gamma.
__kernel void canopy_layer_norm(__global const float* x, __global const float* gamma, __global float* y, __global float* normalized, __global float* rstd,
                                const int rows, const int cols, const float eps) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    const int base = (live ? row : 0) * cols;
    float sum = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) sum += x[base + j];
    const float mean = team_sum(sum, scratch) / (float)cols;
    float squares = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) { const float d = x[base + j] - mean; squares += d * d; }
    const float r = 1.0f / sqrt(team_sum(squares, scratch) / (float)cols + eps);
    if (!live) return;   // no barriers below
    if (lane == 0) rstd[row] = r;
    for (int j = lane; j < cols; j += T) {
        const float n = (x[base + j] - mean) * r;
        normalized[base + j] = n;
        y[base + j] = n * gamma[j];
    }
}

// With g = dy·gamma: dx = rstd · (g − Σ g / cols − normalized · Σ g·normalized / cols), per row.
__kernel void canopy_layer_norm_backward(__global const float* normalized, __global const float* rstd,
                                         __global const float* gamma, __global const float* dy, __global float* dx,
                                         const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows;
    const int base = (live ? row : 0) * cols;
    float sumG = 0.0f, sumGN = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) {
        const float g = dy[base + j] * gamma[j];
        sumG += g;
        sumGN += g * normalized[base + j];
    }
    const float meanG = team_sum(sumG, scratch) / (float)cols;
    const float meanGN = team_sum(sumGN, scratch) / (float)cols;
    if (!live) return;   // no barriers below
    const float r = rstd[row];
    for (int j = lane; j < cols; j += T) {
        dx[base + j] = r * (dy[base + j] * gamma[j] - meanG - normalized[base + j] * meanGN);
    }
}
