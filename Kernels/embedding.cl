// =================================================================================================
// Canopy OpenCL kernels: embedding.cl
//
// Embedding lookup (PyTorch's nn.Embedding) and its gradient. Layouts, row-major float32: ids [tokens]
// (token ids stored as floats), weight and dWeight [vocabulary, dim], y and dy [tokens, dim]. Both
// kernels use a 2-D launch: dimension 0 runs along dim (contiguous), dimension 1 along tokens; global
// sizes are rounded up to the work-group shape, so every kernel checks both indices.
//
// An id that is not a whole number in [0, vocabulary) (NaN, negative, too large, fractional) or equals
// `padding` (-1 for none) has no row: the lookup writes zeros and the gradient ignores the token, so
// no data can make a kernel read or write outside the table.
// =================================================================================================

// The table row of `id`, or -1 when the token has none (see the banner).
inline int embedding_row(const float id, const int vocabulary, const int padding) {
    if (!(id >= 0.0f && id < (float)vocabulary) || id != floor(id)) return -1;
    const int row = (int)id;
    return row == padding ? -1 : row;
}

// y[t, d] = weight[ids[t], d], or 0 for a token without a row. Work-item (d, t) writes one element.
__kernel void canopy_embedding(__global const float* ids, __global const float* weight, __global float* y,
                               const int tokens, const int vocabulary, const int dim, const int padding) {
    const int d = (int)get_global_id(0), t = (int)get_global_id(1);
    if (d >= dim || t >= tokens) return;
    const int row = embedding_row(ids[t], vocabulary, padding);
    y[t * dim + d] = row < 0 ? 0.0f : weight[row * dim + d];
}

// The gradient runs in two passes, deterministic without atomics and at a cost independent of the
// vocabulary (one work-item per (row, d) scanning every id would cost O(vocabulary·tokens)).
//
// Pass 1, one work-item per token t: links[2t] = the next token after t with the same row (or -1), and
// links[2t + 1] = 1 when t is the first token with its row (0 otherwise, and for tokens without a row).
// Indices are stored bit for bit as floats (as_float / as_int). Each work-item scans the ids once:
// O(tokens²) id comparisons in all, spread over `tokens` work-items.
__kernel void canopy_embedding_links(__global const float* ids, __global float* links, const int tokens,
                                     const int vocabulary, const int padding) {
    const int t = (int)get_global_id(0);
    if (t >= tokens) return;
    const int row = embedding_row(ids[t], vocabulary, padding);
    int next = -1, first = row >= 0 ? 1 : 0;
    if (row >= 0) {
        for (int s = 0; s < t && first; ++s) {
            if (embedding_row(ids[s], vocabulary, padding) == row) first = 0;
        }
        for (int s = t + 1; s < tokens; ++s) {
            if (embedding_row(ids[s], vocabulary, padding) == row) { next = s; break; }
        }
    }
    links[2 * t] = as_float(next);
    links[2 * t + 1] = (float)first;
}

// Pass 2: dWeight[v, d] = Σ_{t: ids[t] = v} dy[t, d], summed in increasing t (the CPU's order), for the
// rows the ids use; the host zeroes dWeight first, so rows no token uses stay zero. Work-item (d, t)
// works only when t is the first token of its row, following the links of pass 1: O(tokens·dim)
// additions in all.
__kernel void canopy_embedding_backward(__global const float* ids, __global const float* dy,
                                        __global const float* links, __global float* dWeight, const int tokens,
                                        const int vocabulary, const int dim, const int padding) {
    const int d = (int)get_global_id(0), t = (int)get_global_id(1);
    if (d >= dim || t >= tokens || links[2 * t + 1] == 0.0f) return;
    float acc = 0.0f;
    for (int s = t; s >= 0; s = as_int(links[2 * s])) acc += dy[s * dim + d];
    dWeight[embedding_row(ids[t], vocabulary, padding) * dim + d] = acc;
}
