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

// dWeight[v, d] = Σ_{t: ids[t] = v} dy[t, d], summed in increasing t, for the rows the ids use; the host
// zeroes dWeight first (the rows no token uses stay zero). Deterministic without atomics: work-item (d, t)
// does the work only when t is the first token with its row (it scans ids[0..t) for an earlier one), and
// then sums dy over that row's tokens t' ≥ t in order, exactly the CPU's order. The cost is independent of
// the vocabulary, O(tokens²) id comparisons plus O(tokens·dim) additions per column d: cheap for the tokens
// of one batch, where one work-item per (row, d) scanning all ids would cost O(vocabulary·tokens).
__kernel void canopy_embedding_backward(__global const float* ids, __global const float* dy,
                                        __global float* dWeight, const int tokens, const int vocabulary,
                                        const int dim, const int padding) {
    const int d = (int)get_global_id(0), t = (int)get_global_id(1);
    if (d >= dim || t >= tokens) return;
    const int row = embedding_row(ids[t], vocabulary, padding);
    if (row < 0) return;
    for (int s = 0; s < t; ++s) {
        if (embedding_row(ids[s], vocabulary, padding) == row) return;   // an earlier token owns the row
    }
    float acc = 0.0f;
    for (int s = t; s < tokens; ++s) {
        if (embedding_row(ids[s], vocabulary, padding) == row) acc += dy[s * dim + d];
    }
    dWeight[row * dim + d] = acc;
}
