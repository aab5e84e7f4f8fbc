#pragma once

// Models with the layer shapes of well-known networks and random (He-initialised) weights, built
// in memory for throughput benchmarks: no file to download, the same graph every run (fixed
// seed). Batch normalisation is folded away (a Conv with a bias), as exporters do for inference.

#include "quantscope/model/Graph.h"

#include <cstdint>

namespace quantscope::cli {

// ResNet-18 (He et al. 2016): 7x7/2 stem, max pool, four stages of two basic blocks
// (64, 128, 256, 512 channels; 1x1/2 projections), global average pool, 1000-way Gemm.
Graph resnet18Shaped(int64_t resolution);

// MobileNetV2 (Sandler et al. 2018): 3x3/2 stem of 32, inverted residual blocks (1x1 expand,
// 3x3 depthwise, 1x1 project; Clip(0, 6) activations) with the paper's (t, c, n, s) table, a
// 1x1 conv to 1280, global average pool, 1000-way Gemm.
Graph mobilenetV2Shaped(int64_t resolution);

// BERT-base's encoder (Devlin et al. 2019): `layers` post-norm layers of hidden 768, 12 heads of
// 64, FFN 3072 with Gelu, over inputs [batch, sequence, 768] (the embeddings are not modelled).
// Each layer: Q / K / V / output projections and the two FFN MatMuls with constant weights plus a
// bias Add, the batched attention MatMuls (Q K^T scaled by 1/8, Softmax, times V), two residual
// Adds and two LayerNormalizations.
Graph bertShaped(int64_t layers, int64_t sequence);

} // namespace quantscope::cli
