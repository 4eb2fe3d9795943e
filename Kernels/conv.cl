// =================================================================================================
// Canopy OpenCL kernels: conv.cl
//
// 2-D convolution (cross-correlation, zero padding, G channel groups) by im2col and the matmul kernels of
// matmul.cl. Input [N, C, H, W], weight [F, C/G, KH, KW], output [N, F, OH, OW]; CKK = C·KH·KW, P = OH·OW.
// Group g's rows of col are the consecutive block g·CKK/G ..< (g+1)·CKK/G, so the host multiplies each group's
// weight rows with its block (one matmul per group, batched over the chunk's images).
// The host works on a chunk of `images` consecutive images at a time (so the scratch stays bounded);
// `inputOffset`/`outputOffset` locate the chunk's first image.
//
//   forward          col[b] (CKK × P) = im2col(input[b]);      output_g[b] = weight_g · col_g[b]
//   backward input   dcol_g[b] = weight_gᵀ · dOutput_g[b];     dInput[b] = col2im(dcol[b])
//   backward weight  colT[g] (images·P × CKK/G) = im2col_rows(input); dOutT (F × images·P) = permute(dOutput);
//                    dWeight_g (+)= dOutT_g · colT[g]   (one matmul batched over the groups)
//
// Column index ckk = (c · KH + kh) · KW + kw; output position p = oh · OW + ow; the input pixel of
// (ckk, p) is (c, oh·SH − PH + kh, ow·SW − PW + kw), zero when outside the image.
// =================================================================================================

// col[b][ckk][p] for the chunk. Work-item (ow, oh, b · C + c) of a 3-D launch reads the KH × KW window of
// output position (oh, ow) in channel c and writes its KH·KW column entries (Caffe's layout of the work:
// neighbouring work-items write neighbouring p; the launch shape gives the coordinates, so no integer division).
__kernel void canopy_im2col(__global const float* input, const int inputOffset, __global float* col,
                            const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                            const int images) {
    const int ow = (int)get_global_id(0), oh = (int)get_global_id(1), bc = (int)get_global_id(2);
    if (ow >= OW || oh >= OH || bc >= images * C) return;
    const int P = OH * OW, p = oh * OW + ow;
    const int h0 = oh * SH - PH, w0 = ow * SW - PW;
    __global const float* x = input + inputOffset + bc * H * W;
    // Row (c · KH + kh) · KW + kw of image b's CKK × P matrix starts at (bc · KH · KW + kh · KW + kw) · P.
    __global float* out = col + bc * KH * KW * P + p;
    for (int kh = 0; kh < KH; ++kh) {
        const int h = h0 + kh;
        const bool rowInside = h >= 0 && h < H;
        for (int kw = 0; kw < KW; ++kw) {
            const int w = w0 + kw;
            out[(kh * KW + kw) * P] = (rowInside && w >= 0 && w < W) ? x[h * W + w] : 0.0f;
        }
    }
}

// colT[g][b · P + p][ckk'] for the chunk (the transpose of im2col, group by group: one row of CKK/G per output
// position, ckk' = (c' · KH + kh) · KW + kw with c' = c − g · C/G the channel within its group).
// Work-item (ow, oh, b · C + c) of a 3-D launch writes the KH·KW consecutive entries of channel c in row
// b · P + p of its group's matrix.
__kernel void canopy_im2col_rows(__global const float* input, const int inputOffset, __global float* colT,
                                 const int C, const int H, const int W, const int KH, const int KW,
                                 const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                                 const int images, const int G) {
    const int ow = (int)get_global_id(0), oh = (int)get_global_id(1), bc = (int)get_global_id(2);
    if (ow >= OW || oh >= OH || bc >= images * C) return;
    const int P = OH * OW, p = oh * OW + ow, CG = C / G, CKK = CG * KH * KW;
    const int b = bc / C, c = bc - b * C;
    const int g = c / CG, cg = c - g * CG;
    const int h0 = oh * SH - PH, w0 = ow * SW - PW;
    __global const float* x = input + inputOffset + bc * H * W;
    __global float* out = colT + ((g * images + b) * P + p) * CKK + cg * KH * KW;
    for (int kh = 0; kh < KH; ++kh) {
        const int h = h0 + kh;
        const bool rowInside = h >= 0 && h < H;
        for (int kw = 0; kw < KW; ++kw) {
            const int w = w0 + kw;
            out[kh * KW + kw] = (rowInside && w >= 0 && w < W) ? x[h * W + w] : 0.0f;
        }
    }
}

// dInput[b][c][h][w] = Σ over (kh, kw) of dcol[b][(c·KH + kh)·KW + kw][oh·OW + ow] for the output
// positions (oh, ow) that read pixel (h, w): oh·SH = h + PH − kh with 0 ≤ oh < OH, likewise ow.
// The valid kh form the progression kh ≡ (h + PH) mod SH, along which oh falls by one per step, so
// there is one division per dimension, not per tap (none when the strides are the constant 1). A gather:
// no two work-items write the same element. Work-item (w, h, b · C + c) of a 3-D launch computes element
// ((b · C + c) · H + h) · W + w of the chunk.
inline void col2im_element(__global const float* dcol, __global float* dInput, const int inputOffset,
                           const int C, const int H, const int W, const int KH, const int KW,
                           const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                           const int images) {
    const int w = (int)get_global_id(0), h = (int)get_global_id(1), bc = (int)get_global_id(2);
    if (w >= W || h >= H || bc >= images * C) return;
    const int P = OH * OW;
    __global const float* d = dcol + bc * KH * KW * P;   // image b, channel c: rows c·KH·KW ..< (c+1)·KH·KW
    const int th = h + PH, tw = w + PW;
    const int khFirst = th % SH, kwFirst = tw % SW;
    float acc = 0.0f;
    for (int kh = khFirst, oh = (th - khFirst) / SH; kh < KH; kh += SH, --oh) {
        if (oh >= OH) continue;
        if (oh < 0) break;
        for (int kw = kwFirst, ow = (tw - kwFirst) / SW; kw < KW; kw += SW, --ow) {
            if (ow >= OW) continue;
            if (ow < 0) break;
            acc += d[(kh * KW + kw) * P + oh * OW + ow];
        }
    }
    dInput[inputOffset + (bc * H + h) * W + w] = acc;
}

__kernel void canopy_col2im(__global const float* dcol, __global float* dInput, const int inputOffset,
                            const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                            const int images) {
    col2im_element(dcol, dInput, inputOffset, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, images);
}

// canopy_col2im for strides of 1 (the host's choice), where the stride arithmetic folds away.
__kernel void canopy_col2im_unit_stride(__global const float* dcol, __global float* dInput, const int inputOffset,
                                        const int C, const int H, const int W, const int KH, const int KW,
                                        const int PH, const int PW, const int OH, const int OW, const int images) {
    col2im_element(dcol, dInput, inputOffset, C, H, W, KH, KW, 1, 1, PH, PW, OH, OW, images);
}

// dOutT[f][b · P + p] = dOutput[(b · F + f) · P + p] for the chunk: NCHW to CNHW, so that the weight
// gradient of all the chunk's images is one matrix product. Work-item (p, f, b) of a 3-D launch copies one
// element; reads and writes of neighbouring work-items are both contiguous.
__kernel void canopy_nchw_to_cnhw(__global const float* dOutput, const int outputOffset, __global float* dOutT,
                                  const int F, const int P, const int images) {
    const int p = (int)get_global_id(0), f = (int)get_global_id(1), b = (int)get_global_id(2);
    if (p >= P || f >= F || b >= images) return;
    dOutT[(f * images + b) * P + p] = dOutput[outputOffset + (b * F + f) * P + p];
}
