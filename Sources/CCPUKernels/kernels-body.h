// The kernels' bodies, written once. dispatch.c includes this file once per instruction set, inside a region that
// compiles every function for that set, with VARIANT(name) naming this copy (name_avx512, name_avx2, …).
// Vectors of 16 floats (one AVX-512 register, two AVX2 or four SSE ones), then a scalar tail doing the same
// operations in the same order.

static void VARIANT(relu)(const float *x, float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        canopy_f16 v = LOAD16(x + i);
        STORE16(y + i, (canopy_f16)((canopy_i16)v & (v > 0)));
    }
    for (; i < count; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

static void VARIANT(relu_backward)(const float *source, const float *dy, float *dx, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        canopy_f16 s = LOAD16(source + i), g = LOAD16(dy + i);
        STORE16(dx + i, (canopy_f16)((canopy_i16)g & (s > 0)));
    }
    for (; i < count; i++) dx[i] = source[i] > 0 ? dy[i] : 0;
}

#define CANOPY_BINARY(name, op)                                                      \
    static void VARIANT(name)(const float *a, const float *b, float *y, long count) { \
        long i = 0;                                                                  \
        for (; i + 16 <= count; i += 16) STORE16(y + i, LOAD16(a + i) op LOAD16(b + i)); \
        for (; i < count; i++) y[i] = a[i] op b[i];                                  \
    }
CANOPY_BINARY(add, +)
CANOPY_BINARY(subtract, -)
CANOPY_BINARY(multiply, *)
#undef CANOPY_BINARY

static void VARIANT(scale)(const float *x, float alpha, float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) STORE16(y + i, alpha * LOAD16(x + i));
    for (; i < count; i++) y[i] = alpha * x[i];
}

static void VARIANT(add_scalar)(const float *x, float bias, float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) STORE16(y + i, LOAD16(x + i) + bias);
    for (; i < count; i++) y[i] = x[i] + bias;
}

static void VARIANT(bias_add_rows)(const float *x, const float *bias, float *y, long rows, long channels) {
    for (long r = 0; r < rows; r++) VARIANT(add)(x + r * channels, bias, y + r * channels, channels);
}

static void VARIANT(adam_update)(float *param, const float *grad, float *m, float *v, long count, float lr,
                                 float beta1, float beta2, float epsilon, float decay, float correction1,
                                 float correction2) {
    const float keep1 = 1 - beta1, keep2 = 1 - beta2;
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        canopy_f16 g = LOAD16(grad + i), p = LOAD16(param + i);
        p = p - decay * p;
        canopy_f16 mi = beta1 * LOAD16(m + i) + keep1 * g;
        canopy_f16 vi = beta2 * LOAD16(v + i) + keep2 * g * g;
        STORE16(m + i, mi);
        STORE16(v + i, vi);
        STORE16(param + i, p - lr * (mi / correction1) / (__builtin_elementwise_sqrt(vi / correction2) + epsilon));
    }
    for (; i < count; i++) {
        float g = grad[i], p = param[i];
        p = p - decay * p;
        float mi = beta1 * m[i] + keep1 * g;
        float vi = beta2 * v[i] + keep2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - lr * (mi / correction1) / (__builtin_sqrtf(vi / correction2) + epsilon);
    }
}

static void VARIANT(sgd_update)(float *param, const float *grad, float *velocity, long count, float lr,
                                float momentum, float weight_decay) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        canopy_f16 p = LOAD16(param + i), g = LOAD16(grad + i) + weight_decay * p;
        canopy_f16 u = momentum * LOAD16(velocity + i) + g;
        STORE16(velocity + i, u);
        STORE16(param + i, p - lr * u);
    }
    for (; i < count; i++) {
        float p = param[i], g = grad[i] + weight_decay * p;
        float u = momentum * velocity[i] + g;
        velocity[i] = u;
        param[i] = p - lr * u;
    }
}

static void VARIANT(rmsprop_update)(float *param, const float *grad, float *square, float *buffer, long count,
                                    float lr, float alpha, float epsilon, float momentum, float weight_decay) {
    const float keep = 1 - alpha;
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        canopy_f16 p = LOAD16(param + i), g = LOAD16(grad + i) + weight_decay * p;
        canopy_f16 s = alpha * LOAD16(square + i) + keep * g * g;
        STORE16(square + i, s);
        canopy_f16 step = g / (__builtin_elementwise_sqrt(s) + epsilon);
        if (momentum > 0) {
            canopy_f16 b = momentum * LOAD16(buffer + i) + step;
            STORE16(buffer + i, b);
            STORE16(param + i, p - lr * b);
        } else {
            STORE16(param + i, p - lr * step);
        }
    }
    for (; i < count; i++) {
        float p = param[i], g = grad[i] + weight_decay * p;
        float s = alpha * square[i] + keep * g * g;
        square[i] = s;
        float step = g / (__builtin_sqrtf(s) + epsilon);
        if (momentum > 0) {
            float b = momentum * buffer[i] + step;
            buffer[i] = b;
            param[i] = p - lr * b;
        } else {
            param[i] = p - lr * step;
        }
    }
}

// Pairwise sums exactly as Summation.swift takes them: blocks of 64 terms, each summed by 8 interleaved
// accumulators (accumulator k takes the terms start + k, start + k + 8, …) combined as ((a0+a4)+(a2+a6)) +
// ((a1+a5)+(a3+a7)), then the block's tail added one term at a time; block sums combined on a binary-counter stack
// (a balanced pairwise tree over the blocks). TYPE is float (one sum) or a vector (independent sums, one per lane).
#define CANOPY_PAIRWISE(name, TYPE, TERM, ...)                                                     \
    static void VARIANT(name)(TYPE *result, __VA_ARGS__, long count) {                           \
        TYPE stack[64];                                                                          \
        int levels[64], depth = 0;                                                               \
        for (long start = 0; start < count; start += 64) {                                       \
            const long end = start + 64 < count ? start + 64 : count;                            \
            TYPE a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, tail = 0;       \
            long i = start;                                                                      \
            for (; i + 8 <= end; i += 8) {                                                       \
                a0 += TERM(i); a1 += TERM(i + 1); a2 += TERM(i + 2); a3 += TERM(i + 3);          \
                a4 += TERM(i + 4); a5 += TERM(i + 5); a6 += TERM(i + 6); a7 += TERM(i + 7);      \
            }                                                                                    \
            for (; i < end; i++) tail += TERM(i);                                                \
            TYPE sum = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));                        \
            sum += tail;                                                                         \
            int level = 0;                                                                       \
            while (depth > 0 && levels[depth - 1] == level) {                                    \
                depth--;                                                                         \
                sum = stack[depth] + sum;                                                        \
                level++;                                                                         \
            }                                                                                    \
            stack[depth] = sum;                                                                  \
            levels[depth] = level;                                                               \
            depth++;                                                                             \
        }                                                                                        \
        TYPE total = 0;                                                                          \
        while (depth > 0) {                                                                      \
            depth--;                                                                             \
            total = stack[depth] + total;                                                        \
        }                                                                                        \
        *result = total;                                                                         \
    }
#define CANOPY_DOT_TERM(i) (a[i] * b[i])
#define CANOPY_SUM_TERM(i) (x[i])
#define CANOPY_COLUMN_TERM(i) (x[(i) * stride])
#define CANOPY_COLUMNS16_TERM(i) LOAD16(x + (i) * stride)
CANOPY_PAIRWISE(pairwise_dot, float, CANOPY_DOT_TERM, const float *a, const float *b)
CANOPY_PAIRWISE(pairwise_sum, float, CANOPY_SUM_TERM, const float *x)
CANOPY_PAIRWISE(pairwise_column, float, CANOPY_COLUMN_TERM, const float *x, long stride)
CANOPY_PAIRWISE(pairwise_columns16, canopy_f16, CANOPY_COLUMNS16_TERM, const float *x, long stride)
#undef CANOPY_DOT_TERM
#undef CANOPY_SUM_TERM
#undef CANOPY_COLUMN_TERM
#undef CANOPY_COLUMNS16_TERM

static float VARIANT(dot)(const float *a, const float *b, long count) {
    float sum;
    VARIANT(pairwise_dot)(&sum, a, b, count);
    return sum;
}

static float VARIANT(sum)(const float *x, long count) {
    float sum;
    VARIANT(pairwise_sum)(&sum, x, count);
    return sum;
}

static void VARIANT(column_sums)(const float *x, float *sums, long rows, long columns, long stride) {
    long c = 0;
    for (; c + 16 <= columns; c += 16) {
        canopy_f16 block;
        VARIANT(pairwise_columns16)(&block, x + c, stride, rows);
        STORE16(sums + c, block);
    }
    for (; c < columns; c++) VARIANT(pairwise_column)(sums + c, x + c, stride, rows);
}

static void VARIANT(mixture_row)(const float *gates, const float *values, float *y, long experts, long features) {
    VARIANT(scale)(values, gates[0], y, features);
    for (long e = 1; e < experts; e++) {
        const float g = gates[e], *ve = values + e * features;
        long f = 0;
        for (; f + 16 <= features; f += 16) STORE16(y + f, LOAD16(y + f) + g * LOAD16(ve + f));
        for (; f < features; f++) y[f] = y[f] + g * ve[f];
    }
}

static const struct canopy_kernel_table VARIANT(table) = {
    VARIANT(relu), VARIANT(relu_backward), VARIANT(add), VARIANT(subtract), VARIANT(multiply), VARIANT(scale),
    VARIANT(add_scalar), VARIANT(bias_add_rows), VARIANT(adam_update), VARIANT(sgd_update), VARIANT(rmsprop_update),
    VARIANT(dot), VARIANT(column_sums), VARIANT(mixture_row), VARIANT(sum),
};
