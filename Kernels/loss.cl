// =================================================================================================
// Canopy OpenCL kernels: loss.cl
//
// Per-row losses with a row mask (1: the row has a label, 0: it does not) and their gradients:
// binary cross-entropy on logits (with a weight on positive targets), mean squared error, L1 and Huber ("robust"),
// the fused softmax cross-entropy with integer labels, and the masked mean over rows.
//
// Layout: predictions/logits and targets are row-major [rows, cols]; mask and rowLoss are [rows].
// Forward losses use the row-team launch of common.cl (lanes stride over a row's columns).
// Backward kernels are element-wise: work-item e computes element (e / cols, e % cols).
// Masked rows give exactly 0 (loss and gradient), whatever their targets hold.
// =================================================================================================

// max(z, 0) − z·t + log(1 + exp(−|z|)): BCE of logit z against target t, without overflow.
inline float bce_term(float z, float t) { return fmax(z, 0.0f) - z * t + log1p(exp(-fabs(z))); }

inline float sigmoid_stable(float z) {
    if (z >= 0.0f) return 1.0f / (1.0f + exp(-z));
    const float e = exp(z);
    return e / (1.0f + e);
}

// Binary cross-entropy with weight w on positive targets (PyTorch's BCEWithLogitsLoss(pos_weight = w)):
// −[w·t·log σ(z) + (1−t)·log(1−σ(z))] = bce_term(z, t) + (w − 1)·t·softplus(−z). w = 1 takes the plain term alone,
// so the unweighted loss keeps its numbers exactly.
inline float bce_weighted(float z, float t, float w) {
    const float plain = bce_term(z, t);
    if (w == 1.0f) return plain;
    return plain + (w - 1.0f) * t * (fmax(-z, 0.0f) + log1p(exp(-fabs(z))));
}

// Its derivative in z: sigmoid(z) − t, plus (w − 1)·t·(sigmoid(z) − 1).
inline float bce_weighted_grad(float z, float t, float w) {
    const float s = sigmoid_stable(z);
    if (w == 1.0f) return s - t;
    return (s - t) + (w - 1.0f) * t * (s - 1.0f);
}

// rowLoss[i] = mask[i] / cols · Σ_j bce_weighted(z[i, j], t[i, j], posWeight).
__kernel void canopy_bce(__global const float* z, __global const float* t, __global const float* mask,
                         __global float* rowLoss, const float posWeight, const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows && mask[row < rows ? row : 0] != 0.0f;
    const int base = (row < rows ? row : 0) * cols;
    float s = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) s += bce_weighted(z[base + j], t[base + j], posWeight);
    s = team_sum(s, scratch);
    if (row < rows && lane == 0) rowLoss[row] = live ? mask[row] / (float)cols * s : 0.0f;
}

// dz[i, j] = dRowLoss[i] · mask[i] / cols · bce_weighted_grad(z, t, posWeight).
__kernel void canopy_bce_backward(__global const float* z, __global const float* t, __global const float* mask,
                                  __global const float* dRowLoss, __global float* dz, const float posWeight,
                                  const int rows, const int cols) {
    const int e = (int)get_global_id(0);
    if (e >= rows * cols) return;
    const int i = e / cols;
    const float mk = mask[i];
    dz[e] = mk != 0.0f ? dRowLoss[i] * mk / (float)cols * bce_weighted_grad(z[e], t[e], posWeight) : 0.0f;
}

// rowLoss[i] = mask[i] / cols · Σ_j (p[i, j] − t[i, j])².
__kernel void canopy_mse(__global const float* p, __global const float* t, __global const float* mask,
                         __global float* rowLoss, const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows && mask[row < rows ? row : 0] != 0.0f;
    const int base = (row < rows ? row : 0) * cols;
    float s = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) { const float d = p[base + j] - t[base + j]; s += d * d; }
    s = team_sum(s, scratch);
    if (row < rows && lane == 0) rowLoss[row] = live ? mask[row] / (float)cols * s : 0.0f;
}

// dp[i, j] = dRowLoss[i] · mask[i] · 2 (p − t) / cols.
__kernel void canopy_mse_backward(__global const float* p, __global const float* t, __global const float* mask,
                                  __global const float* dRowLoss, __global float* dp, const int rows, const int cols) {
    const int e = (int)get_global_id(0);
    if (e >= rows * cols) return;
    const int i = e / cols;
    const float mk = mask[i];
    dp[e] = mk != 0.0f ? dRowLoss[i] * mk * 2.0f * (p[e] - t[e]) / (float)cols : 0.0f;
}

// L1 and Huber (PyTorch's L1Loss and HuberLoss) of d = p − t: |d|, or 0.5·d² for |d| ≤ δ and δ·(|d| − 0.5·δ) beyond.
// L1 is Huber's linear branch without the quadratic one, so one term serves both (delta = 0 means L1 here).
inline float robust_term(float d, float delta) {
    const float a = fabs(d);
    if (delta == 0.0f) return a;
    return a <= delta ? 0.5f * d * d : delta * (a - 0.5f * delta);
}

// Its derivative: sign(d) (0 at d = 0) for L1; d within δ and δ·sign(d) beyond for Huber.
inline float robust_grad(float d, float delta) {
    const float sign = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
    if (delta == 0.0f) return sign;
    return fabs(d) <= delta ? d : delta * sign;
}

// rowLoss[i] = mask[i] / cols · Σ_j robust_term(p[i, j] − t[i, j], delta): L1 with delta = 0, Huber with delta > 0.
__kernel void canopy_robust(__global const float* p, __global const float* t, __global const float* mask,
                            __global float* rowLoss, const float delta, const int rows, const int cols) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0), row = (int)get_global_id(1);
    const bool live = row < rows && mask[row < rows ? row : 0] != 0.0f;
    const int base = (row < rows ? row : 0) * cols;
    float s = 0.0f;
    if (live) for (int j = lane; j < cols; j += T) s += robust_term(p[base + j] - t[base + j], delta);
    s = team_sum(s, scratch);
    if (row < rows && lane == 0) rowLoss[row] = live ? mask[row] / (float)cols * s : 0.0f;
}

// dp[i, j] = dRowLoss[i] · mask[i] / cols · robust_grad(p − t, delta).
__kernel void canopy_robust_backward(__global const float* p, __global const float* t, __global const float* mask,
                                     __global const float* dRowLoss, __global float* dp, const float delta,
                                     const int rows, const int cols) {
    const int e = (int)get_global_id(0);
    if (e >= rows * cols) return;
    const int i = e / cols;
    const float mk = mask[i];
    dp[e] = mk != 0.0f ? dRowLoss[i] * mk / (float)cols * robust_grad(p[e] - t[e], delta) : 0.0f;
}

// count[0] = Σ mask, loss[0] = Σ rowLoss / max(count[0], 1).
// One work-group of T lanes (a row team with a single row): lane l sums rows i ≡ l (mod T), then the
// team adds the lane sums in a fixed tree, so the result is deterministic.
__kernel void canopy_masked_mean(__global const float* rowLoss, __global const float* mask,
                                 __global float* loss, __global float* count, const int rows) {
    __local float scratch[ROW_TEAM_WG];
    const int T = (int)get_local_size(0), lane = (int)get_local_id(0);
    float s = 0.0f, c = 0.0f;
    for (int i = lane; i < rows; i += T) { s += rowLoss[i]; c += mask[i]; }
    s = team_sum(s, scratch);
    c = team_sum(c, scratch);
    if (lane == 0) { count[0] = c; loss[0] = s / fmax(c, 1.0f); }
}

// dRowLoss[i] = dLoss[0] · mask[i] / max(count[0], 1). Work-item i computes row i.
__kernel void canopy_masked_mean_backward(__global const float* dLoss, __global const float* mask,
                                          __global const float* count, __global float* dRowLoss, const int rows) {
    const int i = (int)get_global_id(0);
    if (i < rows) dRowLoss[i] = dLoss[0] * mask[i] / fmax(count[0], 1.0f);
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
