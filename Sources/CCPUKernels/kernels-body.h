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

// 2×2, stride-2 max pooling over one plane (Pooling.swift). Lane l of a block holds window ow + l of an output
// row; the even and odd columns of 32 input floats are its windows' left and right elements. A block may run past
// its row (lanes past the row read and write places that later stores write again), but never past the plane:
// there the row's last block goes lane by lane.
#define CANOPY_EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define CANOPY_ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define CANOPY_LOW(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define CANOPY_HIGH(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define CANOPY_SELECT(mask, a, b) ((canopy_f16)(((canopy_i16)(a) & (mask)) | ((canopy_i16)(b) & ~(mask))))
#define CANOPY_LANES ((canopy_f16){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})

/// Windows ow ..< ow + 16 of output row oh: maxima (the first in row-major order on ties: only a strictly greater
/// value replaces it; NaN never wins) and plane indices, into `best` and `where`.
static inline void VARIANT(max_pool_2x2_block)(const float *x, long inWidth, long oh, long ow, canopy_f16 *best,
                                               canopy_f16 *where) {
    const float *top = x + 2 * oh * inWidth + 2 * ow, *bottom = top + inWidth;
    const canopy_f16 t0 = LOAD16(top), t1 = LOAD16(top + 16), b0 = LOAD16(bottom), b1 = LOAD16(bottom + 16);
    const canopy_f16 b = CANOPY_ODDS(t0, t1), c = CANOPY_EVENS(b0, b1), d = CANOPY_ODDS(b0, b1);
    const float below = (float)inWidth;
    canopy_f16 m = CANOPY_EVENS(t0, t1), offset = 0;
    canopy_i16 wins = b > m;
    m = CANOPY_SELECT(wins, b, m); offset = CANOPY_SELECT(wins, (canopy_f16)1, offset);
    wins = c > m;
    m = CANOPY_SELECT(wins, c, m); offset = CANOPY_SELECT(wins, (canopy_f16)below, offset);
    wins = d > m;
    m = CANOPY_SELECT(wins, d, m); offset = CANOPY_SELECT(wins, (canopy_f16)(below + 1), offset);
    *best = m;
    *where = ((float)(2 * oh * inWidth + 2 * ow) + 2 * CANOPY_LANES) + offset;
}

static void VARIANT(max_pool_2x2_plane)(const float *x, long inHeight, long inWidth, float *y, float *index) {
    const long outHeight = inHeight / 2, outWidth = inWidth / 2, inPlane = inHeight * inWidth;
    for (long oh = 0; oh < outHeight; oh++) {
        for (long ow = 0; ow < outWidth; ow += 16) {
            canopy_f16 best, where;
            // Inside the plane: the bottom row's 32 floats, and 16 outputs.
            const int whole = (2 * oh + 1) * inWidth + 2 * ow + 32 <= inPlane && oh * outWidth + ow + 16 <= outHeight * outWidth;
            if (whole) {
                VARIANT(max_pool_2x2_block)(x, inWidth, oh, ow, &best, &where);
                STORE16(y + oh * outWidth + ow, best);
                STORE16(index + oh * outWidth + ow, where);
                continue;
            }
            const float below = (float)inWidth;
            for (long w = ow; w < outWidth; w++) {
                const float *top = x + 2 * oh * inWidth + 2 * w, *bottom = top + inWidth;
                float m = top[0], offset = 0;
                if (top[1] > m) { m = top[1]; offset = 1; }
                if (bottom[0] > m) { m = bottom[0]; offset = below; }
                if (bottom[1] > m) { m = bottom[1]; offset = below + 1; }
                y[oh * outWidth + w] = m;
                index[oh * outWidth + w] = (float)(2 * oh * inWidth + 2 * w) + offset;
            }
            break;
        }
    }
}

/// 1 when every index of a plane's outputs lies in its own window, else 0 (reads the indices only). Blocks as in
/// max_pool_2x2_plane; lanes past their row are not counted.
static long VARIANT(max_pool_2x2_inside)(const float *index, long inHeight, long inWidth) {
    const long outHeight = inHeight / 2, outWidth = inWidth / 2, outPlane = outHeight * outWidth;
    const float below = (float)inWidth;
    canopy_i16 outside = 0;
    int outsideOne = 0;
    for (long oh = 0; oh < outHeight; oh++) {
        for (long ow = 0; ow < outWidth; ow += 16) {
            const long o = oh * outWidth + ow;
            if (o + 16 <= outPlane) {
                const canopy_f16 offset = LOAD16(index + o) - ((float)(2 * oh * inWidth + 2 * ow) + 2 * CANOPY_LANES);
                const canopy_i16 inside = (offset == 0) | (offset == 1) | (offset == below) | (offset == below + 1);
                outside |= ~inside & ((float)ow + CANOPY_LANES < (float)outWidth);
                continue;
            }
            for (long w = ow; w < outWidth; w++) {
                const float offset = index[oh * outWidth + w] - (float)(2 * oh * inWidth + 2 * w);
                outsideOne |= offset != 0 && offset != 1 && offset != below && offset != below + 1;
            }
            break;
        }
    }
    for (int l = 0; l < 16; l++) outsideOne |= outside[l] != 0;
    return !outsideOne;
}

/// The gradient of one plane whose indices all lie in their own windows (max_pool_2x2_inside): writes every
/// element of dx, dy at each window's recorded position and +0 elsewhere (`+ 0`: the bits of adding dy to zero).
static void VARIANT(max_pool_2x2_backward_plane)(const float *dy, const float *index, long inHeight, long inWidth,
                                                 float *dx) {
    const long outHeight = inHeight / 2, outWidth = inWidth / 2, inPlane = inHeight * inWidth;
    const float below = (float)inWidth;
    for (long oh = 0; oh < outHeight; oh++) {
        float *top = dx + 2 * oh * inWidth, *bottom = top + inWidth;
        for (long ow = 0; ow < outWidth; ow += 16) {
            const long o = oh * outWidth + ow;
            // A block past its row writes the top row's excess over the bottom row's first columns: only a row's
            // first block may, since its own bottom stores then follow.
            const int whole = (2 * oh + 1) * inWidth + 2 * ow + 32 <= inPlane && o + 16 <= outHeight * outWidth
                && (ow == 0 || ow + 16 <= outWidth);
            if (whole) {
                const canopy_f16 g = LOAD16(dy + o), zero = 0;
                const canopy_f16 offset = LOAD16(index + o) - ((float)(2 * oh * inWidth + 2 * ow) + 2 * CANOPY_LANES);
                const canopy_i16 m0 = offset == 0, m1 = offset == 1, m2 = offset == below, m3 = offset == below + 1;
                const canopy_f16 a = CANOPY_SELECT(m0, g, zero) + 0.0f, b = CANOPY_SELECT(m1, g, zero) + 0.0f;
                const canopy_f16 c = CANOPY_SELECT(m2, g, zero) + 0.0f, d = CANOPY_SELECT(m3, g, zero) + 0.0f;
                STORE16(top + 2 * ow, CANOPY_LOW(a, b));
                STORE16(top + 2 * ow + 16, CANOPY_HIGH(a, b));
                STORE16(bottom + 2 * ow, CANOPY_LOW(c, d));
                STORE16(bottom + 2 * ow + 16, CANOPY_HIGH(c, d));
                continue;
            }
            for (long w = ow; w < outWidth; w++) {
                const float g = dy[oh * outWidth + w];
                const float offset = index[oh * outWidth + w] - (float)(2 * oh * inWidth + 2 * w);
                top[2 * w] = (offset == 0 ? g : 0) + 0.0f;
                top[2 * w + 1] = (offset == 1 ? g : 0) + 0.0f;
                bottom[2 * w] = (offset == below ? g : 0) + 0.0f;
                bottom[2 * w + 1] = (offset == below + 1 ? g : 0) + 0.0f;
            }
            break;
        }
        // An odd width's last column is in no window.
        if (inWidth & 1) top[inWidth - 1] = bottom[inWidth - 1] = 0;
    }
    // An odd height's last row is in no window.
    for (long w = 2 * outHeight * inWidth; w < inPlane; w++) dx[w] = 0;
}
#undef CANOPY_EVENS
#undef CANOPY_ODDS
#undef CANOPY_LOW
#undef CANOPY_HIGH
#undef CANOPY_SELECT
#undef CANOPY_LANES

static const struct canopy_kernel_table VARIANT(table) = {
    VARIANT(relu), VARIANT(relu_backward), VARIANT(add), VARIANT(subtract), VARIANT(multiply), VARIANT(scale),
    VARIANT(add_scalar), VARIANT(bias_add_rows), VARIANT(adam_update), VARIANT(sgd_update), VARIANT(rmsprop_update),
    VARIANT(dot), VARIANT(column_sums), VARIANT(mixture_row), VARIANT(sum), VARIANT(max_pool_2x2_plane),
    VARIANT(max_pool_2x2_backward_plane), VARIANT(max_pool_2x2_inside),
};
