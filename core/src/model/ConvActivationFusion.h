#pragma once
// Internal to core: which Conv nodes of a graph can apply the Clip / Relu after them.

#include "quantscope/kernels/FloatDepthwisePlane.h"
#include "quantscope/model/Graph.h"

#include <cstddef>
#include <vector>

namespace quantscope {

struct ConvActivation {
    std::size_t conv = 0;       // node index of the Conv
    std::size_t activation = 0; // node index of the Relu / Clip reading it
    kernels::FloatClamp clamp;  // what the activation computes
};

// Every Conv whose output is read by one node only, a Relu or a Clip with constant float bounds (or
// none), and is not a graph output: nothing else can tell whether the activation ran inside the
// Conv. The clamp reproduces the op bit for bit (bounds rounded to float as Clip rounds them).
std::vector<ConvActivation> findConvActivations(const Graph& graph);

} // namespace quantscope
