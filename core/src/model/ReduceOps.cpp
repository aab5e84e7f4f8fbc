// Reductions over axes (Reduce*), ArgMax / ArgMin, TopK and CumSum. Sums and products run in
// double. The axes moved from an attribute to an input at opset 13 for ReduceSum and at 18 for
// the others; an empty axes list reduces everything unless noop_with_empty_axes is set.
#include "model/Ops.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace quantscope::ops {
namespace {

enum class Reduction { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

std::vector<Value> reduce(const Node& n, const Inputs& in, int64_t opset, Reduction kind) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    bool given = false;
    const int64_t inputSince = kind == Reduction::Sum ? 13 : 18;
    std::vector<int64_t> axes = axesOf(n, in, opset, inputSince, 1, given);
    const bool keepDims = n.intAttribute("keepdims", 1) != 0;
    if (axes.empty() && n.intAttribute("noop_with_empty_axes", 0) != 0)
        return {x};
    std::vector<bool> reduced(rank, axes.empty());
    for (int64_t axis : axes)
        reduced[normalizeAxis(n, axis, rank)] = true;

    std::vector<int64_t> keptShape(rank), outShape;
    for (int64_t d = 0; d < rank; ++d) {
        keptShape[d] = reduced[d] ? 1 : x.shape[d];
        if (!reduced[d] || keepDims)
            outShape.push_back(keptShape[d]);
    }
    const int64_t outCount = elementCount(keptShape);
    double start = 0.0;
    if (kind == Reduction::Max)
        start = -std::numeric_limits<double>::infinity();
    else if (kind == Reduction::Min)
        start = std::numeric_limits<double>::infinity();
    else if (kind == Reduction::Prod)
        start = 1.0;
    std::vector<double> acc(static_cast<std::size_t>(outCount), start);
    // Reduced dimensions get stride 0 in the output, so every input element finds its slot.
    std::vector<int64_t> outStrides = stridesOf(keptShape);
    for (int64_t d = 0; d < rank; ++d) {
        if (reduced[d])
            outStrides[d] = 0;
    }
    std::vector<int64_t> counter(rank, 0);
    int64_t slot = 0;
    const int64_t total = x.size();
    for (int64_t i = 0; i < total; ++i) {
        const double v = x.number(i);
        double& a = acc[slot];
        switch (kind) {
        case Reduction::Sum:
        case Reduction::Mean:
        case Reduction::LogSum:
            a += v;
            break;
        case Reduction::Max:
            a = std::isnan(v) || v > a ? v : a;
            break;
        case Reduction::Min:
            a = std::isnan(v) || v < a ? v : a;
            break;
        case Reduction::Prod:
            a *= v;
            break;
        case Reduction::L1:
            a += std::abs(v);
            break;
        case Reduction::L2:
        case Reduction::SumSquare:
            a += v * v;
            break;
        case Reduction::LogSumExp:
            a += std::exp(v);
            break;
        }
        for (int64_t d = rank - 1; d >= 0; --d) {
            slot += outStrides[d];
            if (++counter[d] < x.shape[d])
                break;
            slot -= outStrides[d] * x.shape[d];
            counter[d] = 0;
        }
    }
    const int64_t perSlot = outCount > 0 ? total / outCount : 0;
    Value out = zeros(x.dtype, outShape);
    for (int64_t i = 0; i < outCount; ++i) {
        double v = acc[i];
        if (kind == Reduction::Mean)
            v = perSlot > 0 ? v / static_cast<double>(perSlot) : std::numeric_limits<double>::quiet_NaN();
        else if (kind == Reduction::L2)
            v = std::sqrt(v);
        else if (kind == Reduction::LogSum || kind == Reduction::LogSumExp)
            v = std::log(v);
        if (x.isInteger() && kind == Reduction::Mean)
            v = std::trunc(v);
        storeNumber(out, i, v);
    }
    return single(std::move(out));
}

std::vector<Value> argExtreme(const Node& n, const Inputs& in, bool wantMax) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 0), rank);
    const bool keepDims = n.intAttribute("keepdims", 1) != 0;
    const bool last = n.intAttribute("select_last_index", 0) != 0;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d)
        inner *= x.shape[d];
    const int64_t length = x.shape[axis];
    if (length == 0)
        throw Error(nodeSubject(n), "cannot take the arg of an empty axis");
    std::vector<int64_t> shape = x.shape;
    if (keepDims)
        shape[axis] = 1;
    else
        shape.erase(shape.begin() + axis);
    Value out = zeros(DType::I64, shape);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t base = o * length * inner + i;
            int64_t best = 0;
            double bestValue = x.number(base);
            for (int64_t k = 1; k < length; ++k) {
                const double v = x.number(base + k * inner);
                const bool better = wantMax ? (last ? v >= bestValue : v > bestValue)
                                            : (last ? v <= bestValue : v < bestValue);
                if (better) {
                    best = k;
                    bestValue = v;
                }
            }
            out.ints[o * inner + i] = best;
        }
    }
    return single(std::move(out));
}

std::vector<Value> topK(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", -1), rank);
    int64_t k = 0;
    if (opset < 10) {
        k = n.intAttribute("k", -1);
    } else {
        const auto values = integerValues(n, requireInput(n, in, 1), "K");
        if (values.size() != 1)
            throw Error(nodeSubject(n), "K must hold one value");
        k = values[0];
    }
    const int64_t length = x.shape[axis];
    if (k < 0 || k > length)
        throw Error(nodeSubject(n),
                    "K " + std::to_string(k) + " is outside [0, " + std::to_string(length) + "]");
    const bool largest = n.intAttribute("largest", 1) != 0;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d)
        inner *= x.shape[d];
    std::vector<int64_t> shape = x.shape;
    shape[axis] = k;
    Value values = zeros(x.dtype, shape);
    Value indices = zeros(DType::I64, shape);
    std::vector<int64_t> order(static_cast<std::size_t>(length));
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t base = o * length * inner + i;
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
                const double va = x.number(base + a * inner), vb = x.number(base + b * inner);
                return largest ? va > vb : va < vb;
            });
            for (int64_t j = 0; j < k; ++j) {
                const int64_t target = o * k * inner + j * inner + i;
                copyElement(x, base + order[j] * inner, values, target);
                indices.ints[target] = order[j];
            }
        }
    }
    return {std::move(values), std::move(indices)};
}

std::vector<Value> cumSum(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const auto axisValues = integerValues(n, requireInput(n, in, 1), "axis");
    if (axisValues.size() != 1)
        throw Error(nodeSubject(n), "axis must hold one value");
    const int64_t axis = normalizeAxis(n, axisValues[0], x.rank());
    const bool exclusive = n.intAttribute("exclusive", 0) != 0, reverse = n.intAttribute("reverse", 0) != 0;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    const int64_t length = x.shape[axis];
    Value out = zeros(x.dtype, x.shape);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            double sum = 0.0;
            for (int64_t j = 0; j < length; ++j) {
                const int64_t k = reverse ? length - 1 - j : j;
                const int64_t at = (o * length + k) * inner + i;
                if (exclusive) {
                    storeNumber(out, at, sum);
                    sum += x.number(at);
                } else {
                    sum += x.number(at);
                    storeNumber(out, at, sum);
                }
            }
        }
    }
    return single(std::move(out));
}

} // namespace

void addReduceOps(OpTable& t) {
    struct Named {
        const char* op;
        Reduction kind;
    };
    static const Named reductions[] = {
        {"ReduceSum", Reduction::Sum},
        {"ReduceMean", Reduction::Mean},
        {"ReduceMax", Reduction::Max},
        {"ReduceMin", Reduction::Min},
        {"ReduceProd", Reduction::Prod},
        {"ReduceL1", Reduction::L1},
        {"ReduceL2", Reduction::L2},
        {"ReduceLogSum", Reduction::LogSum},
        {"ReduceLogSumExp", Reduction::LogSumExp},
        {"ReduceSumSquare", Reduction::SumSquare},
    };
    for (const auto& r : reductions) {
        t.push_back({r.op, 1, 21, +[](const Node& n, const Inputs& in, int64_t opset) {
                         for (const auto& e : reductions) {
                             if (n.opType == e.op)
                                 return reduce(n, in, opset, e.kind);
                         }
                         throw Error(nodeSubject(n), "no reduction");
                     }});
    }
    t.push_back(
        {"ArgMax", 7, 21, +[](const Node& n, const Inputs& in, int64_t) { return argExtreme(n, in, true); }});
    t.push_back({"ArgMin", 7, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return argExtreme(n, in, false); }});
    t.push_back({"TopK", 7, 21, topK});
    t.push_back({"CumSum", 11, 21, cumSum});
}

} // namespace quantscope::ops
