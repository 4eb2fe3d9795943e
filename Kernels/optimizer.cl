// =================================================================================================
// Canopy OpenCL kernels: optimizer.cl
//
// Parameter updates, in place, element-wise: each work-item updates OPT_VEC parameters and their state.
// Hyperparameters arrive as kernel arguments; AdamW's bias corrections 1 − βᵗ are computed by the host.
// =================================================================================================

// Each work-item updates OPT_VEC consecutive elements as one vector: work-item w owns elements
// w·OPT_VEC ..< (w+1)·OPT_VEC. A driver that runs work-groups as loops (PoCL) then schedules an eighth as
// many groups, and a GPU reads 32 bytes per lane. The last, partial vector is loaded with zeros past the
// end and only its real elements are stored, so every count ≥ 1 works and the arithmetic is the same for
// every element.
#define OPT_VEC 8

inline float8 opt_load(__global const float* p, const int first, const int count) {
    if (first + OPT_VEC <= count) return vload8(0, p + first);
    float t[OPT_VEC];
    for (int e = 0; e < OPT_VEC; ++e) t[e] = first + e < count ? p[first + e] : 0.0f;
    return vload8(0, t);
}

inline void opt_store(const float8 v, __global float* p, const int first, const int count) {
    if (first + OPT_VEC <= count) { vstore8(v, 0, p + first); return; }
    float t[OPT_VEC];
    vstore8(v, 0, t);
    for (int e = 0; first + e < count; ++e) p[first + e] = t[e];
}

// SGD with momentum and L2 weight decay (PyTorch's SGD):
// g = grad + wd·param; velocity = momentum·velocity + g; param −= lr·velocity.
__kernel void canopy_sgd(__global float* param, __global const float* grad, __global float* velocity,
                         const float lr, const float momentum, const float weightDecay, const int count) {
    const int first = (int)get_global_id(0) * OPT_VEC;
    if (first >= count) return;
    const float8 p = opt_load(param, first, count);
    const float8 g = opt_load(grad, first, count) + weightDecay * p;
    const float8 v = momentum * opt_load(velocity, first, count) + g;
    opt_store(v, velocity, first, count);
    opt_store(p - lr * v, param, first, count);
}

// AdamW (PyTorch's AdamW, decoupled weight decay), with correction1 = 1 − β1ᵗ and correction2 = 1 − β2ᵗ:
// param −= lr·wd·param; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// param −= lr · (m / correction1) / (sqrt(v / correction2) + ε).
__kernel void canopy_adamw(__global float* param, __global const float* grad, __global float* m,
                           __global float* v, const float lr, const float beta1, const float beta2,
                           const float epsilon, const float weightDecay, const float correction1,
                           const float correction2, const int count) {
    const int first = (int)get_global_id(0) * OPT_VEC;
    if (first >= count) return;
    const float8 g = opt_load(grad, first, count);
    float8 p = opt_load(param, first, count);
    p -= lr * weightDecay * p;
    const float8 mi = beta1 * opt_load(m, first, count) + (1.0f - beta1) * g;
    const float8 vi = beta2 * opt_load(v, first, count) + (1.0f - beta2) * g * g;
    opt_store(mi, m, first, count);
    opt_store(vi, v, first, count);
    opt_store(p - lr * (mi / correction1) / (sqrt(vi / correction2) + epsilon), param, first, count);
}

// RMSprop (PyTorch's RMSprop, not centered): g = grad + wd·param; square = α·square + (1−α)·g²;
// with momentum μ > 0: buffer = μ·buffer + g / (sqrt(square) + ε), param −= lr·buffer;
// otherwise param −= lr · g / (sqrt(square) + ε) and the buffer is left as it is.
__kernel void canopy_rmsprop(__global float* param, __global const float* grad, __global float* square,
                             __global float* buffer, const float lr, const float alpha, const float epsilon,
                             const float momentum, const float weightDecay, const int count) {
    const int first = (int)get_global_id(0) * OPT_VEC;
    if (first >= count) return;
    const float8 p = opt_load(param, first, count);
    const float8 g = opt_load(grad, first, count) + weightDecay * p;
    const float8 s = alpha * opt_load(square, first, count) + (1.0f - alpha) * g * g;
    opt_store(s, square, first, count);
    const float8 step = g / (sqrt(s) + epsilon);
    if (momentum > 0.0f) {
        const float8 b = momentum * opt_load(buffer, first, count) + step;
        opt_store(b, buffer, first, count);
        opt_store(p - lr * b, param, first, count);
    } else {
        opt_store(p - lr * step, param, first, count);
    }
}
