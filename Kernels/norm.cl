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

// -------------------------------------------------------------------------------------------------
// Batch normalization per channel of x viewed as [outer, channels, inner] (x [N, C, H, W] is
// N × C × H·W; element (n, c, s) at (n·C + c)·inner + s). Row-team launch with one team per channel:
// the team's lanes stride over the channel's outer·inner values j ≡ lane (mod T), n = j / inner,
// s = j mod inner. rowMask [outer] weighs each row's values in the statistics (1 real, 0 padding);
// M = inner · Σ rowMask.
// -------------------------------------------------------------------------------------------------

// M = inner · Σ rowMask, summed by the caller's team (every work-item of the work-group must call it).
inline float real_count(__global const float* rowMask, const int outer, const int inner, __local float* scratch) {
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0);
    float weight = 0.0f;
    for (int n = lane; n < outer; n += T) weight += rowMask[n];
    return team_sum(weight, scratch) * (float)inner;
}

// Training mode: mean = Σ mask·x / M; var = Σ mask·(x − mean)² / M (two passes); rstd = 1/sqrt(var + eps);
// normalized = (x − mean)·rstd and y = normalized·gamma at every position; variance = var·M/(M − 1)
// (unbiased, for the running statistics), or var when M is 1.
__kernel void canopy_batch_norm(__global const float* x, __global const float* rowMask, __global const float* gamma,
                                __global float* y, __global float* normalized, __global float* mean,
                                __global float* variance, __global float* rstd,
                                const int outer, const int channels, const int inner, const float eps) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), c = (int)get_global_id(1);
    const bool live = c < channels;
    const int total = outer * inner;
    const float count = real_count(rowMask, outer, inner, scratch);
    float sum = 0.0f;
    if (live) for (int j = lane; j < total; j += T) {
        const int n = j / inner;
        sum += rowMask[n] * x[(n * channels + c) * inner + j - n * inner];
    }
    const float mu = team_sum(sum, scratch) / count;
    float squares = 0.0f;
    if (live) for (int j = lane; j < total; j += T) {
        const int n = j / inner;
        const float d = x[(n * channels + c) * inner + j - n * inner] - mu;
        squares += rowMask[n] * d * d;
    }
    const float sumSquares = team_sum(squares, scratch);
    if (!live) return;   // no barriers below
    const float biased = sumSquares / count;
    const float r = 1.0f / sqrt(biased + eps);
    if (lane == 0) {
        mean[c] = mu;
        variance[c] = count > 1.0f ? sumSquares / (count - 1.0f) : biased;
        rstd[c] = r;
    }
    const float g = gamma[c];
    for (int j = lane; j < total; j += T) {
        const int n = j / inner;
        const int i = (n * channels + c) * inner + j - n * inner;
        const float v = (x[i] - mu) * r;
        normalized[i] = v;
        y[i] = v * g;
    }
}

// running ← (1 − momentum)·running + momentum·batch, for the mean and the variance; one work-item per channel.
__kernel void canopy_batch_norm_running_update(__global const float* mean, __global const float* variance,
                                               __global float* runningMean, __global float* runningVariance,
                                               const int channels, const float momentum) {
    const int c = (int)get_global_id(0);
    if (c >= channels) return;
    runningMean[c] = (1.0f - momentum) * runningMean[c] + momentum * mean[c];
    runningVariance[c] = (1.0f - momentum) * runningVariance[c] + momentum * variance[c];
}

// Inference mode: y = (x − runningMean)·gamma / sqrt(runningVariance + eps); one work-item per element.
__kernel void canopy_batch_norm_inference(__global const float* x, __global const float* gamma,
                                          __global const float* runningMean, __global const float* runningVariance,
                                          __global float* y, const int outer, const int channels, const int inner,
                                          const float eps) {
    const int i = (int)get_global_id(0);
    if (i >= outer * channels * inner) return;
    const int c = (i / inner) % channels;
    y[i] = (x[i] - runningMean[c]) * (gamma[c] / sqrt(runningVariance[c] + eps));
}

// With g = dy·gamma and sums over the channel's every value: dx = rstd·(g − mask·(Σ g + x̂·Σ g·x̂) / M).
__kernel void canopy_batch_norm_backward(__global const float* normalized, __global const float* rstd,
                                         __global const float* gamma, __global const float* dy,
                                         __global const float* rowMask, __global float* dx,
                                         const int outer, const int channels, const int inner) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), c = (int)get_global_id(1);
    const bool live = c < channels;
    const int total = outer * inner;
    const float count = real_count(rowMask, outer, inner, scratch);
    float sumDy = 0.0f, sumDyN = 0.0f;
    if (live) for (int j = lane; j < total; j += T) {
        const int n = j / inner;
        const int i = (n * channels + c) * inner + j - n * inner;
        sumDy += dy[i];
        sumDyN += dy[i] * normalized[i];
    }
    const float sumG = team_sum(sumDy, scratch);
    const float sumGN = team_sum(sumDyN, scratch);
    if (!live) return;   // no barriers below
    const float g = gamma[c], r = rstd[c];
    for (int j = lane; j < total; j += T) {
        const int n = j / inner;
        const int i = (n * channels + c) * inner + j - n * inner;
        dx[i] = r * g * (dy[i] - rowMask[n] / count * (sumG + normalized[i] * sumGN));
    }
}
