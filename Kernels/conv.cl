// =================================================================================================
// Canopy OpenCL kernels: conv.cl
//
// 2-D convolution (cross-correlation, zero padding, G channel groups) by im2col and matrix products.
// Input [N, C, H, W], weight [F, C/G, KH, KW], output [N, F, OH, OW]; CKK = C·KH·KW, P = OH·OW.
// Column index ckk = (c · KH + kh) · KW + kw; output position p = oh · OW + ow; the input pixel of
// (ckk, p) is (c, oh·SH − PH + kh, ow·SW − PW + kw), zero when outside the image. The host works on a chunk
// of `images` consecutive images at a time (so the scratch stays bounded); `inputOffset` locates its first.
//
// The column matrices' layout is the host's choice, given by strides (see canopy_im2col), so one im2col and
// one col2im serve every layout:
//   by image (the GPU path, whose tiled products run per image): col[b] is CKK × P;
//   one matrix (CPU drivers): col is CKK × images·P, column b·P + p, so that one canopy_conv_product covers
//   the chunk;
//   transposed by group (the CPU drivers' weight gradient): colT[g] is images·P × CKK/G.
//
// canopy_conv_product, for CPU drivers, is a register-blocked product whose operands may be NCHW tensors
// read in place: column j of B or C lies at (j / period) · image + j % period, so an [N, F, P] tensor is the
// F × N·P matrix with period P and image F·P, and no layout pass is needed:
//   forward          output_g (F/G × images·P, NCHW) = weight_g · col_g (+ bias by row, activation)
//   backward input   dcol_g = weight_gᵀ · dOutput_g (NCHW);   dInput = col2im(dcol)
//   backward weight  dWeight_g (+)= dOutput_g (NCHW, along k) · colT[g]
// =================================================================================================

#define CONV_TM 8        // rows of C per canopy_conv_product work-item (the host's ConvProduct.swift too)
#define CONV_TN 16       // columns of C per work-item: one float16

// im2col into any layout: work-item (b · C + c) · OH + oh of a 1-D launch reads output row oh's windows in channel c
// of image b and writes, for each output position p = oh · OW + ow of the row, its KH·KW entries, entry
// (kh, kw) at
//   g · groupStride + b · imageStride + p · positionStride + c' · channelStride + (kh · KW + kw) · tapStride
// where g = c / (C/G) is c's group and c' = c − g · C/G its channel within the group. Three divisions per
// work-item, none per entry; the loop over ow writes neighbouring positions.
__kernel void canopy_im2col(__global const float* input, const int inputOffset, __global float* col,
                            const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                            const int images, const int G, const int groupStride, const int imageStride,
                            const int positionStride, const int channelStride, const int tapStride) {
    const int row = (int)get_global_id(0);
    if (row >= images * C * OH) return;
    const int bc = row / OH, oh = row - bc * OH;
    const int b = bc / C, c = bc - b * C, CG = C / G;
    const int g = c / CG, cg = c - g * CG;
    __global const float* x = input + inputOffset + bc * H * W;
    __global float* out = col + g * groupStride + b * imageStride + oh * OW * positionStride + cg * channelStride;
    for (int kh = 0; kh < KH; ++kh) {
        const int h = oh * SH - PH + kh;
        const bool rowInside = h >= 0 && h < H;
        __global const float* xr = x + h * W;
        for (int kw = 0; kw < KW; ++kw) {
            __global float* o = out + (kh * KW + kw) * tapStride;
            // Output columns lo ..< hi read inside the row (w = ow·SW − PW + kw in 0 ..< W); the rest are padding.
            const int lo = rowInside ? min(OW, kw >= PW ? 0 : (PW - kw + SW - 1) / SW) : OW;
            const int hi = rowInside ? max(lo, min(OW, (W + PW - kw + SW - 1) / SW)) : OW;
            for (int ow = 0; ow < lo; ++ow) o[ow * positionStride] = 0.0f;
            for (int ow = lo; ow < hi; ++ow) o[ow * positionStride] = xr[ow * SW - PW + kw];
            for (int ow = hi; ow < OW; ++ow) o[ow * positionStride] = 0.0f;
        }
    }
}

// dInput[b][c][h][w] = Σ over (kh, kw) of dcol entry (c·KH·KW + kh·KW + kw, b, oh·OW + ow) for the output
// positions (oh, ow) that read pixel (h, w): oh·SH = h + PH − kh with 0 ≤ oh < OH, likewise ow. Entry
// (row, b, p) lies at b · imageStride + row · rowStride + p (the by-image layout: CKK·P and P; one matrix:
// P and images·P). The valid kh form the progression kh ≡ (h + PH) mod SH, along which oh falls by one per
// step, so there is one division per dimension and pixel, not per tap (none when the strides are the constant
// 1). A gather: no two work-items write the same element. Work-item (b · C + c) · H + h of a 1-D launch computes
// row h of channel c of image b, elements ((b · C + c) · H + h) · W + w for every w.
inline void col2im_row(__global const float* dcol, __global float* dInput, const int inputOffset,
                       const int C, const int H, const int W, const int KH, const int KW,
                       const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                       const int images, const int imageStride, const int rowStride) {
    const int row = (int)get_global_id(0);
    if (row >= images * C * H) return;
    const int bc = row / H, h = row - bc * H, b = bc / C, c = bc - b * C;
    __global const float* d = dcol + b * imageStride + c * KH * KW * rowStride;   // rows c·KH·KW ..< (c+1)·KH·KW
    __global float* dx = dInput + inputOffset + (bc * H + h) * W;
    const int th = h + PH, khFirst = th % SH;
    for (int w = 0; w < W; ++w) {
        const int tw = w + PW, kwFirst = tw % SW;
        float acc = 0.0f;
        for (int kh = khFirst, oh = (th - khFirst) / SH; kh < KH; kh += SH, --oh) {
            if (oh >= OH) continue;
            if (oh < 0) break;
            for (int kw = kwFirst, ow = (tw - kwFirst) / SW; kw < KW; kw += SW, --ow) {
                if (ow >= OW) continue;
                if (ow < 0) break;
                acc += d[(kh * KW + kw) * rowStride + oh * OW + ow];
            }
        }
        dx[w] = acc;
    }
}

__kernel void canopy_col2im(__global const float* dcol, __global float* dInput, const int inputOffset,
                            const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                            const int images, const int imageStride, const int rowStride) {
    col2im_row(dcol, dInput, inputOffset, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, images, imageStride, rowStride);
}

// canopy_col2im for strides of 1 (the host's choice): pixel (h, w) is read by output (h + PH − kh, w + PW − kw),
// so each tap (kh, kw) adds a contiguous run of a dcol row to a run of the input row. The work-item zeroes its
// row, then adds tap by tap in the order canopy_col2im sums them (so both round alike), each tap a loop over
// neighbouring elements.
__kernel void canopy_col2im_unit_stride(__global const float* dcol, __global float* dInput, const int inputOffset,
                                        const int C, const int H, const int W, const int KH, const int KW,
                                        const int PH, const int PW, const int OH, const int OW, const int images,
                                        const int imageStride, const int rowStride) {
    const int row = (int)get_global_id(0);
    if (row >= images * C * H) return;
    const int bc = row / H, h = row - bc * H, b = bc / C, c = bc - b * C;
    __global const float* d = dcol + b * imageStride + c * KH * KW * rowStride;   // rows c·KH·KW ..< (c+1)·KH·KW
    __global float* dx = dInput + inputOffset + (bc * H + h) * W;
    for (int w = 0; w < W; ++w) dx[w] = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int oh = h + PH - kh;
        if (oh < 0 || oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            // w reads output column ow = w + PW − kw, inside for w in lo ..< hi.
            const int lo = max(0, kw - PW), hi = min(W, OW + kw - PW);
            __global const float* dr = d + (kh * KW + kw) * rowStride + oh * OW + PW - kw;
            for (int w = lo; w < hi; ++w) dx[w] += dr[w];
        }
    }
}

// ---- The convolution's product for CPU drivers ----------------------------------------------------

// activation_f of each element of v: relu as one vector select (relu_f's x > 0 ? x : 0, NaN to 0 alike),
// the bias alone as it is, the others element by element.
inline float16 conv_epilogue16(const int code, const float16 v) {
    if (code == 0) return v;
    if (code == 1) return select((float16)(0.0f), v, isgreater(v, (float16)(0.0f)));
    float t[CONV_TN];
    vstore16(v, 0, t);
    for (int q = 0; q < CONV_TN; ++q) t[q] = activation_f(code, t[q]);
    return vload16(0, t);
}

// C (m × n) = A (m × k) · B (k × n), or C += that with `accumulate`, for group g = get_global_id(2) (each
// operand's group g starts `…Group` floats after its offset). Element layouts, with q % period and q / period
// for an index q:
//   A(i, p) = A[i · aRow + (p / aPeriod) · aImage + (p % aPeriod) · aStep]   (aPeriod = k: a plain matrix)
//   B(p, j) = B[p · bRow + (j / bPeriod) · bImage + j % bPeriod]              (bPeriod = n: a plain matrix)
//   C(i, j) = C[i · cRow + (j / cPeriod) · cImage + j % cPeriod]
// With epilogue ≥ 0, C(i, j) = activation_f(epilogue, v + bias[g · biasGroup + i]) as it is stored (the sum
// and the function separate statements, as the separate kernels round them).
//
// Register blocking as matmul.cl's: work-item (x, y) computes the CONV_TM × CONV_TN block at rows
// y · CONV_TM and columns x · CONV_TN in CONV_TM float16 accumulators; each step p loads B's 16 columns and
// CONV_TM scalars of A's column. A block inside C whose 16 columns lie in at most two periods (images) of B and
// of C takes the fast path: B's columns are one float16 load, or two blended when they straddle an image
// boundary; C's are one float16 store, or scalar stores across the boundary. Other blocks (C's right and bottom
// edges, images narrower than 16 columns) run the same arithmetic with each column's address computed once and
// bounds-checked scalar loads and stores. The k loop walks A's periods (images) in an outer loop, so there is no
// division in it. Any m, n, k ≥ 1.
__kernel void canopy_conv_product(const int m, const int n, const int k,
                                  __global const float* A, const int aOffset, const int aGroup, const int aRow,
                                  const int aStep, const int aPeriod, const int aImage,
                                  __global const float* B, const int bOffset, const int bGroup, const int bRow,
                                  const int bPeriod, const int bImage,
                                  __global float* C, const int cOffset, const int cGroup, const int cRow,
                                  const int cPeriod, const int cImage, const int accumulate,
                                  __global const float* bias, const int biasGroup, const int epilogue) {
    const int g = (int)get_global_id(2);
    const int j0 = (int)get_global_id(0) * CONV_TN, i0 = (int)get_global_id(1) * CONV_TM;
    if (i0 >= m || j0 >= n) return;
    __global const float* a = A + aOffset + g * aGroup;
    __global const float* b = B + bOffset + g * bGroup;
    __global float* c = C + cOffset + g * cGroup;
    __global const float* bb = bias + g * biasGroup;
    const int bImageIndex = j0 / bPeriod, bWithin = j0 - bImageIndex * bPeriod;
    const int cImageIndex = j0 / cPeriod, cWithin = j0 - cImageIndex * cPeriod;
    // Columns of the block in B's and C's first image (all 16 when the block does not straddle).
    const int bSplit = min(CONV_TN, bPeriod - bWithin), cSplit = min(CONV_TN, cPeriod - cWithin);
    const int rows = min(CONV_TM, m - i0), cols = min(CONV_TN, n - j0);
    float16 acc[CONV_TM];
    #pragma unroll
    for (int r = 0; r < CONV_TM; ++r) acc[r] = (float16)(0.0f);
    if (rows == CONV_TM && cols == CONV_TN && CONV_TN - bSplit <= bPeriod && CONV_TN - cSplit <= cPeriod) {
        __global const float* bFirst = b + bImageIndex * bImage + bWithin;
        if (bSplit == CONV_TN) {
            for (int p0 = 0, image = 0; p0 < k; p0 += aPeriod, ++image) {
                __global const float* ap = a + i0 * aRow + image * aImage;
                __global const float* bp = bFirst + p0 * bRow;
                const int steps = min(aPeriod, k - p0);
                for (int q = 0; q < steps; ++q) {
                    const float16 bv = vload16(0, bp + q * bRow);
                    #pragma unroll
                    for (int r = 0; r < CONV_TM; ++r) acc[r] = fma((float16)(ap[r * aRow + q * aStep]), bv, acc[r]);
                }
            }
        } else {
            // Columns q < bSplit from bFirst, the rest from the next image: its column q − bSplit is element q of
            // a load starting bSplit floats before it (that load and bFirst's both stay inside B's images).
            __global const float* bNext = b + (bImageIndex + 1) * bImage - bSplit;
            const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            const int16 first = lane < (int16)(bSplit);
            for (int p0 = 0, image = 0; p0 < k; p0 += aPeriod, ++image) {
                __global const float* ap = a + i0 * aRow + image * aImage;
                const int steps = min(aPeriod, k - p0);
                for (int q = 0; q < steps; ++q) {
                    const int at = (p0 + q) * bRow;
                    const float16 bv = select(vload16(0, bNext + at), vload16(0, bFirst + at), first);
                    #pragma unroll
                    for (int r = 0; r < CONV_TM; ++r) acc[r] = fma((float16)(ap[r * aRow + q * aStep]), bv, acc[r]);
                }
            }
        }
        __global float* cFirst = c + cImageIndex * cImage + cWithin;
        __global float* cNext = c + (cImageIndex + 1) * cImage - cSplit;   // column q ≥ cSplit at cNext[q]
        // One float16 store per row when the block's columns are contiguous in C and the epilogue is the bias
        // alone or relu (a vector select: relu_f's x > 0 ? x : 0, NaN to 0 alike); otherwise element by element
        // in one plain loop, so that activation_f is compiled once, not once per row.
        const bool vectorStore = cSplit == CONV_TN && epilogue <= 1;
        float t[CONV_TM * CONV_TN];
        #pragma unroll
        for (int r = 0; r < CONV_TM; ++r) {
            float16 out = acc[r];
            if (vectorStore) {
                __global float* to = cFirst + (i0 + r) * cRow;
                if (accumulate) out += vload16(0, to);
                if (epilogue >= 0) out = out + (float16)(bb[i0 + r]);
                if (epilogue == 1) out = select((float16)(0.0f), out, isgreater(out, (float16)(0.0f)));
                vstore16(out, 0, to);
            } else {
                vstore16(out, r, t);
            }
        }
        if (!vectorStore) {
            for (int r = 0; r < CONV_TM; ++r) {
                const int rowAt = (i0 + r) * cRow;
                for (int q = 0; q < CONV_TN; ++q) {
                    __global float* to = (q < cSplit ? cFirst : cNext) + rowAt + q;
                    float v = accumulate ? t[r * CONV_TN + q] + *to : t[r * CONV_TN + q];
                    if (epilogue >= 0) {
                        const float biased = v + bb[i0 + r];
                        v = activation_f(epilogue, biased);
                    }
                    *to = v;
                }
            }
        }
        return;
    }
    // Edge path: column q's offsets in B and C (−1 past n), then the same arithmetic on a zero-padded block.
    int bAt[CONV_TN], cAt[CONV_TN];
    #pragma unroll 1
    for (int q = 0; q < CONV_TN; ++q) {
        const int j = j0 + q;
        bAt[q] = q < cols ? (j / bPeriod) * bImage + j % bPeriod : -1;
        cAt[q] = q < cols ? (j / cPeriod) * cImage + j % cPeriod : -1;
    }
    float bt[CONV_TN];
    for (int p0 = 0, image = 0; p0 < k; p0 += aPeriod, ++image) {
        __global const float* ap = a + i0 * aRow + image * aImage;
        const int steps = min(aPeriod, k - p0);
        for (int q = 0; q < steps; ++q) {
            __global const float* bp = b + (p0 + q) * bRow;
            #pragma unroll
            for (int s = 0; s < CONV_TN; ++s) bt[s] = bAt[s] >= 0 ? bp[bAt[s]] : 0.0f;
            const float16 bv = vload16(0, bt);
            #pragma unroll
            for (int r = 0; r < CONV_TM; ++r) {
                const float av = r < rows ? ap[r * aRow + q * aStep] : 0.0f;
                acc[r] = fma((float16)(av), bv, acc[r]);
            }
        }
    }
    float t[CONV_TM * CONV_TN];
    #pragma unroll
    for (int r = 0; r < CONV_TM; ++r) vstore16(acc[r], r, t);
    for (int r = 0; r < rows; ++r) {
        __global float* row = c + (i0 + r) * cRow;
        for (int q = 0; q < cols; ++q) {
            const float ab = t[r * CONV_TN + q];
            float out = accumulate ? ab + row[cAt[q]] : ab;
            if (epilogue >= 0) {
                const float v = out + bb[i0 + r];
                out = activation_f(epilogue, v);
            }
            row[cAt[q]] = out;
        }
    }
}

// ---- "Same" convolutions without columns, for CPU drivers ---------------------------------------------

// A stride-1 convolution whose padding keeps the image size (KH = 2·PH + 1, KW = 2·PW + 1, so OH = H, OW = W),
// as an implicit product: output position p = oh·W + ow of an image reads input pixel p + (kh − PH)·W + kw − PW
// of each channel for tap (kh, kw), so 16 neighbouring positions read 16 neighbouring pixels — one float16 load,
// with the lanes whose pixel falls outside the image (padding, or a neighbouring row) zeroed by a select. No
// im2col matrix is written or read.
//
//   Y[b, g·M + i, p] = Σ over channels ch < CG and taps (kh, kw) of
//                      Wt(g, i, ch, kh, kw) · X[b, g·CG + ch, p + (kh − PH)·W + kw − PW]   (zero outside)
//   Wt(g, i, ch, kh, kw) = weight[wOffset + g·wGroup + i·wRow + ch·wChannel + kh·wKh + kw·wKw]
//
// With the weight's own strides this is the forward pass (M filters per group); with the filters and channels
// swapped and the taps flipped (negative wKh, wKw) it is the input gradient, dX = dY convolved with the flipped
// weight (the same padding again). X has C = G·CG channels, Y has G·M, each image's planes consecutive (NCHW).
// With epilogue ≥ 0 the forward's bias (bias[g·M + i]) and activation are applied as Y is stored.
//
// Work-item (x, y, g) of a 3-D launch computes rows y·CONV_TM ..< +CONV_TM (of M) and positions
// (x mod blocks)·16 ..< +16 of image x / blocks (blocks = ⌈H·W / 16⌉ per image, so no block straddles two
// images; the last one's lanes past H·W are masked). Channels are the outer loop and taps the inner, im2col's
// order. A block whose loads might leave the buffer (the first and last image's
// planes, `inputCount` floats in all) loads lane by lane.
__kernel void canopy_conv_same(const int M, const int CG, const int H, const int W, const int KH, const int KW,
                               const int images,
                               __global const float* X, const int xOffset, const int xImage, const int xCount,
                               __global const float* weight, const int wOffset, const int wGroup, const int wRow,
                               const int wChannel, const int wKh, const int wKw,
                               __global float* Y, const int yOffset, const int yImage,
                               __global const float* bias, const int epilogue) {
    const int P = H * W, blocks = (P + CONV_TN - 1) / CONV_TN;
    const int xIndex = (int)get_global_id(0), i0 = (int)get_global_id(1) * CONV_TM, g = (int)get_global_id(2);
    const int b = xIndex / blocks, p0 = (xIndex - b * blocks) * CONV_TN;
    if (b >= images || i0 >= M) return;
    const int PH = (KH - 1) / 2, PW = (KW - 1) / 2;
    const int rows = min(CONV_TM, M - i0);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 pos = (int16)(p0) + lane;
    // Each lane's (oh, ow): the block's first position's, then carried along the row (no vector division).
    const int ohFirst = p0 / W;
    int16 oh = (int16)(ohFirst), ow = (int16)(p0 - ohFirst * W) + lane;
    for (int16 wrap = ow >= (int16)(W); any(wrap); wrap = ow >= (int16)(W)) {
        ow -= select((int16)(0), (int16)(W), wrap);
        oh += select((int16)(0), (int16)(1), wrap);
    }
    const int16 live = pos < (int16)(P);
    const int xBase = xOffset + b * xImage + g * CG * P;   // channel 0 of the group in image b
    // Whether every full-vector load of this block stays inside X.
    const bool inside = xBase + p0 - PH * W - PW >= 0 && xBase + (CG - 1) * P + p0 + CONV_TN + PH * W + PW <= xCount;
    __global const float* w = weight + wOffset + g * wGroup + i0 * wRow;
    float16 acc[CONV_TM];
    #pragma unroll
    for (int r = 0; r < CONV_TM; ++r) acc[r] = (float16)(0.0f);
    // Channels outer, taps inner: the order of im2col's rows (c · KH + kh) · KW + kw, in which the CPU backend's
    // product sums them too.
    for (int ch = 0; ch < CG; ++ch) {
        for (int kh = 0; kh < KH; ++kh) {
            const int16 h = oh + (int16)(kh - PH);
            const int16 rowOK = live & (h >= (int16)(0)) & (h < (int16)(H));
            for (int kw = 0; kw < KW; ++kw) {
                const int16 wcol = ow + (int16)(kw - PW);
                const int16 ok = rowOK & (wcol >= (int16)(0)) & (wcol < (int16)(W));
                __global const float* x = X + xBase + ch * P + p0 + (kh - PH) * W + kw - PW;
                float16 v;
                if (inside) {
                    v = select((float16)(0.0f), vload16(0, x), ok);
                } else {
                    int okLane[CONV_TN];
                    float t[CONV_TN];
                    vstore16(ok, 0, okLane);
                    #pragma unroll
                    for (int q = 0; q < CONV_TN; ++q) t[q] = okLane[q] ? x[q] : 0.0f;
                    v = vload16(0, t);
                }
                __global const float* wt = w + ch * wChannel + kh * wKh + kw * wKw;
                // Rows past M repeat the last row (never stored), so the loads need no test.
                #pragma unroll
                for (int r = 0; r < CONV_TM; ++r) acc[r] = fma((float16)(wt[min(r, rows - 1) * wRow]), v, acc[r]);
            }
        }
    }
    const int cols = min(CONV_TN, P - p0);
    __global float* y = Y + yOffset + b * yImage + (g * M + i0) * P + p0;
    for (int r = 0; r < rows; ++r) {
        float16 out = acc[r];
        if (epilogue >= 0) out = conv_epilogue16(epilogue, out + (float16)(bias[g * M + i0 + r]));
        if (cols == CONV_TN) {
            vstore16(out, 0, y + r * P);
        } else {
            float t[CONV_TN];
            vstore16(out, 0, t);
            for (int q = 0; q < cols; ++q) y[r * P + q] = t[q];
        }
    }
}
