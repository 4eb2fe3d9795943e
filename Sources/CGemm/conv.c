// Stride-1 convolutions over a padded grid (see cgemm_conv.h): filling the grid, the products through
// canopy_sgemm_rows, and moving between OH × OW planes and grid rows of gridWidth.
#include "cgemm.h"
#include "cgemm_conv.h"
#include "CCPUKernels.h"

#include <string.h>

static long conv_out_height(const canopy_conv_grid *g) { return g->gridHeight - g->kernelHeight + 1; }
static long conv_out_width(const canopy_conv_grid *g) { return g->gridWidth - g->kernelWidth + 1; }

long canopy_conv_grid_floats(const canopy_conv_grid *g) { return g->channels * g->gridHeight * g->gridWidth; }

long canopy_conv_grid_columns(const canopy_conv_grid *g) {
    return (conv_out_height(g) - 1) * g->gridWidth + conv_out_width(g);
}

void canopy_conv_fill_grid(const canopy_conv_grid *g, const float *source, float *planes, const float **rows) {
    const long hg = g->gridHeight, wg = g->gridWidth, sh = g->sourceHeight, sw = g->sourceWidth;
    // Source columns sx ∈ [x0, x1) land on grid columns sx + left ∈ [0, wg); rows likewise.
    const long x0 = g->left < 0 ? -g->left : 0, x1 = sw < wg - g->left ? sw : wg - g->left;
    for (long c = 0; c < g->channels; c++) {
        float *plane = planes + c * hg * wg;
        const float *src = source + c * sh * sw;
        for (long y = 0; y < hg; y++) {
            float *row = plane + y * wg;
            const long sy = y - g->top;
            if (sy < 0 || sy >= sh || x1 <= x0) {
                memset(row, 0, (size_t)wg * sizeof(float));
                continue;
            }
            const long lo = x0 + g->left, hi = x1 + g->left;
            memset(row, 0, (size_t)lo * sizeof(float));
            memcpy(row + lo, src + sy * sw + x0, (size_t)(x1 - x0) * sizeof(float));
            memset(row + hi, 0, (size_t)(wg - hi) * sizeof(float));
        }
        for (long kh = 0; kh < g->kernelHeight; kh++) {
            for (long kw = 0; kw < g->kernelWidth; kw++) {
                rows[(c * g->kernelHeight + kh) * g->kernelWidth + kw] = plane + kh * wg + kw;
            }
        }
    }
}

void canopy_conv_correlate(const canopy_conv_grid *g, const float *const *rows, const float *weights,
                           long filters, float *product, float *out, const float *bias, int relu) {
    const long k = g->channels * g->kernelHeight * g->kernelWidth, n = canopy_conv_grid_columns(g);
    const long oh = conv_out_height(g), ow = conv_out_width(g);
    canopy_sgemm_rows(0, 0, filters, n, k, 1, weights, k, rows, 0, product, n);
    for (long f = 0; f < filters; f++) {
        for (long y = 0; y < oh; y++) {
            float *target = out + (f * oh + y) * ow;
            const float *source = product + f * n + y * g->gridWidth;
            if (!bias) {
                memcpy(target, source, (size_t)ow * sizeof(float));
                continue;
            }
            // The kernels biasAdd and relu run (their bits), on a row still in L1.
            canopy_add_scalar(source, bias[f], target, ow);
            if (relu) canopy_relu(target, target, ow);
        }
    }
}

void canopy_conv_weight_gradient(const canopy_conv_grid *g, const float *const *rows, const float *dOut,
                                 long filters, float *paddedDOut, float beta, float *dWeights) {
    const long k = g->channels * g->kernelHeight * g->kernelWidth, n = canopy_conv_grid_columns(g);
    const long oh = conv_out_height(g), ow = conv_out_width(g), wg = g->gridWidth;
    // dOut in grid rows, zero in the dropped columns (their windows are real data that must not count).
    for (long f = 0; f < filters; f++) {
        float *row = paddedDOut + f * n;
        for (long y = 0; y < oh; y++) {
            memcpy(row + y * wg, dOut + (f * oh + y) * ow, (size_t)ow * sizeof(float));
            if (y + 1 < oh) memset(row + y * wg + ow, 0, (size_t)(wg - ow) * sizeof(float));
        }
    }
    // dW[filters, k] = paddedDOut[filters, n] · windowsᵀ: op(B) = [n, k], its column r the window of row r.
    canopy_sgemm_rows(0, 1, filters, k, n, 1, paddedDOut, n, rows, beta, dWeights, k);
}
