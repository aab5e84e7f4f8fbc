// Ops that move, relabel or create data without arithmetic: Flatten, Reshape, Transpose, Concat,
// Split, Squeeze, Unsqueeze, Expand, Tile, Pad, DepthToSpace / SpaceToDepth, Shape, Size, Cast,
// Constant, ConstantOfShape, Range, EyeLike, Trilu, Identity and Dropout (inference). Every op
// keeps the element type of its data input.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace quantscope::ops {
namespace {

// Input 0 relabelled: its storage moves over when the executor lent it, otherwise it is copied.
Value withShape(const Node& n, const Inputs& in, std::vector<int64_t> shape) {
    Value out = takeInput(n, in, 0);
    out.shape = std::move(shape);
    return out;
}

// Calls f(index, flat) for every element of `shape` in row-major order.
template <typename F> void forEachIndex(const std::vector<int64_t>& shape, F f) {
    const int64_t total = elementCount(shape);
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t flat = 0; flat < total; ++flat) {
        f(index, flat);
        for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
            if (++index[d] < shape[d])
                break;
            index[d] = 0;
        }
    }
}

} // namespace

std::optional<DType> dtypeFromOnnx(int64_t onnxType) {
    switch (onnxType) {
    case 1:
        return DType::F32;
    case 2:
        return DType::U8;
    case 3:
        return DType::I8;
    case 4:
        return DType::U16;
    case 5:
        return DType::I16;
    case 6:
        return DType::I32;
    case 7:
        return DType::I64;
    case 9:
        return DType::Bool;
    case 10:
        return DType::F16;
    case 11:
        return DType::F64;
    case 12:
        return DType::U32;
    case 13:
        return DType::U64;
    case 16:
        return DType::BF16;
    default:
        return std::nullopt;
    }
}

namespace {

Value castTo(const Value& x, DType to) {
    Value out = zeros(to, x.shape);
    if (x.isInteger() && out.isInteger() && !out.isBool()) {
        for (int64_t i = 0; i < x.size(); ++i)
            out.ints[i] = wrapInteger(to, x.ints[i]);
        return out;
    }
    for (int64_t i = 0; i < x.size(); ++i) {
        const double v = x.number(i);
        storeNumber(out, i, out.isInteger() && !out.isBool() ? std::trunc(v) : v);
    }
    return out;
}

std::vector<Value> cast(const Node& n, const Inputs& in, int64_t) {
    const int64_t to = n.intAttribute("to", 0);
    const auto dtype = dtypeFromOnnx(to);
    if (!dtype)
        throw Error(nodeSubject(n), "cast to ONNX data type " + std::to_string(to) + " is not supported");
    return {castTo(requireInput(n, in, 0), *dtype)};
}

std::vector<Value> flatten(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    int64_t axis = n.intAttribute("axis", 1);
    if (axis < -rank || axis > rank)
        throw Error(nodeSubject(n), "axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) +
                                        ", " + std::to_string(rank) + "]");
    if (axis < 0)
        axis += rank;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
        (d < axis ? outer : inner) *= x.shape[d];
    return single(withShape(n, in, {outer, inner}));
}

std::vector<Value> reshape(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    std::vector<int64_t> shape =
        opset < 5 ? n.intsAttribute("shape", {}) : integerValues(n, requireInput(n, in, 1), "shape");
    const bool allowZero = n.intAttribute("allowzero", 0) != 0;
    int64_t known = 1;
    int inferred = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0 && !allowZero) {
            if (i >= x.shape.size())
                throw Error(nodeSubject(n), "shape entry 0 at position " + std::to_string(i) +
                                                " has no input dimension to copy");
            shape[i] = x.shape[i];
        }
        if (shape[i] == -1) {
            if (inferred >= 0)
                throw Error(nodeSubject(n), "shape " + shapeToString(shape) + " has more than one -1");
            inferred = static_cast<int>(i);
            continue;
        }
        if (shape[i] < 0)
            throw Error(nodeSubject(n), "shape " + shapeToString(shape) + " has a negative entry");
        if (__builtin_mul_overflow(known, shape[i], &known))
            throw Error(nodeSubject(n), "shape " + shapeToString(shape) + " has too many elements");
    }
    if (inferred >= 0) {
        if (known == 0 || x.size() % known != 0)
            throw Error(nodeSubject(n), "cannot reshape " + shapeToString(x.shape) + " (" +
                                            std::to_string(x.size()) + " elements) to " +
                                            shapeToString(shape));
        shape[inferred] = x.size() / known;
    }
    if (elementCount(shape) != x.size())
        throw Error(nodeSubject(n), "cannot reshape " + shapeToString(x.shape) + " (" +
                                        std::to_string(x.size()) + " elements) to " + shapeToString(shape));
    return single(withShape(n, in, shape));
}

// target (row-major over `shape`) = source read with `strides` per dimension of `shape`. Unit
// dimensions are dropped and neighbours that stay contiguous merged, so the inner loop runs over
// the longest possible stretch (a plain copy when the last axis stays last).
template <class T>
void stridedCopy(const T* source, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                 T* target) {
    std::vector<int64_t> dims, steps;
    int64_t total = 1;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        total *= shape[d];
        if (shape[d] == 1)
            continue;
        if (!dims.empty() && steps.back() == strides[d] * shape[d]) {
            dims.back() *= shape[d];
            steps.back() = strides[d];
        } else {
            dims.push_back(shape[d]);
            steps.push_back(strides[d]);
        }
    }
    if (total == 0)
        return;
    if (dims.empty()) {
        *target = *source;
        return;
    }
    const int64_t run = dims.back(), step = steps.back();
    const auto outerRank = static_cast<int64_t>(dims.size()) - 1;
    std::vector<int64_t> counter(static_cast<std::size_t>(outerRank), 0);
    int64_t offset = 0;
    for (int64_t done = 0; done < total; done += run) {
        const T* from = source + offset;
        if (step == 1) {
            std::copy(from, from + run, target);
        } else {
            for (int64_t i = 0; i < run; ++i)
                target[i] = from[i * step];
        }
        target += run;
        for (int64_t d = outerRank - 1; d >= 0; --d) { // the next row: an odometer over the outer dims
            offset += steps[d];
            if (++counter[d] < dims[d])
                break;
            offset -= steps[d] * dims[d];
            counter[d] = 0;
        }
    }
}

std::vector<Value> transpose(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    std::vector<int64_t> perm(rank);
    for (int64_t i = 0; i < rank; ++i)
        perm[i] = rank - 1 - i;
    perm = n.intsAttribute("perm", perm);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < rank; ++i) {
        if (static_cast<int64_t>(sorted.size()) != rank || sorted[i] != i)
            throw Error(nodeSubject(n), "perm " + shapeToString(perm) + " is not a permutation of 0.." +
                                            std::to_string(rank - 1));
    }
    const auto inStrides = stridesOf(x.shape);
    std::vector<int64_t> shape(rank), strides(rank);
    for (int64_t d = 0; d < rank; ++d) {
        shape[d] = x.shape[perm[d]];
        strides[d] = inStrides[perm[d]];
    }
    Value out = zeros(x.dtype, shape);
    if (x.isInteger())
        stridedCopy(x.ints.data(), shape, strides, out.ints.data());
    else
        stridedCopy(x.data.data(), shape, strides, out.data.data());
    return single(std::move(out));
}

Value concatValues(const Node& n, const std::vector<const Value*>& values, int64_t axisAttribute) {
    const Value& first = *values.front();
    const int64_t rank = first.rank();
    const int64_t axis = normalizeAxis(n, axisAttribute, rank);
    std::vector<int64_t> shape = first.shape;
    shape[axis] = 0;
    for (const Value* v : values) {
        if (v->rank() != rank || v->dtype != first.dtype)
            throw Error(nodeSubject(n), "inputs differ in rank or type");
        for (int64_t d = 0; d < rank; ++d) {
            if (d != axis && v->shape[d] != first.shape[d])
                throw Error(nodeSubject(n), "input shapes " + shapeToString(first.shape) + " and " +
                                                shapeToString(v->shape) + " differ outside axis " +
                                                std::to_string(axis));
        }
        shape[axis] += v->shape[axis];
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= first.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d)
        inner *= first.shape[d];
    Value y;
    y.dtype = first.dtype;
    y.shape = shape;
    for (int64_t o = 0; o < outer; ++o) {
        for (const Value* v : values) {
            const int64_t block = v->shape[axis] * inner;
            if (v->isInteger())
                y.ints.insert(y.ints.end(), v->ints.begin() + o * block, v->ints.begin() + (o + 1) * block);
            else
                y.data.insert(y.data.end(), v->data.begin() + o * block, v->data.begin() + (o + 1) * block);
        }
    }
    return y;
}

std::vector<Value> concat(const Node& n, const Inputs& in, int64_t) {
    const Attribute* axis = n.attribute("axis");
    if (!axis)
        throw Error(nodeSubject(n), "axis is required");
    std::vector<const Value*> values;
    for (std::size_t i = 0; i < in.size(); ++i)
        values.push_back(&requireInput(n, in, i));
    if (values.empty())
        throw Error(nodeSubject(n), "needs at least one input");
    return {concatValues(n, values, axis->i)};
}

// The part of `x` with indices [begin, end) along `axis`.
Value sliceAxis(const Value& x, int64_t axis, int64_t begin, int64_t end) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    std::vector<int64_t> shape = x.shape;
    shape[axis] = end - begin;
    std::vector<int64_t> index;
    index.reserve(static_cast<std::size_t>(outer * (end - begin) * inner));
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k = begin; k < end; ++k) {
            for (int64_t i = 0; i < inner; ++i)
                index.push_back((o * x.shape[axis] + k) * inner + i);
        }
    }
    return gatherByIndex(x, index, shape);
}

std::vector<Value> split(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 0), x.rank());
    const int64_t length = x.shape[axis];
    std::vector<int64_t> sizes;
    if (opset >= 13) {
        if (const Value* s = optionalInput(in, 1))
            sizes = integerValues(n, *s, "split");
    } else {
        sizes = n.intsAttribute("split", {});
    }
    const auto outputs = static_cast<int64_t>(n.outputs.size());
    if (sizes.empty()) {
        const int64_t parts = opset >= 18 ? n.intAttribute("num_outputs", outputs) : outputs;
        if (parts <= 0)
            throw Error(nodeSubject(n), "needs at least one output");
        const int64_t chunk = (length + parts - 1) / parts; // the last part may be smaller
        for (int64_t p = 0, left = length; p < parts; ++p, left -= chunk)
            sizes.push_back(std::max<int64_t>(std::min(chunk, left), 0));
    }
    int64_t total = 0;
    for (int64_t s : sizes) {
        if (s < 0)
            throw Error(nodeSubject(n), "split sizes must not be negative");
        total += s;
    }
    if (total != length)
        throw Error(nodeSubject(n), "split sizes add up to " + std::to_string(total) + ", axis " +
                                        std::to_string(axis) + " has " + std::to_string(length));
    std::vector<Value> result;
    int64_t begin = 0;
    for (int64_t s : sizes) {
        result.push_back(sliceAxis(x, axis, begin, begin + s));
        begin += s;
    }
    return result;
}

std::vector<Value> squeeze(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    bool given = false;
    const std::vector<int64_t> axes = axesOf(n, in, opset, 13, 1, given);
    std::set<int64_t> drop;
    for (int64_t axis : axes) {
        const int64_t a = normalizeAxis(n, axis, x.rank());
        if (x.shape[a] != 1)
            throw Error(nodeSubject(n), "cannot squeeze axis " + std::to_string(axis) + " of size " +
                                            std::to_string(x.shape[a]));
        drop.insert(a);
    }
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < x.rank(); ++d) {
        const bool squeezed = given ? drop.count(d) > 0 : x.shape[d] == 1;
        if (!squeezed)
            shape.push_back(x.shape[d]);
    }
    return single(withShape(n, in, shape));
}

std::vector<Value> unsqueeze(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    bool given = false;
    const std::vector<int64_t> axes = axesOf(n, in, opset, 13, 1, given);
    if (!given)
        throw Error(nodeSubject(n), "axes are required");
    const int64_t outRank = x.rank() + static_cast<int64_t>(axes.size());
    std::set<int64_t> inserted;
    for (int64_t axis : axes) {
        if (!inserted.insert(normalizeAxis(n, axis, outRank)).second)
            throw Error(nodeSubject(n), "axis " + std::to_string(axis) + " appears twice");
    }
    std::vector<int64_t> shape;
    std::size_t next = 0;
    for (int64_t d = 0; d < outRank; ++d)
        shape.push_back(inserted.count(d) ? 1 : x.shape[next++]);
    return single(withShape(n, in, shape));
}

std::vector<Value> expand(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const std::vector<int64_t> target = integerValues(n, requireInput(n, in, 1), "shape");
    const auto shape = broadcastShape(n, {&x.shape, &target});
    elementCount(shape);
    return {gatherByIndex(x, broadcastIndex(x.shape, shape), shape)};
}

std::vector<Value> tile(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const auto repeats = integerValues(n, requireInput(n, in, 1), "repeats");
    if (static_cast<int64_t>(repeats.size()) != x.rank())
        throw Error(nodeSubject(n),
                    "repeats needs one entry per input dimension (" + std::to_string(x.rank()) + ")");
    std::vector<int64_t> shape(x.shape);
    for (int64_t d = 0; d < x.rank(); ++d) {
        if (repeats[d] < 0 || __builtin_mul_overflow(shape[d], repeats[d], &shape[d]))
            throw Error(nodeSubject(n), "repeats " + shapeToString(repeats) + " are negative or too large");
    }
    const auto strides = stridesOf(x.shape);
    std::vector<int64_t> index(static_cast<std::size_t>(elementCount(shape)));
    forEachIndex(shape, [&](const std::vector<int64_t>& at, int64_t flat) {
        int64_t source = 0;
        for (int64_t d = 0; d < x.rank(); ++d)
            source += (at[d] % x.shape[d]) * strides[d];
        index[flat] = source;
    });
    return {gatherByIndex(x, index, shape)};
}

std::vector<Value> pad(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    std::vector<int64_t> pads;
    double constantValue = 0.0;
    if (opset < 11) {
        pads = n.intsAttribute("pads", {});
        constantValue = n.floatAttribute("value", 0.0f);
    } else {
        pads = integerValues(n, requireInput(n, in, 1), "pads");
        if (const Value* c = optionalInput(in, 2); c != nullptr && c->size() > 0)
            constantValue = c->number(0);
    }
    std::vector<int64_t> axes(rank);
    for (int64_t d = 0; d < rank; ++d)
        axes[d] = d;
    if (const Value* a = optionalInput(in, 3)) {
        axes = integerValues(n, *a, "axes");
        for (auto& axis : axes)
            axis = normalizeAxis(n, axis, rank);
    }
    if (pads.size() != 2 * axes.size())
        throw Error(nodeSubject(n), "pads needs " + std::to_string(2 * axes.size()) + " entries, found " +
                                        std::to_string(pads.size()));
    std::vector<int64_t> before(rank, 0), shape = x.shape;
    for (std::size_t k = 0; k < axes.size(); ++k) {
        before[axes[k]] = pads[k];
        shape[axes[k]] += pads[k] + pads[k + axes.size()];
        if (shape[axes[k]] < 0)
            throw Error(nodeSubject(n), "pads " + shapeToString(pads) + " remove more than the input has");
    }
    const std::string mode = n.stringAttribute("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
        throw Error(nodeSubject(n), "mode '" + mode + "' is not one of constant, reflect, edge, wrap");
    const auto strides = stridesOf(x.shape);
    Value out = zeros(x.dtype, shape);
    forEachIndex(shape, [&](const std::vector<int64_t>& at, int64_t flat) {
        int64_t source = 0;
        for (int64_t d = 0; d < rank; ++d) {
            int64_t i = at[d] - before[d];
            const int64_t size = x.shape[d];
            if (i < 0 || i >= size) {
                if (mode == "constant" || size == 0) {
                    storeNumber(out, flat, constantValue);
                    return;
                }
                if (mode == "edge") {
                    i = std::clamp<int64_t>(i, 0, size - 1);
                } else if (mode == "wrap") {
                    i = ((i % size) + size) % size;
                } else { // reflect, without repeating the edge
                    const int64_t period = size > 1 ? 2 * (size - 1) : 1;
                    i = ((i % period) + period) % period;
                    if (i >= size)
                        i = period - i;
                }
            }
            source += i * strides[d];
        }
        copyElement(x, source, out, flat);
    });
    return single(std::move(out));
}

std::vector<Value> depthToSpace(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const int64_t b = n.intAttribute("blocksize", 0);
    if (x.rank() != 4 || b <= 0 || x.shape[1] % (b * b) != 0)
        throw Error(nodeSubject(n), "needs N x C x H x W with C divisible by blocksize²");
    const bool crd = n.stringAttribute("mode", "DCR") == "CRD";
    const int64_t c = x.shape[1] / (b * b), h = x.shape[2], w = x.shape[3];
    const std::vector<int64_t> shape{x.shape[0], c, h * b, w * b};
    std::vector<int64_t> index(static_cast<std::size_t>(x.size()));
    forEachIndex(shape, [&](const std::vector<int64_t>& at, int64_t flat) {
        const int64_t i = at[2] % b, j = at[3] % b;
        const int64_t channel = crd ? at[1] * b * b + i * b + j : (i * b + j) * c + at[1];
        index[flat] = ((at[0] * x.shape[1] + channel) * h + at[2] / b) * w + at[3] / b;
    });
    return {gatherByIndex(x, index, shape)};
}

std::vector<Value> spaceToDepth(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const int64_t b = n.intAttribute("blocksize", 0);
    if (x.rank() != 4 || b <= 0 || x.shape[2] % b != 0 || x.shape[3] % b != 0)
        throw Error(nodeSubject(n), "needs N x C x H x W with H and W divisible by blocksize");
    const int64_t c = x.shape[1], h = x.shape[2], w = x.shape[3];
    const std::vector<int64_t> shape{x.shape[0], c * b * b, h / b, w / b};
    std::vector<int64_t> index(static_cast<std::size_t>(x.size()));
    forEachIndex(shape, [&](const std::vector<int64_t>& at, int64_t flat) {
        const int64_t block = at[1] / c, channel = at[1] % c, i = block / b, j = block % b;
        index[flat] = ((at[0] * c + channel) * h + at[2] * b + i) * w + at[3] * b + j;
    });
    return {gatherByIndex(x, index, shape)};
}

std::vector<Value> shapeOp(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    auto clampAxis = [rank](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
    const int64_t start = clampAxis(n.intAttribute("start", 0));
    const int64_t end = clampAxis(n.intAttribute("end", rank));
    std::vector<int64_t> dims;
    for (int64_t d = start; d < end; ++d)
        dims.push_back(x.shape[d]);
    const auto count = static_cast<int64_t>(dims.size());
    return {Value::integers(DType::I64, {count}, std::move(dims))};
}

std::vector<Value> constant(const Node& n, const Inputs&, int64_t) {
    const Attribute* value = n.attribute("value");
    if (!value || value->kind != Attribute::Kind::Tensor || !value->tensor)
        throw Error(nodeSubject(n), "only value, value_float(s) and value_int(s) constants are supported");
    return {*value->tensor};
}

std::vector<Value> constantOfShape(const Node& n, const Inputs& in, int64_t) {
    const auto shape = integerValues(n, requireInput(n, in, 0), "shape");
    Value fill = Value::floats({1}, {0.0f});
    if (const Attribute* a = n.attribute("value"); a && a->kind == Attribute::Kind::Tensor && a->tensor) {
        if (a->tensor->size() != 1)
            throw Error(nodeSubject(n), "value must hold one element");
        fill = *a->tensor;
    }
    for (int64_t d : shape) {
        if (d < 0)
            throw Error(nodeSubject(n), "shape " + shapeToString(shape) + " has a negative entry");
    }
    Value out = zeros(fill.dtype, shape);
    for (int64_t i = 0; i < out.size(); ++i)
        copyElement(fill, 0, out, i);
    return single(std::move(out));
}

std::vector<Value> range(const Node& n, const Inputs& in, int64_t) {
    const Value& start = requireInput(n, in, 0);
    const Value& limit = requireInput(n, in, 1);
    const Value& delta = requireInput(n, in, 2);
    if (start.size() != 1 || limit.size() != 1 || delta.size() != 1)
        throw Error(nodeSubject(n), "start, limit and delta must be scalars");
    const double s = start.number(0), l = limit.number(0), d = delta.number(0);
    if (d == 0.0)
        throw Error(nodeSubject(n), "delta must not be 0");
    const double steps = std::ceil((l - s) / d);
    if (!(steps < 1e9))
        throw Error(nodeSubject(n), "more than 10^9 elements");
    const auto count = static_cast<int64_t>(std::max(steps, 0.0));
    Value out = zeros(start.dtype, {count});
    if (start.isInteger()) {
        for (int64_t i = 0; i < count; ++i)
            out.ints[i] = start.ints[0] + i * delta.ints[0];
    } else {
        const float sf = start.data[0], df = delta.data[0];
        for (int64_t i = 0; i < count; ++i)
            out.data[i] = sf + static_cast<float>(i) * df;
    }
    return single(std::move(out));
}

std::vector<Value> eyeLike(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    if (x.rank() != 2)
        throw Error(nodeSubject(n), "needs a 2-D input");
    DType dtype = x.dtype;
    if (const Attribute* a = n.attribute("dtype")) {
        const auto d = dtypeFromOnnx(a->i);
        if (!d)
            throw Error(nodeSubject(n), "dtype " + std::to_string(a->i) + " is not supported");
        dtype = *d;
    }
    const int64_t k = n.intAttribute("k", 0);
    Value out = zeros(dtype, x.shape);
    for (int64_t r = 0; r < x.shape[0]; ++r) {
        const int64_t c = r + k;
        if (c >= 0 && c < x.shape[1])
            storeNumber(out, r * x.shape[1] + c, 1.0);
    }
    return single(std::move(out));
}

std::vector<Value> trilu(const Node& n, const Inputs& in, int64_t) {
    Value out = requireInput(n, in, 0);
    if (out.rank() < 2)
        throw Error(nodeSubject(n), "needs rank 2 or more");
    int64_t k = 0;
    if (const Value* kv = optionalInput(in, 1)) {
        const auto values = integerValues(n, *kv, "k");
        if (values.size() != 1)
            throw Error(nodeSubject(n), "k must hold one value");
        k = values[0];
    }
    const bool upper = n.intAttribute("upper", 1) != 0;
    const int64_t rows = out.shape[out.rank() - 2], cols = out.shape[out.rank() - 1];
    for (int64_t i = 0; i < out.size(); ++i) {
        const int64_t c = i % cols, r = (i / cols) % rows;
        const bool keep = upper ? c - r >= k : c - r <= k;
        if (!keep)
            storeNumber(out, i, 0.0);
    }
    return single(std::move(out));
}

std::vector<Value> dropout(const Node& n, const Inputs& in, int64_t opset) {
    // Inference: the output is the input, and the optional mask keeps every element.
    if (opset >= 12) {
        if (const Value* training = optionalInput(in, 2);
            training != nullptr && training->size() == 1 && training->number(0) != 0.0) {
            const Value* ratio = optionalInput(in, 1);
            if (ratio == nullptr || ratio->number(0) != 0.0)
                throw Error(nodeSubject(n), "training mode (random dropping) is not supported");
        }
    }
    std::vector<Value> outputs{requireInput(n, in, 0)};
    if (n.outputs.size() > 1) {
        Value mask = zeros(opset >= 10 ? DType::Bool : outputs[0].dtype, outputs[0].shape);
        for (int64_t i = 0; i < mask.size(); ++i)
            storeNumber(mask, i, 1.0);
        outputs.push_back(std::move(mask));
    }
    return outputs;
}

} // namespace

void addShapeOps(OpTable& t) {
    t.push_back({"Cast", 7, 21, cast});
    t.push_back({"CastLike", 15, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{castTo(requireInput(n, in, 0), requireInput(n, in, 1).dtype)};
                 }});
    t.push_back({"Flatten", 7, 21, flatten});
    t.push_back({"Reshape", 7, 21, reshape});
    t.push_back({"Transpose", 7, 21, transpose});
    t.push_back({"Concat", 7, 21, concat});
    t.push_back({"Split", 7, 21, split});
    t.push_back({"Squeeze", 7, 21, squeeze});
    t.push_back({"Unsqueeze", 7, 21, unsqueeze});
    t.push_back({"Expand", 8, 21, expand});
    t.push_back({"Tile", 7, 21, tile});
    t.push_back({"Pad", 7, 21, pad});
    t.push_back({"DepthToSpace", 7, 21, depthToSpace});
    t.push_back({"SpaceToDepth", 7, 21, spaceToDepth});
    t.push_back({"Shape", 7, 21, shapeOp});
    t.push_back({"Size", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{
                         Value::integers(DType::I64, {}, {requireInput(n, in, 0).size()})};
                 }});
    t.push_back({"Constant", 7, 21, constant});
    t.push_back({"ConstantOfShape", 9, 21, constantOfShape});
    t.push_back({"Range", 11, 21, range});
    t.push_back({"EyeLike", 9, 21, eyeLike});
    t.push_back({"Trilu", 14, 21, trilu});
    t.push_back({"Identity", 7, 21, +[](const Node& n, const Inputs& in, int64_t) {
                     return std::vector<Value>{requireInput(n, in, 0)};
                 }});
    t.push_back({"Dropout", 7, 21, dropout});
}

} // namespace quantscope::ops
