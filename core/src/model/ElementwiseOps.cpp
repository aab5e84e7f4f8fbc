// Element-wise ops with numpy-style broadcasting: arithmetic, comparisons, logic, the variadic
// Min / Max / Sum / Mean, Where, Clip, and the unary math functions. Integer tensors compute
// exactly in int64 and wrap to their type's width; floating-point ones compute in float32.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FloatConvKernels.h"
#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace quantscope::ops {
namespace {

// How a smaller operand repeats over the result: the result seen as [outer, middle, inner] with
// the operand's values along `middle` (its own dimensions, contiguous) and repeated along outer
// and inner. A scalar has middle 1; an operand of the result's shape has outer = inner = 1.
struct BlockBroadcast {
    int64_t outer = 1, middle = 1, inner = 1;
};

std::optional<BlockBroadcast> blockBroadcast(const std::vector<int64_t>& small,
                                             const std::vector<int64_t>& shape) {
    if (small.size() > shape.size())
        return std::nullopt;
    const std::size_t lead = shape.size() - small.size();
    BlockBroadcast block;
    int stage = 0; // 0: repeated dimensions before the block, 1: inside it, 2: repeated after it
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1)
            continue;
        const bool own = d >= lead && small[d - lead] == shape[d];
        if (own && stage == 2)
            return std::nullopt;
        if (own)
            stage = 1;
        else if (stage == 1)
            stage = 2;
        (stage == 0 ? block.outer : stage == 1 ? block.middle : block.inner) *= shape[d];
    }
    if (block.middle == 1) { // a single value: one run over everything
        block.inner *= block.outer;
        block.outer = 1;
    }
    return block;
}

// out[i] = f(a[i'], b[i'']) with broadcasting; `f` is generic (called with int64 when both
// operands are integers, with float otherwise). The result has `resultType`.
template <typename F>
Value elementwise(const Node& n, const Value& a, const Value& b, DType resultType, F f) {
    const std::vector<int64_t> shape = broadcastShape(n, {&a.shape, &b.shape});
    Value out = zeros(resultType, shape);
    const int64_t total = out.size();
    std::vector<int64_t> indexA, indexB;
    if (a.shape != shape)
        indexA = broadcastIndex(a.shape, shape);
    if (b.shape != shape)
        indexB = broadcastIndex(b.shape, shape);
    const int64_t* ia = indexA.empty() ? nullptr : indexA.data();
    const int64_t* ib = indexB.empty() ? nullptr : indexB.data();
    if (a.isInteger() && b.isInteger()) {
        for (int64_t i = 0; i < total; ++i) {
            const int64_t r = static_cast<int64_t>(f(a.ints[ia ? ia[i] : i], b.ints[ib ? ib[i] : i]));
            out.ints[i] = out.isInteger() ? wrapInteger(out.dtype, r) : 0;
            if (!out.isInteger())
                out.data[i] = static_cast<float>(r);
        }
        return out;
    }
    if (!a.isInteger() && !b.isInteger() && !out.isInteger()) {
        for (int64_t i = 0; i < total; ++i)
            out.data[i] = static_cast<float>(f(a.data[ia ? ia[i] : i], b.data[ib ? ib[i] : i]));
        return out;
    }
    for (int64_t i = 0; i < total; ++i) {
        const float x = static_cast<float>(a.number(ia ? ia[i] : i));
        const float y = static_cast<float>(b.number(ib ? ib[i] : i));
        storeNumber(out, i, static_cast<double>(f(x, y)));
    }
    return out;
}

template <typename F> std::vector<Value> arithmetic(const Node& n, const Inputs& in, F f) {
    const Value& a = requireInput(n, in, 0);
    return single(elementwise(n, a, requireInput(n, in, 1), a.dtype, f));
}

// Add / Sub / Mul / Div of floats on the kernel path when one operand has the result's shape and
// the other repeats over it as a block (bias over the last axis, a per-channel or scalar factor):
// no per-element index, and in place when the executor lends input 0. IEEE float arithmetic, so
// the values equal the generic loop's, which takes every other case.
template <typename F>
std::vector<Value> basicArithmetic(const Node& n, const Inputs& in, kernels::FloatBinaryOp op, F f) {
    const Value& a = requireInput(n, in, 0);
    const Value& b = requireInput(n, in, 1);
    if (a.isInteger() || b.isInteger())
        return single(elementwise(n, a, b, a.dtype, f));
    std::vector<int64_t> shape = broadcastShape(n, {&a.shape, &b.shape});
    const bool aFull = a.shape == shape;
    if (!aFull && b.shape != shape)
        return single(elementwise(n, a, b, a.dtype, f));
    const Value& small = aFull ? b : a;
    const auto block = blockBroadcast(small.shape, shape);
    if (!block)
        return single(elementwise(n, a, b, a.dtype, f));
    const float* values = small.data.data(); // the small operand is never the one taken over
    Value out;
    const float* full = nullptr;
    if (aFull && isDonated(in, 0)) {
        out = takeInput(n, in, 0); // a's storage, a's type and shape
        full = out.data.data();
    } else {
        out.dtype = a.dtype;
        out.data.resize(static_cast<std::size_t>(elementCount(shape)));
        out.shape = std::move(shape);
        full = (aFull ? a : b).data.data();
    }
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    float* y = out.data.data();
    // One call over `count` values of the full operand against `small` values at `step`.
    auto run = [&](int64_t offset, const float* smallValues, size_t step, int64_t count) {
        if (aFull)
            kernels::binary(path, op, full + offset, 1, smallValues, step, static_cast<size_t>(count),
                            y + offset);
        else
            kernels::binary(path, op, smallValues, step, full + offset, 1, static_cast<size_t>(count),
                            y + offset);
    };
    for (int64_t o = 0; o < block->outer; ++o) {
        if (block->inner == 1) {
            run(o * block->middle, values, 1, block->middle);
            continue;
        }
        for (int64_t m = 0; m < block->middle; ++m)
            run((o * block->middle + m) * block->inner, values + m, 0, block->inner);
    }
    return single(std::move(out));
}

// Erf on the kernel path for float32 tensors (other float types round through their precision).
std::vector<Value> erfOp(const Node& n, const Inputs& in, int64_t) {
    if (requireInput(n, in, 0).dtype == DType::F32) {
        Value out = takeInput(n, in, 0);
        kernels::erf(kernels::KernelRegistry::active(), out.data.data(), out.data.size(), out.data.data());
        return single(std::move(out));
    }
    return mapFloat(n, in, [](double x) { return std::erf(x); });
}

template <typename F> std::vector<Value> comparison(const Node& n, const Inputs& in, F f) {
    return single(elementwise(n, requireInput(n, in, 0), requireInput(n, in, 1), DType::Bool, f));
}

// Min / Max / Sum / Mean: a left fold of any number of inputs.
template <typename F> Value fold(const Node& n, const Inputs& in, F f) {
    Value acc = requireInput(n, in, 0);
    for (std::size_t i = 1; i < in.size(); ++i)
        acc = elementwise(n, acc, requireInput(n, in, i), acc.dtype, f);
    return acc;
}

// Applies `f` to every element, keeping the type; generic `f` sees int64 or float.
template <typename F> Value mapAny(const Value& x, F f) {
    Value out = x;
    if (out.isInteger()) {
        for (auto& v : out.ints)
            v = wrapInteger(out.dtype, static_cast<int64_t>(f(v)));
    } else {
        for (auto& v : out.data)
            v = roundToType(out.dtype, static_cast<float>(f(v)));
    }
    return out;
}

template <typename F> std::vector<Value> predicate(const Node& n, const Inputs& in, F f) {
    const Value& x = requireInput(n, in, 0);
    Value out = zeros(DType::Bool, x.shape);
    for (int64_t i = 0; i < x.size(); ++i)
        out.ints[i] = f(x.number(i)) ? 1 : 0;
    return single(std::move(out));
}

std::vector<Value> whereOp(const Node& n, const Inputs& in, int64_t) {
    const Value& c = requireInput(n, in, 0);
    const Value& x = requireInput(n, in, 1);
    const Value& y = requireInput(n, in, 2);
    if (x.dtype != y.dtype)
        throw Error(nodeSubject(n), "X and Y must have the same type");
    const auto shape = broadcastShape(n, {&c.shape, &x.shape, &y.shape});
    const auto ic = broadcastIndex(c.shape, shape), ix = broadcastIndex(x.shape, shape),
               iy = broadcastIndex(y.shape, shape);
    Value out = zeros(x.dtype, shape);
    for (int64_t i = 0; i < out.size(); ++i) {
        if (c.number(ic[i]) != 0.0)
            copyElement(x, ix[i], out, i);
        else
            copyElement(y, iy[i], out, i);
    }
    return single(std::move(out));
}

std::vector<Value> clipOp(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (opset < 11) {
        lo = n.floatAttribute("min", -std::numeric_limits<float>::max());
        hi = n.floatAttribute("max", std::numeric_limits<float>::max());
    } else {
        for (std::size_t i : {1, 2}) {
            const Value* bound = optionalInput(in, i);
            if (bound == nullptr)
                continue;
            if (bound->size() != 1)
                throw Error(nodeSubject(n), std::string(i == 1 ? "min" : "max") + " must be a scalar");
            (i == 1 ? lo : hi) = bound->number(0);
        }
    }
    if (x.isInteger()) {
        const auto l = static_cast<int64_t>(std::max(lo, -9.2e18)),
                   h = static_cast<int64_t>(std::min(hi, 9.2e18));
        return {mapAny(x, [l, h](auto v) { return std::min<decltype(v)>(std::max<decltype(v)>(v, l), h); })};
    }
    const auto l = static_cast<float>(lo), h = static_cast<float>(hi);
    if (x.dtype == DType::F32) {
        // In place when the executor lends x; the clamp kernel is Clip's rule bit for bit.
        Value out = takeInput(n, in, 0);
        kernels::clampValues(kernels::KernelRegistry::active(), out.data.data(), out.data.size(),
                             kernels::FloatClamp{l, h, false});
        return single(std::move(out));
    }
    return {mapAny(x, [l, h](auto v) { return std::min<float>(std::max<float>(v, l), h); })};
}

int64_t integerPower(int64_t base, int64_t exponent) {
    if (exponent < 0)
        return base == 1 ? 1 : (base == -1 ? (exponent % 2 ? -1 : 1) : 0);
    uint64_t result = 1, b = static_cast<uint64_t>(base);
    for (; exponent > 0; exponent >>= 1, b *= b) {
        if (exponent & 1)
            result *= b;
    }
    return static_cast<int64_t>(result);
}

std::vector<Value> powOp(const Node& n, const Inputs& in, int64_t) {
    const Value& a = requireInput(n, in, 0);
    const Value& b = requireInput(n, in, 1);
    if (a.isInteger() && !b.isInteger()) {
        Value af = a;
        af.dtype = DType::F64;
        af.data.assign(a.ints.begin(), a.ints.end());
        af.ints.clear();
        Value r = elementwise(n, af, b, DType::F64,
                              [](float x, float y) { return std::pow(static_cast<double>(x), y); });
        Value out = zeros(a.dtype, r.shape);
        for (int64_t i = 0; i < r.size(); ++i)
            storeNumber(out, i, r.data[i]);
        return single(std::move(out));
    }
    return {elementwise(n, a, b, a.dtype, [](auto x, auto y) {
        if constexpr (std::is_integral_v<decltype(x)>)
            return integerPower(x, y);
        else
            return static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y)));
    })};
}

std::vector<Value> modOp(const Node& n, const Inputs& in, int64_t) {
    const bool fmodMode = n.intAttribute("fmod", 0) != 0;
    const Value& a = requireInput(n, in, 0);
    if (!a.isInteger() && !fmodMode)
        throw Error(nodeSubject(n), "fmod must be 1 for floating-point inputs");
    return arithmetic(n, in, [fmodMode](auto x, auto y) {
        if constexpr (std::is_integral_v<decltype(x)>) {
            if (y == 0)
                return decltype(x){0};
            auto r = x % y;
            if (!fmodMode && r != 0 && ((r < 0) != (y < 0)))
                r += y; // Python's sign rule: the remainder takes the divisor's sign
            return r;
        } else {
            return std::fmod(x, y);
        }
    });
}

std::vector<Value> bitShift(const Node& n, const Inputs& in, int64_t) {
    const bool left = n.stringAttribute("direction", "") == "LEFT";
    return arithmetic(n, in, [left](auto x, auto y) {
        if constexpr (std::is_integral_v<decltype(x)>) {
            const auto ux = static_cast<uint64_t>(x);
            if (y < 0 || y >= 64)
                return int64_t{0};
            return static_cast<int64_t>(left ? ux << y : ux >> y);
        } else {
            return x;
        }
    });
}

std::vector<Value> notOp(const Node& n, const Inputs& in, int64_t) {
    return predicate(n, in, [](double x) { return x == 0.0; });
}

std::vector<Value> sign(const Node& n, const Inputs& in, int64_t) {
    return {
        mapAny(requireInput(n, in, 0), [](auto x) { return static_cast<decltype(x)>((x > 0) - (x < 0)); })};
}

} // namespace

void addElementwiseOps(OpTable& t) {
    t.push_back({"Add", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return basicArithmetic(n, in, kernels::FloatBinaryOp::Add,
                                            [](auto x, auto y) { return x + y; });
                 }});
    t.push_back({"Sub", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return basicArithmetic(n, in, kernels::FloatBinaryOp::Sub,
                                            [](auto x, auto y) { return x - y; });
                 }});
    t.push_back({"Mul", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return basicArithmetic(n, in, kernels::FloatBinaryOp::Mul,
                                            [](auto x, auto y) { return x * y; });
                 }});
    t.push_back({"Div", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return basicArithmetic(n, in, kernels::FloatBinaryOp::Div, [](auto x, auto y) {
                         if constexpr (std::is_integral_v<decltype(x)>)
                             return y == 0 ? decltype(x){0} : x / y;
                         else
                             return x / y;
                     });
                 }});
    t.push_back({"Pow", 7, 21, powOp});
    t.push_back({"Mod", 10, 21, modOp});
    t.push_back({"BitShift", 11, 21, bitShift});
    t.push_back({"PRelu", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return arithmetic(n, in, [](auto x, auto slope) { return x < 0 ? x * slope : x; });
                 }});
    t.push_back({"Equal", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x == y; });
                 }});
    t.push_back({"Less", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x < y; });
                 }});
    t.push_back({"LessOrEqual", 12, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x <= y; });
                 }});
    t.push_back({"Greater", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x > y; });
                 }});
    t.push_back({"GreaterOrEqual", 12, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x >= y; });
                 }});
    t.push_back({"And", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x != 0 && y != 0; });
                 }});
    t.push_back({"Or", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return x != 0 || y != 0; });
                 }});
    t.push_back({"Xor", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return comparison(n, in, [](auto x, auto y) { return (x != 0) != (y != 0); });
                 }});
    t.push_back({"Not", 1, 21, notOp});
    t.push_back({"Where", 9, 21, whereOp});
    t.push_back({"Max", 8, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{fold(n, in, [](auto x, auto y) {
                         if constexpr (std::is_integral_v<decltype(x)>)
                             return std::max(x, y);
                         else
                             return std::isnan(x) || std::isnan(y) ? std::numeric_limits<float>::quiet_NaN()
                                                                   : std::max(x, y);
                     })};
                 }});
    t.push_back({"Min", 8, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{fold(n, in, [](auto x, auto y) {
                         if constexpr (std::is_integral_v<decltype(x)>)
                             return std::min(x, y);
                         else
                             return std::isnan(x) || std::isnan(y) ? std::numeric_limits<float>::quiet_NaN()
                                                                   : std::min(x, y);
                     })};
                 }});
    t.push_back({"Sum", 8, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{fold(n, in, [](auto x, auto y) { return x + y; })};
                 }});
    t.push_back({"Mean", 8, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     Value sum = fold(n, in, [](auto x, auto y) { return x + y; });
                     const auto count = static_cast<float>(in.size());
                     return std::vector<Value>{mapAny(sum, [count](auto x) { return x / count; })};
                 }});
    t.push_back({"Clip", 7, 21, clipOp});
    t.push_back({"Abs", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{
                         mapAny(requireInput(n, in, 0), [](auto x) { return x < 0 ? -x : x; })};
                 }});
    t.push_back({"Neg", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{mapAny(requireInput(n, in, 0), [](auto x) { return -x; })};
                 }});
    t.push_back({"Sign", 9, 21, sign});
    t.push_back({"Erf", 9, 21, erfOp});
    t.push_back({"IsNaN", 9, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return predicate(n, in, [](double x) { return std::isnan(x); });
                 }});
    t.push_back({"IsInf", 10, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     const bool positive = n.intAttribute("detect_positive", 1) != 0;
                     const bool negative = n.intAttribute("detect_negative", 1) != 0;
                     return predicate(n, in, [positive, negative](double x) {
                         return std::isinf(x) && ((x > 0 && positive) || (x < 0 && negative));
                     });
                 }});

    using Math = double (*)(double);
    struct Named {
        const char* op;
        int64_t since;
        Math f;
    };
    // Unary math without attributes; each entry is a plain function of one double.
    static const Named math[] = {
        {"Sqrt", 7, [](double x) { return std::sqrt(x); }},
        {"Exp", 7, [](double x) { return std::exp(x); }},
        {"Log", 7, [](double x) { return std::log(x); }},
        {"Reciprocal", 7, [](double x) { return 1.0 / x; }},
        {"Ceil", 7, [](double x) { return std::ceil(x); }},
        {"Floor", 7, [](double x) { return std::floor(x); }},
        {"Round", 11, [](double x) { return std::nearbyint(x); }},
        {"Sin", 7, [](double x) { return std::sin(x); }},
        {"Cos", 7, [](double x) { return std::cos(x); }},
        {"Tan", 7, [](double x) { return std::tan(x); }},
        {"Asin", 7, [](double x) { return std::asin(x); }},
        {"Acos", 7, [](double x) { return std::acos(x); }},
        {"Atan", 7, [](double x) { return std::atan(x); }},
        {"Sinh", 9, [](double x) { return std::sinh(x); }},
        {"Cosh", 9, [](double x) { return std::cosh(x); }},
        {"Asinh", 9, [](double x) { return std::asinh(x); }},
        {"Acosh", 9, [](double x) { return std::acosh(x); }},
        {"Atanh", 9, [](double x) { return std::atanh(x); }},
    };
    for (const auto& entry : math) {
        // One function per entry: the table's function pointer finds its math through the op type.
        t.push_back({entry.op, entry.since, kMaxOpset, +[](const Node& n, const Inputs& in, int64_t) {
                         for (const auto& e : math) {
                             if (n.opType == e.op)
                                 return mapFloat(n, in, e.f);
                         }
                         throw Error(nodeSubject(n), "no math function");
                     }});
    }
}

} // namespace quantscope::ops
