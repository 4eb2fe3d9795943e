// =================================================================================================
// Canopy OpenCL kernels: optimizer.cl
//
// Parameter updates, in place, element-wise: work-item i updates parameter i and its state.
// Hyperparameters arrive as kernel arguments; AdamW's bias corrections 1 − βᵗ are computed by the host.
// =================================================================================================

// SGD with momentum and L2 weight decay (PyTorch's SGD):
// g = grad + wd·param; velocity = momentum·velocity + g; param −= lr·velocity.
__kernel void canopy_sgd(__global float* param, __global const float* grad, __global float* velocity,
                         const float lr, const float momentum, const float weightDecay, const int count) {
    const int i = (int)get_global_id(0);
    if (i >= count) return;
    const float p = param[i];
    const float g = grad[i] + weightDecay * p;
    const float v = momentum * velocity[i] + g;
    velocity[i] = v;
    param[i] = p - lr * v;
}

// AdamW (PyTorch's AdamW, decoupled weight decay), with correction1 = 1 − β1ᵗ and correction2 = 1 − β2ᵗ:
// param −= lr·wd·param; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// param −= lr · (m / correction1) / (sqrt(v / correction2) + ε).
__kernel void canopy_adamw(__global float* param, __global const float* grad, __global float* m,
                           __global float* v, const float lr, const float beta1, const float beta2,
                           const float epsilon, const float weightDecay, const float correction1,
                           const float correction2, const int count) {
    const int i = (int)get_global_id(0);
    if (i >= count) return;
    const float g = grad[i];
    float p = param[i];
    p -= lr * weightDecay * p;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / correction1) / (sqrt(vi / correction2) + epsilon);
}

// RMSprop (PyTorch's RMSprop, not centered): g = grad + wd·param; square = α·square + (1−α)·g²;
// with momentum μ > 0: buffer = μ·buffer + g / (sqrt(square) + ε), param −= lr·buffer;
// otherwise param −= lr · g / (sqrt(square) + ε) and the buffer is left as it is.
__kernel void canopy_rmsprop(__global float* param, __global const float* grad, __global float* square,
                             __global float* buffer, const float lr, const float alpha, const float epsilon,
                             const float momentum, const float weightDecay, const int count) {
    const int i = (int)get_global_id(0);
    if (i >= count) return;
    float p = param[i];
    const float g = grad[i] + weightDecay * p;
    const float s = alpha * square[i] + (1.0f - alpha) * g * g;
    square[i] = s;
    const float step = g / (sqrt(s) + epsilon);
    if (momentum > 0.0f) {
        const float b = momentum * buffer[i] + step;
        buffer[i] = b;
        param[i] = p - lr * b;
    } else {
        param[i] = p - lr * step;
    }
}
