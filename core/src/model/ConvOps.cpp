// Conv (2-D, groups, pads, strides, dilations) as im2col + OpenBLAS sgemm per image and group.
#include "model/ConvGeometry.h"
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cblas.h>

namespace quantscope::ops {

std::vector<Value> conv(const Node& n, const Inputs& in, int64_t)
{
    const Value& x = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 1);
    const Value* bias = in.size() > 2 ? in[2] : nullptr;
    if (w.rank() != 4)
        throw Error(nodeSubject(n), "only 2-D convolution is supported: weights must be M x C/group x kH x kW, found " +
                                        shapeToString(w.shape));
    const ConvGeometry g = convGeometry(n, x.shape, w.shape[2], w.shape[3], false);
    if (g.kernelH != w.shape[2] || g.kernelW != w.shape[3])
        throw Error(nodeSubject(n), "kernel_shape disagrees with the weights " + shapeToString(w.shape));
    const int64_t groups = n.intAttribute("group", 1);
    const int64_t outChannels = w.shape[0];
    if (groups < 1 || g.channels % groups != 0 || outChannels % groups != 0 || w.shape[1] != g.channels / groups)
        throw Error(nodeSubject(n), "group " + std::to_string(groups) + " does not fit input channels " +
                                        std::to_string(g.channels) + " and weights " + shapeToString(w.shape));
    if (bias != nullptr && bias->size() != outChannels)
        throw Error(nodeSubject(n), "bias needs " + std::to_string(outChannels) + " values");

    const int64_t groupIn = g.channels / groups, groupOut = outChannels / groups;
    const int64_t patch = checkedProduct(n, {groupIn, g.kernelH, g.kernelW});
    const int64_t spatial = checkedProduct(n, {g.outH, g.outW});
    Value y;
    y.shape = {g.batch, outChannels, g.outH, g.outW};
    y.data.assign(static_cast<std::size_t>(checkedProduct(n, y.shape)), 0.0f);
    std::vector<float> columns(static_cast<std::size_t>(checkedProduct(n, {patch, spatial})));
    for (int64_t b = 0; b < g.batch; ++b) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            const float* image = x.data.data() + (b * g.channels + grp * groupIn) * g.height * g.width;
            im2col(image, groupIn, g, columns.data(), 0.0f);
            float* out = y.data.data() + (b * outChannels + grp * groupOut) * spatial;
            if (bias != nullptr) {
                for (int64_t m = 0; m < groupOut; ++m)
                    std::fill(out + m * spatial, out + (m + 1) * spatial, bias->data[grp * groupOut + m]);
            }
            if (spatial > 0 && patch > 0) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(groupOut), static_cast<int>(spatial),
                            static_cast<int>(patch), 1.0f, w.data.data() + grp * groupOut * patch, static_cast<int>(patch),
                            columns.data(), static_cast<int>(spatial), bias != nullptr ? 1.0f : 0.0f, out,
                            static_cast<int>(spatial));
            }
        }
    }
    return {std::move(y)};
}

} // namespace quantscope::ops
