// Activations (Relu and its relatives, Gelu, HardSwish...) and the softmax family, whose axis
// semantics changed at opset 13: before it the input is seen as 2-D [prod(dims < axis),
// prod(dims >= axis)], from it the op runs along the one axis.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace quantscope::ops {
namespace {

std::vector<Value> relu(const Node& n, const Inputs& in, int64_t) {
    Value out = takeInput(n, in, 0);
    for (auto& v : out.ints)
        v = std::max<int64_t>(v, 0);
    for (auto& v : out.data)
        v = v > 0.0f ? v : 0.0f;
    return single(std::move(out));
}

std::vector<Value> gelu(const Node& n, const Inputs& in, int64_t) {
    const std::string approximate = n.stringAttribute("approximate", "none");
    if (approximate == "tanh") {
        const double c = std::sqrt(2.0 / std::numbers::pi);
        return mapFloat(
            n, in, [c](double d) { return 0.5 * d * (1.0 + std::tanh(c * (d + 0.044715 * d * d * d))); });
    }
    if (approximate != "none")
        throw Error(nodeSubject(n), "approximate '" + approximate + "' is not one of none, tanh");
    if (requireInput(n, in, 0).dtype == DType::F32) {
        Value out = takeInput(n, in, 0);
        kernels::gelu(kernels::KernelRegistry::active(), out.data.data(), out.data.size(), out.data.data());
        return single(std::move(out));
    }
    return mapFloat(n, in, [](double d) { return 0.5 * d * (1.0 + std::erf(d / std::numbers::sqrt2)); });
}

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

std::vector<Value> softmaxFamily(const Node& n, const Inputs& in, int64_t opset, SoftmaxKind kind) {
    if (requireInput(n, in, 0).isInteger())
        throw Error(nodeSubject(n), "needs a floating-point input");
    Value out = takeInput(n, in, 0);
    if (out.isInteger())
        throw Error(nodeSubject(n), "needs a floating-point input");
    const int64_t rank = out.rank();
    if (rank == 0)
        throw Error(nodeSubject(n), "needs an input of rank 1 or more");
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", opset >= 13 ? -1 : 1), rank);
    int64_t outer = 1, length = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
        if (d < axis)
            outer *= out.shape[d];
        else if (d == axis || opset < 13)
            length *= out.shape[d];
        else
            inner *= out.shape[d];
    }
    if (kind == SoftmaxKind::Softmax && inner == 1) { // contiguous rows: the kernel path's softmax
        kernels::softmaxRows(kernels::KernelRegistry::active(), out.data.data(), static_cast<size_t>(outer),
                             static_cast<size_t>(length), out.data.data());
        return single(std::move(out));
    }
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            float* base = out.data.data() + o * length * inner + i;
            float peak = -std::numeric_limits<float>::infinity();
            int64_t best = 0;
            for (int64_t k = 0; k < length; ++k) {
                if (base[k * inner] > peak) {
                    peak = base[k * inner];
                    best = k;
                }
            }
            if (kind == SoftmaxKind::Hardmax) {
                for (int64_t k = 0; k < length; ++k)
                    base[k * inner] = k == best ? 1.0f : 0.0f;
                continue;
            }
            double sum = 0.0;
            for (int64_t k = 0; k < length; ++k)
                sum += std::exp(static_cast<double>(base[k * inner]) - peak);
            const double logSum = std::log(sum);
            for (int64_t k = 0; k < length; ++k) {
                const double shifted = static_cast<double>(base[k * inner]) - peak;
                base[k * inner] = static_cast<float>(
                    kind == SoftmaxKind::LogSoftmax ? shifted - logSum : std::exp(shifted) / sum);
            }
        }
    }
    return single(std::move(out));
}

} // namespace

void addActivationOps(OpTable& t) {
    t.push_back({"Relu", 7, 21, relu});
    t.push_back({"Gelu", 20, 21, gelu});
    t.push_back({"LeakyRelu", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 0.01f);
                     return mapFloat(n, in, [alpha](double x) { return x >= 0 ? x : alpha * x; });
                 }});
    t.push_back({"Elu", 6, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 1.0f);
                     return mapFloat(n, in,
                                     [alpha](double x) { return x >= 0 ? x : alpha * (std::exp(x) - 1.0); });
                 }});
    t.push_back({"Celu", 12, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 1.0f);
                     return mapFloat(n, in, [alpha](double x) {
                         return std::max(0.0, x) + std::min(0.0, alpha * (std::exp(x / alpha) - 1.0));
                     });
                 }});
    t.push_back({"Selu", 6, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 1.67326319217681884765625f);
                     const double gamma = n.floatAttribute("gamma", 1.05070102214813232421875f);
                     return mapFloat(n, in, [alpha, gamma](double x) {
                         return gamma * (x > 0 ? x : alpha * (std::exp(x) - 1.0));
                     });
                 }});
    t.push_back({"ThresholdedRelu", 10, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 1.0f);
                     return mapFloat(n, in, [alpha](double x) { return x > alpha ? x : 0.0; });
                 }});
    t.push_back({"Shrink", 9, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double bias = n.floatAttribute("bias", 0.0f),
                                  lambd = n.floatAttribute("lambd", 0.5f);
                     return mapFloat(n, in, [bias, lambd](double x) {
                         return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0);
                     });
                 }});
    t.push_back({"Sigmoid", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(n, in, [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
                 }});
    t.push_back({"Tanh", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(n, in, [](double x) { return std::tanh(x); });
                 }});
    t.push_back({"Softplus", 1, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(n, in, [](double x) { return x > 30 ? x : std::log1p(std::exp(x)); });
                 }});
    t.push_back({"Softsign", 1, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(n, in, [](double x) { return x / (1.0 + std::abs(x)); });
                 }});
    t.push_back({"Mish", 18, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(
                         n, in, [](double x) { return x * std::tanh(x > 30 ? x : std::log1p(std::exp(x))); });
                 }});
    t.push_back({"HardSigmoid", 6, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const double alpha = n.floatAttribute("alpha", 0.2f),
                                  beta = n.floatAttribute("beta", 0.5f);
                     return mapFloat(
                         n, in, [alpha, beta](double x) { return std::clamp(alpha * x + beta, 0.0, 1.0); });
                 }});
    t.push_back({"HardSwish", 14, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return mapFloat(n, in, [](double x) { return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0); });
                 }});
    t.push_back({"Softmax", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return softmaxFamily(n, in, opset, SoftmaxKind::Softmax);
                 }});
    t.push_back({"LogSoftmax", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return softmaxFamily(n, in, opset, SoftmaxKind::LogSoftmax);
                 }});
    t.push_back({"Hardmax", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return softmaxFamily(n, in, opset, SoftmaxKind::Hardmax);
                 }});
}

} // namespace quantscope::ops
