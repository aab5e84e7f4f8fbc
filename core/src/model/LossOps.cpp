// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), for exported training
// graphs evaluated at inference: per-element losses with class weights and ignore_index, then
// reduction none, sum, or mean (divided by the total weight of the counted elements).
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope::ops {
namespace {

// `logProbabilities` is [N, C, d...], `target` [N, d...].
Value negativeLogLikelihood(const Node& n, const Value& logProbabilities, const Value& target,
                            const Value* weight) {
    const auto labels = integerValues(n, target, "target");
    if (logProbabilities.rank() < 2 || target.rank() != logProbabilities.rank() - 1)
        throw Error(nodeSubject(n), "needs input [N, C, ...] and target [N, ...], found " +
                                        shapeToString(logProbabilities.shape) + " and " +
                                        shapeToString(target.shape));
    const int64_t batch = logProbabilities.shape[0], classes = logProbabilities.shape[1];
    const int64_t inner = batch > 0 ? target.size() / batch : 0;
    const Attribute* ignoreAttribute = n.attribute("ignore_index");
    const int64_t ignore = ignoreAttribute ? ignoreAttribute->i : std::numeric_limits<int64_t>::min();
    const std::string reduction = n.stringAttribute("reduction", "mean");
    if (reduction != "none" && reduction != "sum" && reduction != "mean")
        throw Error(nodeSubject(n), "reduction '" + reduction + "' is not one of none, sum, mean");
    Value losses = zeros(logProbabilities.dtype, target.shape);
    double total = 0.0, totalWeight = 0.0;
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t label = labels[b * inner + i];
            if (label == ignore)
                continue;
            if (label < 0 || label >= classes)
                throw Error(nodeSubject(n), "target " + std::to_string(label) + " is outside [0, " +
                                                std::to_string(classes - 1) + "]");
            const double w = weight ? weight->number(label) : 1.0;
            const double loss = -logProbabilities.number((b * classes + label) * inner + i) * w;
            losses.data[b * inner + i] = static_cast<float>(loss);
            total += loss;
            totalWeight += w;
        }
    }
    if (reduction == "none")
        return losses;
    const double reduced = reduction == "sum" ? total : total / totalWeight;
    Value out = zeros(logProbabilities.dtype, {});
    out.data[0] = static_cast<float>(reduced);
    return out;
}

std::vector<Value> nllLoss(const Node& n, const Inputs& in, int64_t) {
    return {negativeLogLikelihood(n, requireInput(n, in, 0), requireInput(n, in, 1), optionalInput(in, 2))};
}

std::vector<Value> softmaxCrossEntropyLoss(const Node& n, const Inputs& in, int64_t) {
    const Value& scores = requireInput(n, in, 0);
    if (scores.isInteger() || scores.rank() < 2)
        throw Error(nodeSubject(n), "scores must be floating-point [N, C, ...]");
    // log-softmax along the class axis (1).
    Value logProbabilities = scores;
    const int64_t batch = scores.shape[0], classes = scores.shape[1];
    const int64_t inner = batch * classes > 0 ? scores.size() / (batch * classes) : 0;
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t i = 0; i < inner; ++i) {
            double peak = -std::numeric_limits<double>::infinity();
            for (int64_t c = 0; c < classes; ++c)
                peak = std::max<double>(peak, scores.data[(b * classes + c) * inner + i]);
            double sum = 0.0;
            for (int64_t c = 0; c < classes; ++c)
                sum += std::exp(scores.data[(b * classes + c) * inner + i] - peak);
            for (int64_t c = 0; c < classes; ++c) {
                const int64_t at = (b * classes + c) * inner + i;
                logProbabilities.data[at] = static_cast<float>(scores.data[at] - peak - std::log(sum));
            }
        }
    }
    Value loss = negativeLogLikelihood(n, logProbabilities, requireInput(n, in, 1), optionalInput(in, 2));
    return {std::move(loss), std::move(logProbabilities)};
}

} // namespace

void addLossOps(OpTable& t) {
    t.push_back({"NegativeLogLikelihoodLoss", 12, 21, nllLoss});
    t.push_back({"SoftmaxCrossEntropyLoss", 12, 21, softmaxCrossEntropyLoss});
}

} // namespace quantscope::ops
