// Normalizations: BatchNormalization (with the pre-9 `spatial` attribute, and opset 14's training
// mode with batch statistics), InstanceNormalization, LayerNormalization, MeanVarianceNormalization and LRN.
// Statistics are computed in double.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace quantscope::ops {
namespace {

const Value& floatInput(const Node& n, const Inputs& in, std::size_t i) {
    const Value& v = requireInput(n, in, i);
    if (v.isInteger())
        throw Error(nodeSubject(n), "input " + std::to_string(i) + " must be floating-point");
    return v;
}

std::vector<Value> batchNormalization(const Node& n, const Inputs& in, int64_t opset);

// Opset 14's training_mode: normalizes with the batch's own mean and (biased) variance per channel
// and also returns the running statistics momentum * given + (1 - momentum) * batch.
std::vector<Value> batchNormalizationTraining(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = floatInput(n, in, 0);
    const Value& mean = floatInput(n, in, 3);
    const Value& var = floatInput(n, in, 4);
    if (x.rank() < 2 || mean.size() != x.shape[1] || var.size() != x.shape[1])
        throw Error(nodeSubject(n),
                    "needs an input N x C x ... and C means and variances, found " + shapeToString(x.shape));
    const int64_t channels = x.shape[1];
    const int64_t spatial = x.size() / std::max<int64_t>(checkedProduct(n, {x.shape[0], channels}), 1);
    const int64_t count = x.shape[0] * spatial;
    Value batchMean = Value::floats({channels}, std::vector<float>(static_cast<std::size_t>(channels)));
    Value batchVar = batchMean;
    for (int64_t c = 0; c < channels; ++c) {
        double sum = 0.0, squares = 0.0;
        for (int64_t b = 0; b < x.shape[0]; ++b) {
            for (int64_t s = 0; s < spatial; ++s)
                sum += x.data[(b * channels + c) * spatial + s];
        }
        const double m = count > 0 ? sum / static_cast<double>(count) : 0.0;
        for (int64_t b = 0; b < x.shape[0]; ++b) {
            for (int64_t s = 0; s < spatial; ++s) {
                const double d = x.data[(b * channels + c) * spatial + s] - m;
                squares += d * d;
            }
        }
        batchMean.data[c] = static_cast<float>(m);
        batchVar.data[c] = static_cast<float>(count > 0 ? squares / static_cast<double>(count) : 0.0);
    }
    Node inference = n;
    inference.attributes.erase("training_mode");
    Inputs withBatchStatistics = in;
    withBatchStatistics[3] = &batchMean;
    withBatchStatistics[4] = &batchVar;
    std::vector<Value> outputs = batchNormalization(inference, withBatchStatistics, opset);
    const double momentum = n.floatAttribute("momentum", 0.9f);
    Value runningMean = mean, runningVar = var;
    for (int64_t c = 0; c < channels; ++c) {
        runningMean.data[c] =
            static_cast<float>(mean.data[c] * momentum + batchMean.data[c] * (1.0 - momentum));
        runningVar.data[c] = static_cast<float>(var.data[c] * momentum + batchVar.data[c] * (1.0 - momentum));
    }
    outputs.push_back(std::move(runningMean));
    outputs.push_back(std::move(runningVar));
    return outputs;
}

std::vector<Value> batchNormalization(const Node& n, const Inputs& in, int64_t opset) {
    if (opset >= 14 && n.intAttribute("training_mode", 0) != 0)
        return batchNormalizationTraining(n, in, opset);
    Value out = floatInput(n, in, 0);
    const Value& scale = floatInput(n, in, 1);
    const Value& bias = floatInput(n, in, 2);
    const Value& mean = floatInput(n, in, 3);
    const Value& var = floatInput(n, in, 4);
    if (out.rank() < 2)
        throw Error(nodeSubject(n), "input must have a channel axis (rank 2 or more)");
    const int64_t channels = out.shape[1];
    int64_t spatial = 1;
    for (int d = 2; d < out.rank(); ++d)
        spatial *= out.shape[d];
    // Before opset 9, spatial = 0 gives every (channel, position) its own statistics.
    const bool perElement = opset < 9 && n.intAttribute("spatial", 1) == 0;
    const int64_t perImage = perElement ? channels * spatial : channels;
    for (const Value* v : {&scale, &bias, &mean, &var}) {
        if (v->size() != perImage)
            throw Error(nodeSubject(n),
                        "scale, bias, mean and variance need " + std::to_string(perImage) + " values");
    }
    const double epsilon = n.floatAttribute("epsilon", 1e-5f);
    for (int64_t b0 = 0; b0 < out.shape[0]; ++b0) {
        for (int64_t c = 0; c < channels; ++c) {
            float* p = out.data.data() + (b0 * channels + c) * spatial;
            for (int64_t s = 0; s < spatial; ++s) {
                const int64_t k = perElement ? c * spatial + s : c;
                const double a = scale.data[k] / std::sqrt(static_cast<double>(var.data[k]) + epsilon);
                p[s] = static_cast<float>(p[s] * a + (bias.data[k] - mean.data[k] * a));
            }
        }
    }
    return single(std::move(out));
}

// Mean and (biased) variance of n values, summed in double: InstanceNormalization's and
// LayerNormalization's statistics. Both are 0 for n = 0.
std::pair<double, double> meanAndVariance(const float* p, int64_t n) {
    double sum = 0.0, squares = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += p[i];
    const double mean = n > 0 ? sum / static_cast<double>(n) : 0.0;
    for (int64_t i = 0; i < n; ++i)
        squares += (p[i] - mean) * (p[i] - mean);
    return {mean, n > 0 ? squares / static_cast<double>(n) : 0.0};
}

std::vector<Value> instanceNormalization(const Node& n, const Inputs& in, int64_t) {
    Value out = floatInput(n, in, 0);
    const Value& scale = floatInput(n, in, 1);
    const Value& bias = floatInput(n, in, 2);
    if (out.rank() < 3)
        throw Error(nodeSubject(n), "input must be N x C x spatial...");
    const int64_t channels = out.shape[1];
    if (scale.size() != channels || bias.size() != channels)
        throw Error(nodeSubject(n), "scale and bias need " + std::to_string(channels) + " values");
    int64_t spatial = 1;
    for (int d = 2; d < out.rank(); ++d)
        spatial *= out.shape[d];
    const double epsilon = n.floatAttribute("epsilon", 1e-5f);
    for (int64_t plane = 0; plane < out.shape[0] * channels; ++plane) {
        float* p = out.data.data() + plane * spatial;
        const auto [mean, variance] = meanAndVariance(p, spatial);
        const int64_t c = plane % channels;
        const double a = scale.data[c] / std::sqrt(variance + epsilon);
        for (int64_t s = 0; s < spatial; ++s)
            p[s] = static_cast<float>((p[s] - mean) * a + bias.data[c]);
    }
    return single(std::move(out));
}

std::vector<Value> layerNormalization(const Node& n, const Inputs& in, int64_t) {
    floatInput(n, in, 0); // checks the type
    Value out = takeInput(n, in, 0);
    const Value& scale = floatInput(n, in, 1);
    const Value* bias = optionalInput(in, 2);
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", -1), out.rank());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < out.rank(); ++d)
        (d < axis ? outer : inner) *= out.shape[d];
    // Scale and bias broadcast over the normalized dimensions.
    const std::vector<int64_t> normalized(out.shape.begin() + axis, out.shape.end());
    for (const Value* v : {&scale, bias}) {
        if (v != nullptr && broadcastShape(n, {&v->shape, &normalized}) != normalized)
            throw Error(nodeSubject(n), "scale and bias must broadcast to " + shapeToString(normalized));
    }
    const auto scaleIndex = broadcastIndex(scale.shape, normalized);
    const std::vector<int64_t> biasIndex =
        bias ? broadcastIndex(bias->shape, normalized) : std::vector<int64_t>{};
    const double epsilon = n.floatAttribute("epsilon", 1e-5f);
    std::vector<int64_t> statShape = out.shape;
    for (int64_t d = axis; d < out.rank(); ++d)
        statShape[d] = 1;
    Value means = zeros(out.dtype, statShape), inverseStd = zeros(out.dtype, statShape);
    if (scale.size() == inner && (bias == nullptr || bias->size() == inner)) { // one value per position
        kernels::layerNormRows(kernels::KernelRegistry::active(), out.data.data(), static_cast<size_t>(outer),
                               static_cast<size_t>(inner), scale.data.data(),
                               bias ? bias->data.data() : nullptr, static_cast<float>(epsilon),
                               out.data.data(), means.data.data(), inverseStd.data.data());
        std::vector<Value> outputs = single(std::move(out));
        outputs.push_back(std::move(means));
        outputs.push_back(std::move(inverseStd));
        return outputs;
    }
    for (int64_t o = 0; o < outer; ++o) {
        float* p = out.data.data() + o * inner;
        const auto [mean, variance] = meanAndVariance(p, inner);
        const double inv = 1.0 / std::sqrt(variance + epsilon);
        means.data[o] = static_cast<float>(mean);
        inverseStd.data[o] = static_cast<float>(inv);
        for (int64_t i = 0; i < inner; ++i) {
            double v = (p[i] - mean) * inv * scale.data[scaleIndex[i]];
            if (bias)
                v += bias->data[biasIndex[i]];
            p[i] = static_cast<float>(v);
        }
    }
    std::vector<Value> outputs = single(std::move(out));
    outputs.push_back(std::move(means));
    outputs.push_back(std::move(inverseStd));
    return outputs;
}

std::vector<Value> meanVarianceNormalization(const Node& n, const Inputs& in, int64_t) {
    Value out = floatInput(n, in, 0);
    const auto axes = n.intsAttribute("axes", {0, 2, 3});
    std::vector<bool> reduced(out.rank(), false);
    for (int64_t a : axes)
        reduced[normalizeAxis(n, a, out.rank())] = true;
    std::vector<int64_t> kept(out.shape);
    for (int64_t d = 0; d < out.rank(); ++d) {
        if (reduced[d])
            kept[d] = 1;
    }
    const auto slot = broadcastIndex(kept, out.shape);
    const int64_t slots = elementCount(kept);
    std::vector<double> sum(slots, 0.0), squares(slots, 0.0);
    const double count = slots > 0 ? static_cast<double>(out.size()) / static_cast<double>(slots) : 1.0;
    for (int64_t i = 0; i < out.size(); ++i) {
        sum[slot[i]] += out.data[i];
        squares[slot[i]] += static_cast<double>(out.data[i]) * out.data[i];
    }
    for (int64_t i = 0; i < out.size(); ++i) {
        const double mean = sum[slot[i]] / count;
        const double variance = squares[slot[i]] / count - mean * mean;
        out.data[i] = static_cast<float>((out.data[i] - mean) / (std::sqrt(std::max(variance, 0.0)) + 1e-9));
    }
    return single(std::move(out));
}

std::vector<Value> lrn(const Node& n, const Inputs& in, int64_t) {
    const Value& x = floatInput(n, in, 0);
    if (x.rank() < 3)
        throw Error(nodeSubject(n), "input must be N x C x spatial...");
    const double alpha = n.floatAttribute("alpha", 1e-4f), beta = n.floatAttribute("beta", 0.75f);
    const double bias = n.floatAttribute("bias", 1.0f);
    const int64_t size = n.intAttribute("size", 0);
    if (size < 1)
        throw Error(nodeSubject(n), "size must be 1 or more");
    const int64_t channels = x.shape[1];
    int64_t spatial = 1;
    for (int d = 2; d < x.rank(); ++d)
        spatial *= x.shape[d];
    Value out = x;
    const int64_t before = (size - 1) / 2, after = size - 1 - before;
    for (int64_t b = 0; b < x.shape[0]; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            for (int64_t s = 0; s < spatial; ++s) {
                double squares = 0.0;
                for (int64_t k = std::max<int64_t>(0, c - before); k <= std::min(channels - 1, c + after);
                     ++k) {
                    const double v = x.data[(b * channels + k) * spatial + s];
                    squares += v * v;
                }
                const int64_t at = (b * channels + c) * spatial + s;
                out.data[at] = static_cast<float>(
                    x.data[at] / std::pow(bias + alpha / static_cast<double>(size) * squares, beta));
            }
        }
    }
    return single(std::move(out));
}

} // namespace

void addNormalizationOps(OpTable& t) {
    t.push_back({"BatchNormalization", 7, 21, batchNormalization});
    t.push_back({"InstanceNormalization", 6, 21, instanceNormalization});
    t.push_back({"LayerNormalization", 17, 21, layerNormalization});
    t.push_back({"MeanVarianceNormalization", 9, 21, meanVarianceNormalization});
    t.push_back({"LRN", 7, 21, lrn});
}

} // namespace quantscope::ops
