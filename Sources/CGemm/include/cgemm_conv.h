// Stride-1 convolutions as products over a padded grid, without a column matrix.
//
// A channel's input is laid into a zero-padded grid of Hg × Wg; the convolution's output position (oh, ow)
// becomes grid position j = oh·Wg + ow, and row r = (c, kh, kw) of the im2col matrix is then the grid of channel c
// read from offset kh·Wg + kw: a window of contiguous floats. canopy_sgemm_rows reads those windows as B's rows
// (they overlap; nothing is unfolded). The columns ow ≥ OW of each grid row are computed too and dropped
// (Wg/OW more work than the output needs: 16/14 for a 3×3 "same" convolution on 14×14), in exchange for no
// im2col pass and no column matrix in memory.
#ifndef CANOPY_CGEMM_CONV_H
#define CANOPY_CGEMM_CONV_H

#ifdef __cplusplus
extern "C" {
#endif

/// Where `channels` source planes of sourceHeight × sourceWidth lie in their grids of gridHeight × gridWidth:
/// source (0, 0) at grid (top, left), which may be negative (the source is cropped); the rest of a grid is zero.
/// The output of a kernelHeight × kernelWidth window over the grid is (gridHeight − KH + 1) × (gridWidth − KW + 1).
typedef struct {
    long channels, sourceHeight, sourceWidth, top, left, gridHeight, gridWidth, kernelHeight, kernelWidth;
} canopy_conv_grid;

/// Floats of `grid`'s planes: channels · gridHeight · gridWidth.
long canopy_conv_grid_floats(const canopy_conv_grid *grid);

/// Grid columns a product spans: (OH − 1) · gridWidth + OW (the last grid row's dropped columns are not formed).
long canopy_conv_grid_columns(const canopy_conv_grid *grid);

/// Lays `source` (channels planes, contiguous) into `planes` (canopy_conv_grid_floats floats) and sets `rows`
/// (channels · KH · KW pointers, row (c, kh, kw) at index (c·KH + kh)·KW + kw) to the windows the product reads.
void canopy_conv_fill_grid(const canopy_conv_grid *grid, const float *source, float *planes, const float **rows);

/// `out[f] = Σ_r weights[f, r] · window r` for `filters` rows of `weights` ([filters, channels·KH·KW]), written as
/// `filters` planes of OH × OW at `out` (contiguous); with `bias`, then `+ bias[f]` and, with `relu` nonzero, ReLU,
/// by canopy_add_scalar and canopy_relu themselves (the bits of those kernels run after). `product` is scratch of
/// filters · canopy_conv_grid_columns floats. Single-threaded; call canopy_conv_fill_grid first.
void canopy_conv_correlate(const canopy_conv_grid *grid, const float *const *rows, const float *weights,
                           long filters, float *product, float *out, const float *bias, int relu);

/// `dWeights[f, r] = Σ_(oh, ow) dOut[f, oh, ow] · window r at (oh, ow) + beta · dWeights[f, r]` for `filters`
/// planes of OH × OW at `dOut` (contiguous). `paddedDOut` is scratch of filters · canopy_conv_grid_columns floats.
void canopy_conv_weight_gradient(const canopy_conv_grid *grid, const float *const *rows, const float *dOut,
                                 long filters, float *paddedDOut, float beta, float *dWeights);

#ifdef __cplusplus
}
#endif

#endif
