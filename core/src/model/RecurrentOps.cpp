// RNN, GRU and LSTM as ONNX defines them (opset 7, and 14's batch-first layout): forward, reverse
// or bidirectional, per-batch sequence_lens, initial states, clip, the activations attribute with
// its alphas and betas, GRU's linear_before_reset and LSTM's peepholes and input_forget. Gate
// orders are ONNX's: RNN one gate, GRU z r h, LSTM i o f c. Computes in double, step by step.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ops {
namespace {

enum class Cell { Rnn, Gru, Lstm };

struct Activation {
    std::string name;
    double alpha = 0.0, beta = 0.0;

    double operator()(double x) const {
        if (name == "Sigmoid")
            return 1.0 / (1.0 + std::exp(-x));
        if (name == "Tanh")
            return std::tanh(x);
        if (name == "Relu")
            return std::max(x, 0.0);
        if (name == "Affine")
            return alpha * x + beta;
        if (name == "LeakyRelu")
            return x >= 0 ? x : alpha * x;
        if (name == "ThresholdedRelu")
            return x > alpha ? x : 0.0;
        if (name == "ScaledTanh")
            return alpha * std::tanh(beta * x);
        if (name == "HardSigmoid")
            return std::clamp(alpha * x + beta, 0.0, 1.0);
        if (name == "Elu")
            return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
        if (name == "Softsign")
            return x / (1.0 + std::abs(x));
        return std::log1p(std::exp(x)); // Softplus
    }
};

// The activations of every direction: the attribute's names (with their alphas / betas in order)
// or the cell's defaults.
std::vector<Activation> activationsOf(const Node& n, Cell cell, int64_t directions) {
    const std::vector<std::string> defaults = cell == Cell::Rnn ? std::vector<std::string>{"Tanh"}
                                              : cell == Cell::Gru
                                                  ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                  : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    const auto perDirection = static_cast<int64_t>(defaults.size());
    std::vector<std::string> names;
    std::vector<std::string> given =
        n.attribute("activations") ? n.attribute("activations")->strings : std::vector<std::string>{};
    if (given.empty()) {
        for (int64_t d = 0; d < directions; ++d)
            names.insert(names.end(), defaults.begin(), defaults.end());
    } else if (static_cast<int64_t>(given.size()) == perDirection * directions) {
        names = given;
    } else if (static_cast<int64_t>(given.size()) == perDirection) {
        for (int64_t d = 0; d < directions; ++d)
            names.insert(names.end(), given.begin(), given.end());
    } else {
        throw Error(nodeSubject(n), "activations needs " + std::to_string(perDirection * directions) +
                                        " names, found " + std::to_string(given.size()));
    }
    const Attribute* alphas = n.attribute("activation_alpha");
    const Attribute* betas = n.attribute("activation_beta");
    std::vector<Activation> result;
    std::size_t alphaAt = 0, betaAt = 0;
    for (const auto& name : names) {
        static const char* const known[] = {
            "Sigmoid",    "Tanh",        "Relu", "Affine",   "LeakyRelu", "ThresholdedRelu",
            "ScaledTanh", "HardSigmoid", "Elu",  "Softsign", "Softplus"};
        if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return name == k; }) ==
            std::end(known))
            throw Error(nodeSubject(n), "activation '" + name + "' is not supported");
        Activation f{name};
        const bool takesAlpha = name == "Affine" || name == "LeakyRelu" || name == "ThresholdedRelu" ||
                                name == "ScaledTanh" || name == "HardSigmoid" || name == "Elu";
        const bool takesBeta = name == "Affine" || name == "ScaledTanh" || name == "HardSigmoid";
        // ONNX's defaults where the attribute lists fewer values.
        f.alpha = name == "LeakyRelu" ? 0.01 : name == "HardSigmoid" ? 0.2 : 1.0;
        f.beta = name == "HardSigmoid" ? 0.5 : 0.0;
        if (takesAlpha && alphas != nullptr && alphaAt < alphas->floats.size())
            f.alpha = alphas->floats[alphaAt++];
        if (takesBeta && betas != nullptr && betaAt < betas->floats.size())
            f.beta = betas->floats[betaAt++];
        result.push_back(f);
    }
    return result;
}

void requireShape(const Node& n, const Value& v, const std::vector<int64_t>& shape, const char* what) {
    if (v.isInteger() || v.shape != shape)
        throw Error(nodeSubject(n), std::string(what) + " must be a float tensor " + shapeToString(shape) +
                                        ", found " + shapeToString(v.shape));
}

std::vector<Value> recurrent(const Node& n, const Inputs& in, int64_t opset, Cell cell) {
    const Value& input = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 1);
    const Value& r = requireInput(n, in, 2);
    const bool batchFirst = opset >= 14 && n.intAttribute("layout", 0) != 0;
    if (input.isInteger() || input.rank() != 3)
        throw Error(nodeSubject(n),
                    "X must be a float tensor of rank 3, found " + shapeToString(input.shape));
    const int64_t steps = input.shape[batchFirst ? 1 : 0], batch = input.shape[batchFirst ? 0 : 1];
    const int64_t inputSize = input.shape[2];
    const std::string direction = n.stringAttribute("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
        throw Error(nodeSubject(n), "direction '" + direction + "' is not forward, reverse or bidirectional");
    const int64_t directions = direction == "bidirectional" ? 2 : 1;
    const int64_t gates = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
    if (w.rank() != 3)
        throw Error(nodeSubject(n),
                    "W must be [directions, gates x hidden, input], found " + shapeToString(w.shape));
    const int64_t hidden = n.intAttribute("hidden_size", w.shape[1] / gates);
    if (hidden < 1 || hidden > (int64_t{1} << 20))
        throw Error(nodeSubject(n), "hidden_size must be in 1..2^20");
    requireShape(n, w, {directions, gates * hidden, inputSize}, "W");
    requireShape(n, r, {directions, gates * hidden, hidden}, "R");
    const Value* bias = optionalInput(in, 3);
    if (bias != nullptr)
        requireShape(n, *bias, {directions, 2 * gates * hidden}, "B");
    std::vector<int64_t> lengths(static_cast<std::size_t>(batch), steps);
    if (const Value* given = optionalInput(in, 4)) {
        lengths = integerValues(n, *given, "sequence_lens");
        if (static_cast<int64_t>(lengths.size()) != batch)
            throw Error(nodeSubject(n), "sequence_lens needs " + std::to_string(batch) + " values");
        for (int64_t length : lengths) {
            if (length < 0 || length > steps)
                throw Error(nodeSubject(n), "sequence length " + std::to_string(length) + " is outside [0, " +
                                                std::to_string(steps) + "]");
        }
    }
    const std::vector<int64_t> stateShape = batchFirst ? std::vector<int64_t>{batch, directions, hidden}
                                                       : std::vector<int64_t>{directions, batch, hidden};
    const Value* initialH = optionalInput(in, 5);
    const Value* initialC = cell == Cell::Lstm ? optionalInput(in, 6) : nullptr;
    const Value* peepholes = cell == Cell::Lstm ? optionalInput(in, 7) : nullptr;
    if (initialH != nullptr)
        requireShape(n, *initialH, stateShape, "initial_h");
    if (initialC != nullptr)
        requireShape(n, *initialC, stateShape, "initial_c");
    if (peepholes != nullptr)
        requireShape(n, *peepholes, {directions, 3 * hidden}, "P");
    const double clip = n.floatAttribute("clip", 0.0f);
    const bool linearBeforeReset = n.intAttribute("linear_before_reset", 0) != 0;
    const bool inputForget = n.intAttribute("input_forget", 0) != 0;
    const auto activations = activationsOf(n, cell, directions);
    const auto perDirection = activations.size() / static_cast<std::size_t>(directions);

    checkedProduct(n, {steps, directions, batch, hidden});
    const std::vector<int64_t> yShape = batchFirst ? std::vector<int64_t>{batch, steps, directions, hidden}
                                                   : std::vector<int64_t>{steps, directions, batch, hidden};
    Value y = zeros(input.dtype, yShape), yH = zeros(input.dtype, stateShape),
          yC = zeros(input.dtype, stateShape);
    const auto stateAt = [&](int64_t d, int64_t b, int64_t j) {
        return batchFirst ? (b * directions + d) * hidden + j : (d * batch + b) * hidden + j;
    };
    const auto yAt = [&](int64_t t, int64_t d, int64_t b, int64_t j) {
        return batchFirst ? ((b * steps + t) * directions + d) * hidden + j
                          : ((t * directions + d) * batch + b) * hidden + j;
    };
    const auto xAt = [&](int64_t t, int64_t b) {
        return (batchFirst ? b * steps + t : t * batch + b) * inputSize;
    };
    const auto clipped = [clip](double v) { return clip > 0 ? std::clamp(v, -clip, clip) : v; };

    std::vector<double> h(static_cast<std::size_t>(hidden)), c(h.size()), next(h.size()), nextC(h.size());
    std::vector<double> xw(static_cast<std::size_t>(gates * hidden)), hr(xw.size()), resetHidden(h.size());
    for (int64_t d = 0; d < directions; ++d) {
        const bool reverse = direction == "reverse" || d == 1;
        const float* wd = w.data.data() + d * gates * hidden * inputSize;
        const float* rd = r.data.data() + d * gates * hidden * hidden;
        const float* wb = bias != nullptr ? bias->data.data() + d * 2 * gates * hidden : nullptr;
        const Activation* f = activations.data() + d * perDirection;
        for (int64_t b = 0; b < batch; ++b) {
            for (int64_t j = 0; j < hidden; ++j) {
                h[j] = initialH != nullptr ? initialH->data[stateAt(d, b, j)] : 0.0;
                c[j] = initialC != nullptr ? initialC->data[stateAt(d, b, j)] : 0.0;
            }
            for (int64_t s = 0; s < lengths[b]; ++s) {
                const int64_t t = reverse ? lengths[b] - 1 - s : s;
                const float* x = input.data.data() + xAt(t, b);
                // xw = W x + Wb, hr = R h + Rb, per gate row.
                for (int64_t g = 0; g < gates * hidden; ++g) {
                    double sx = wb != nullptr ? wb[g] : 0.0,
                           sh = wb != nullptr ? wb[gates * hidden + g] : 0.0;
                    for (int64_t k = 0; k < inputSize; ++k)
                        sx += static_cast<double>(wd[g * inputSize + k]) * x[k];
                    for (int64_t k = 0; k < hidden; ++k)
                        sh += static_cast<double>(rd[g * hidden + k]) * h[k];
                    xw[g] = sx;
                    hr[g] = sh;
                }
                if (cell == Cell::Gru && !linearBeforeReset) { // r * h, which R_h multiplies
                    for (int64_t k = 0; k < hidden; ++k)
                        resetHidden[k] = f[0](clipped(xw[hidden + k] + hr[hidden + k])) * h[k];
                }
                for (int64_t j = 0; j < hidden; ++j) {
                    if (cell == Cell::Rnn) {
                        next[j] = f[0](clipped(xw[j] + hr[j]));
                    } else if (cell == Cell::Gru) {
                        const double z = f[0](clipped(xw[j] + hr[j]));
                        const double reset = f[0](clipped(xw[hidden + j] + hr[hidden + j]));
                        double candidate = 0.0;
                        if (linearBeforeReset) {
                            candidate = xw[2 * hidden + j] + reset * hr[2 * hidden + j];
                        } else { // R_h applies to (r * h), so that row is recomputed
                            double sh = wb != nullptr ? wb[gates * hidden + 2 * hidden + j] : 0.0;
                            for (int64_t k = 0; k < hidden; ++k)
                                sh += static_cast<double>(rd[(2 * hidden + j) * hidden + k]) * resetHidden[k];
                            candidate = xw[2 * hidden + j] + sh;
                        }
                        const double hTilde = f[1](clipped(candidate));
                        next[j] = (1.0 - z) * hTilde + z * h[j];
                    } else {
                        const float* p =
                            peepholes != nullptr ? peepholes->data.data() + d * 3 * hidden : nullptr;
                        const double i = f[0](clipped(xw[j] + hr[j] + (p != nullptr ? p[j] * c[j] : 0.0)));
                        const double forget =
                            inputForget ? 1.0 - i
                                        : f[0](clipped(xw[2 * hidden + j] + hr[2 * hidden + j] +
                                                       (p != nullptr ? p[2 * hidden + j] * c[j] : 0.0)));
                        const double candidate = f[1](clipped(xw[3 * hidden + j] + hr[3 * hidden + j]));
                        nextC[j] = forget * c[j] + i * candidate;
                        const double o = f[0](clipped(xw[hidden + j] + hr[hidden + j] +
                                                      (p != nullptr ? p[hidden + j] * nextC[j] : 0.0)));
                        next[j] = o * f[2](nextC[j]);
                    }
                }
                std::swap(h, next);
                if (cell == Cell::Lstm)
                    std::swap(c, nextC);
                for (int64_t j = 0; j < hidden; ++j)
                    y.data[yAt(t, d, b, j)] = static_cast<float>(h[j]);
            }
            for (int64_t j = 0; j < hidden; ++j) {
                yH.data[stateAt(d, b, j)] = static_cast<float>(h[j]);
                yC.data[stateAt(d, b, j)] = static_cast<float>(c[j]);
            }
        }
    }
    std::vector<Value> outputs{std::move(y), std::move(yH)};
    if (cell == Cell::Lstm)
        outputs.push_back(std::move(yC));
    return outputs;
}

} // namespace

void addRecurrentOps(OpTable& t) {
    t.push_back({"RNN", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return recurrent(n, in, opset, Cell::Rnn);
                 }});
    t.push_back({"GRU", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return recurrent(n, in, opset, Cell::Gru);
                 }});
    t.push_back({"LSTM", 7, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                     return recurrent(n, in, opset, Cell::Lstm);
                 }});
}

} // namespace quantscope::ops
