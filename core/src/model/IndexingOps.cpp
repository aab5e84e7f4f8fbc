// Ops that pick elements by index: Gather, GatherElements, GatherND, Slice, ScatterElements,
// ScatterND, OneHot, Compress and NonZero. Every index is checked against its axis (negative
// indices count from the end) before it is used.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <limits>
#include <set>

namespace quantscope::ops {
namespace {

int64_t checkedIndex(const Node& n, int64_t index, int64_t size, const char* what) {
    if (index < -size || index >= size)
        throw Error(nodeSubject(n), std::string(what) + " " + std::to_string(index) + " is outside [" +
                                        std::to_string(-size) + ", " + std::to_string(size - 1) + "]");
    return index < 0 ? index + size : index;
}

std::vector<Value> gather(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    const auto idx = integerValues(n, indices, "indices");
    if (x.rank() == 0)
        throw Error(nodeSubject(n), "data must have rank 1 or more");
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 0), x.rank());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    const int64_t length = x.shape[axis];
    std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + axis);
    shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
    shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
    std::vector<int64_t> index;
    index.reserve(static_cast<std::size_t>(outer * static_cast<int64_t>(idx.size()) * inner));
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k : idx) {
            const int64_t at = checkedIndex(n, k, length, "index");
            for (int64_t i = 0; i < inner; ++i)
                index.push_back((o * length + at) * inner + i);
        }
    }
    return {gatherByIndex(x, index, shape)};
}

// For every element of `indices` (same rank as data), the flat offset in `data` obtained by
// replacing the coordinate along `axis` with the index.
std::vector<int64_t> elementOffsets(const Node& n, const Value& data, const Value& indices, int64_t axis) {
    if (indices.rank() != data.rank())
        throw Error(nodeSubject(n),
                    "indices must have the rank of data (" + std::to_string(data.rank()) + ")");
    const auto idx = integerValues(n, indices, "indices");
    const auto strides = stridesOf(data.shape);
    std::vector<int64_t> offsets(idx.size());
    std::vector<int64_t> at(indices.shape.size(), 0);
    for (std::size_t i = 0; i < idx.size(); ++i) {
        int64_t offset = 0;
        for (int64_t d = 0; d < indices.rank(); ++d) {
            const int64_t coordinate = d == axis ? checkedIndex(n, idx[i], data.shape[d], "index") : at[d];
            if (coordinate >= data.shape[d])
                throw Error(nodeSubject(n), "indices shape " + shapeToString(indices.shape) +
                                                " exceeds data shape " + shapeToString(data.shape));
            offset += coordinate * strides[d];
        }
        offsets[i] = offset;
        for (int64_t d = indices.rank() - 1; d >= 0; --d) {
            if (++at[d] < indices.shape[d])
                break;
            at[d] = 0;
        }
    }
    return offsets;
}

std::vector<Value> gatherElements(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 0), x.rank());
    return {gatherByIndex(x, elementOffsets(n, x, indices, axis), indices.shape)};
}

template <typename Combine>
void scatterInto(Value& out, int64_t to, const Value& updates, int64_t from, Combine combine) {
    if (out.isInteger())
        out.ints[to] = combine(out.ints[to], updates.ints[from]);
    else
        out.data[to] = combine(out.data[to], updates.data[from]);
}

void scatterWithReduction(const Node& n, Value& out, int64_t to, const Value& updates, int64_t from) {
    const std::string reduction = n.stringAttribute("reduction", "none");
    if (reduction == "none")
        copyElement(updates, from, out, to);
    else if (reduction == "add")
        scatterInto(out, to, updates, from, [](auto a, auto b) { return a + b; });
    else if (reduction == "mul")
        scatterInto(out, to, updates, from, [](auto a, auto b) { return a * b; });
    else if (reduction == "max")
        scatterInto(out, to, updates, from, [](auto a, auto b) { return std::max(a, b); });
    else if (reduction == "min")
        scatterInto(out, to, updates, from, [](auto a, auto b) { return std::min(a, b); });
    else
        throw Error(nodeSubject(n), "reduction '" + reduction + "' is not one of none, add, mul, max, min");
}

std::vector<Value> scatterElements(const Node& n, const Inputs& in, int64_t) {
    Value out = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    const Value& updates = requireInput(n, in, 2);
    if (updates.shape != indices.shape || updates.dtype != out.dtype)
        throw Error(nodeSubject(n), "updates must have the shape of indices and the type of data");
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 0), out.rank());
    const auto offsets = elementOffsets(n, out, indices, axis);
    for (std::size_t i = 0; i < offsets.size(); ++i)
        scatterWithReduction(n, out, offsets[i], updates, static_cast<int64_t>(i));
    return single(std::move(out));
}

// Offsets of the slices GatherND / ScatterND address: indices [..., k] picks the first k dims.
std::vector<int64_t> sliceOffsets(const Node& n, const Value& data, const Value& indices, int64_t batchDims,
                                  int64_t& sliceSize) {
    const auto idx = integerValues(n, indices, "indices");
    if (indices.rank() < 1)
        throw Error(nodeSubject(n), "indices must have rank 1 or more");
    const int64_t k = indices.shape.back();
    if (batchDims < 0 || batchDims >= indices.rank() || k < 1 || batchDims + k > data.rank())
        throw Error(nodeSubject(n), "the last dimension of indices (" + std::to_string(k) +
                                        ") does not fit data " + shapeToString(data.shape));
    const auto strides = stridesOf(data.shape);
    sliceSize = data.rank() > 0 ? strides[batchDims + k - 1] : 1;
    int64_t batchCount = 1;
    for (int64_t d = 0; d < batchDims; ++d)
        batchCount *= data.shape[d];
    const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
    const int64_t perBatch = batchCount > 0 ? tuples / batchCount : 0;
    const int64_t batchStride = batchDims > 0 ? strides[batchDims - 1] : 0;
    std::vector<int64_t> offsets(static_cast<std::size_t>(tuples));
    for (int64_t t = 0; t < tuples; ++t) {
        int64_t offset = perBatch > 0 ? (t / perBatch) * batchStride : 0;
        for (int64_t j = 0; j < k; ++j)
            offset +=
                checkedIndex(n, idx[t * k + j], data.shape[batchDims + j], "index") * strides[batchDims + j];
        offsets[t] = offset;
    }
    return offsets;
}

std::vector<Value> gatherND(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    const int64_t batchDims = n.intAttribute("batch_dims", 0);
    int64_t sliceSize = 1;
    const auto offsets = sliceOffsets(n, x, indices, batchDims, sliceSize);
    std::vector<int64_t> shape(indices.shape.begin(), indices.shape.end() - 1);
    shape.insert(shape.end(), x.shape.begin() + batchDims + indices.shape.back(), x.shape.end());
    std::vector<int64_t> index;
    for (int64_t offset : offsets) {
        for (int64_t i = 0; i < sliceSize; ++i)
            index.push_back(offset + i);
    }
    return {gatherByIndex(x, index, shape)};
}

std::vector<Value> scatterND(const Node& n, const Inputs& in, int64_t) {
    Value out = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    const Value& updates = requireInput(n, in, 2);
    int64_t sliceSize = 1;
    const auto offsets = sliceOffsets(n, out, indices, 0, sliceSize);
    if (updates.size() != static_cast<int64_t>(offsets.size()) * sliceSize || updates.dtype != out.dtype)
        throw Error(nodeSubject(n), "updates do not match the addressed slices");
    for (std::size_t t = 0; t < offsets.size(); ++t) {
        for (int64_t i = 0; i < sliceSize; ++i)
            scatterWithReduction(n, out, offsets[t] + i, updates, static_cast<int64_t>(t) * sliceSize + i);
    }
    return single(std::move(out));
}

// Clamps a Slice bound the way numpy does for the step's direction.
int64_t clampBound(int64_t value, int64_t size, bool forward, bool isEnd) {
    if (value < 0)
        value += size;
    if (forward)
        return std::clamp<int64_t>(value, 0, size);
    return std::clamp<int64_t>(value, isEnd ? -1 : 0, size - 1);
}

std::vector<Value> slice(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset < 10) {
        starts = n.intsAttribute("starts", {});
        ends = n.intsAttribute("ends", {});
        axes = n.intsAttribute("axes", {});
    } else {
        starts = integerValues(n, requireInput(n, in, 1), "starts");
        ends = integerValues(n, requireInput(n, in, 2), "ends");
        if (const Value* a = optionalInput(in, 3))
            axes = integerValues(n, *a, "axes");
        if (const Value* s = optionalInput(in, 4))
            steps = integerValues(n, *s, "steps");
    }
    if (axes.empty()) {
        for (std::size_t i = 0; i < starts.size(); ++i)
            axes.push_back(static_cast<int64_t>(i));
    }
    if (steps.empty())
        steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
        throw Error(nodeSubject(n), "starts, ends, axes and steps must have the same length");
    std::vector<int64_t> begin(rank, 0), step(rank, 1), shape = x.shape;
    std::set<int64_t> seen;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const int64_t axis = normalizeAxis(n, axes[i], rank);
        if (!seen.insert(axis).second)
            throw Error(nodeSubject(n), "axis " + std::to_string(axes[i]) + " appears twice");
        if (steps[i] == 0)
            throw Error(nodeSubject(n), "steps must not be 0");
        const int64_t size = x.shape[axis];
        const bool forward = steps[i] > 0;
        const int64_t b = clampBound(starts[i], size, forward, false);
        const int64_t e = clampBound(ends[i], size, forward, true);
        begin[axis] = b;
        step[axis] = steps[i];
        const int64_t count =
            forward ? (e - b + steps[i] - 1) / steps[i] : (b - e + (-steps[i]) - 1) / (-steps[i]);
        shape[axis] = std::max<int64_t>(count, 0);
    }
    const auto strides = stridesOf(x.shape);
    std::vector<int64_t> index(static_cast<std::size_t>(elementCount(shape)));
    std::vector<int64_t> at(rank, 0);
    for (std::size_t flat = 0; flat < index.size(); ++flat) {
        int64_t offset = 0;
        for (int64_t d = 0; d < rank; ++d)
            offset += (begin[d] + at[d] * step[d]) * strides[d];
        index[flat] = offset;
        for (int64_t d = rank - 1; d >= 0; --d) {
            if (++at[d] < shape[d])
                break;
            at[d] = 0;
        }
    }
    return {gatherByIndex(x, index, shape)};
}

std::vector<Value> oneHot(const Node& n, const Inputs& in, int64_t) {
    const Value& indices = requireInput(n, in, 0);
    const Value& depthValue = requireInput(n, in, 1);
    const Value& values = requireInput(n, in, 2);
    if (depthValue.size() != 1 || values.size() != 2)
        throw Error(nodeSubject(n), "depth must be a scalar and values hold [off, on]");
    const auto depth = static_cast<int64_t>(depthValue.number(0));
    if (depth < 1)
        throw Error(nodeSubject(n), "depth must be positive");
    const int64_t outRank = indices.rank() + 1;
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", -1), outRank);
    std::vector<int64_t> shape = indices.shape;
    shape.insert(shape.begin() + axis, depth);
    Value out = zeros(values.dtype, shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= indices.shape[d];
    for (int64_t d = axis; d < indices.rank(); ++d)
        inner *= indices.shape[d];
    for (int64_t i = 0; i < out.size(); ++i)
        copyElement(values, 0, out, i);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            auto k = static_cast<int64_t>(indices.number(o * inner + i));
            if (k < -depth || k >= depth)
                continue; // out-of-range indices give an all-off row
            k = k < 0 ? k + depth : k;
            copyElement(values, 1, out, (o * depth + k) * inner + i);
        }
    }
    return single(std::move(out));
}

std::vector<Value> compress(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& condition = requireInput(n, in, 1);
    const Attribute* axisAttribute = n.attribute("axis");
    Value flat = x;
    if (!axisAttribute)
        flat.shape = {x.size()};
    const int64_t axis = axisAttribute ? normalizeAxis(n, axisAttribute->i, x.rank()) : 0;
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < condition.size() && i < flat.shape[axis]; ++i) {
        if (condition.number(i) != 0.0)
            kept.push_back(i);
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= flat.shape[d];
    for (int64_t d = axis + 1; d < flat.rank(); ++d)
        inner *= flat.shape[d];
    std::vector<int64_t> shape = flat.shape;
    shape[axis] = static_cast<int64_t>(kept.size());
    std::vector<int64_t> index;
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k : kept) {
            for (int64_t i = 0; i < inner; ++i)
                index.push_back((o * flat.shape[axis] + k) * inner + i);
        }
    }
    return {gatherByIndex(flat, index, shape)};
}

std::vector<Value> nonZero(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const auto strides = stridesOf(x.shape);
    std::vector<int64_t> hits;
    for (int64_t i = 0; i < x.size(); ++i) {
        if (x.number(i) != 0.0)
            hits.push_back(i);
    }
    const auto count = static_cast<int64_t>(hits.size());
    Value out = zeros(DType::I64, {static_cast<int64_t>(x.rank()), count});
    for (int64_t h = 0; h < count; ++h) {
        for (int64_t d = 0; d < x.rank(); ++d)
            out.ints[d * count + h] = (hits[h] / strides[d]) % x.shape[d];
    }
    return single(std::move(out));
}

std::vector<Value> reverseSequence(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const auto lengths = integerValues(n, requireInput(n, in, 1), "sequence_lens");
    const int64_t timeAxis = normalizeAxis(n, n.intAttribute("time_axis", 0), x.rank());
    const int64_t batchAxis = normalizeAxis(n, n.intAttribute("batch_axis", 1), x.rank());
    if (timeAxis == batchAxis || static_cast<int64_t>(lengths.size()) != x.shape[batchAxis])
        throw Error(nodeSubject(n), "needs distinct time and batch axes and one length per batch entry");
    const auto strides = stridesOf(x.shape);
    std::vector<int64_t> index(static_cast<std::size_t>(x.size()));
    for (int64_t i = 0; i < x.size(); ++i) {
        const int64_t t = (i / strides[timeAxis]) % x.shape[timeAxis];
        const int64_t b = (i / strides[batchAxis]) % x.shape[batchAxis];
        const int64_t length = std::clamp<int64_t>(lengths[b], 0, x.shape[timeAxis]);
        index[i] = t < length ? i + (length - 1 - 2 * t) * strides[timeAxis] : i;
    }
    return {gatherByIndex(x, index, x.shape)};
}

} // namespace

void addIndexingOps(OpTable& t) {
    t.push_back({"Gather", 7, 21, gather});
    t.push_back({"GatherElements", 11, 21, gatherElements});
    t.push_back({"GatherND", 11, 21, gatherND});
    t.push_back({"ScatterElements", 11, 21, scatterElements});
    t.push_back({"Scatter", 9, 10, scatterElements}); // the earlier name of ScatterElements
    t.push_back({"ReverseSequence", 10, 21, reverseSequence});
    t.push_back({"ScatterND", 11, 21, scatterND});
    t.push_back({"Slice", 7, 21, slice});
    t.push_back({"OneHot", 9, 21, oneHot});
    t.push_back({"Compress", 9, 21, compress});
    t.push_back({"NonZero", 9, 21, nonZero});
}

} // namespace quantscope::ops
