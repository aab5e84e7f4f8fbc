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

} // namespace quantscope::cli
