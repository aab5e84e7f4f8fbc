// Ops that move or relabel data without arithmetic: Flatten, Reshape, Transpose, Concat,
// Squeeze, Unsqueeze, and Constant.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <set>

namespace quantscope::ops {
namespace {

// Copies `v` with a new shape (the element count must not change); integer values follow.
Value withShape(const Value& v, std::vector<int64_t> shape)
{
    Value out = v;
    out.shape = std::move(shape);
    return out;
}

std::vector<int64_t> axesFrom(const Node& n, const Inputs& in, int64_t opset, bool& given)
{
    given = true;
    if (opset >= 13) {
        if (in.size() > 1 && in[1] != nullptr)
            return integerValues(n, *in[1], "axes");
    } else if (const Attribute* a = n.attribute("axes")) {
        return a->ints;
    }
    given = false;
    return {};
}

} // namespace

std::vector<Value> flatten(const Node& n, const Inputs& in, int64_t)
{
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    int64_t axis = n.intAttribute("axis", 1);
    if (axis < -rank || axis > rank)
        throw Error(nodeSubject(n), "axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) + ", " +
                                        std::to_string(rank) + "]");
    if (axis < 0)
        axis += rank;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    const int64_t inner = outer == 0 ? 0 : x.size() / outer;
    return {withShape(x, {outer, inner})};
}

std::vector<Value> reshape(const Node& n, const Inputs& in, int64_t)
{
    const Value& x = requireInput(n, in, 0);
    std::vector<int64_t> shape = integerValues(n, requireInput(n, in, 1), "shape");
    const bool allowZero = n.intAttribute("allowzero", 0) != 0;
    int64_t known = 1;
    int inferred = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0 && !allowZero) {
            if (i >= x.shape.size())
                throw Error(nodeSubject(n), "shape entry 0 at position " + std::to_string(i) + " has no input dimension to copy");
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
            throw Error(nodeSubject(n), "cannot reshape " + shapeToString(x.shape) + " to " + shapeToString(shape));
        shape[inferred] = x.size() / known;
    }
    if (elementCount(shape) != x.size())
        throw Error(nodeSubject(n), "cannot reshape " + shapeToString(x.shape) + " (" + std::to_string(x.size()) +
                                        " elements) to " + shapeToString(shape));
    return {withShape(x, shape)};
}

std::vector<Value> transpose(const Node& n, const Inputs& in, int64_t)
{
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
            throw Error(nodeSubject(n), "perm " + shapeToString(perm) + " is not a permutation of 0.." + std::to_string(rank - 1));
    }
    std::vector<int64_t> inStrides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * x.shape[d + 1];
    Value y;
    y.isInteger = x.isInteger;
    y.shape.resize(rank);
    std::vector<int64_t> strides(rank);
    for (int64_t d = 0; d < rank; ++d) {
        y.shape[d] = x.shape[perm[d]];
        strides[d] = inStrides[perm[d]];
    }
    y.data.resize(x.data.size());
    if (x.isInteger)
        y.ints.resize(x.ints.size());
    std::vector<int64_t> index(rank, 0);
    int64_t source = 0;
    for (std::size_t i = 0; i < y.data.size(); ++i) {
        y.data[i] = x.data[source];
        if (x.isInteger)
            y.ints[i] = x.ints[source];
        for (int64_t d = rank - 1; d >= 0; --d) {
            source += strides[d];
            if (++index[d] < y.shape[d])
                break;
            source -= strides[d] * y.shape[d];
            index[d] = 0;
        }
    }
    return {std::move(y)};
}

std::vector<Value> concat(const Node& n, const Inputs& in, int64_t)
{
    const Value& first = requireInput(n, in, 0);
    const int64_t rank = first.rank();
    const Attribute* axisAttribute = n.attribute("axis");
    if (!axisAttribute)
        throw Error(nodeSubject(n), "axis is required");
    const int64_t axis = normalizeAxis(n, axisAttribute->i, rank);
    Value y;
    y.shape = first.shape;
    y.shape[axis] = 0;
    bool allInteger = true;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const Value& v = requireInput(n, in, i);
        for (int64_t d = 0; d < rank; ++d) {
            if (v.rank() != rank || (d != axis && v.shape[d] != first.shape[d]))
                throw Error(nodeSubject(n), "input shapes " + shapeToString(first.shape) + " and " + shapeToString(v.shape) +
                                                " differ outside axis " + std::to_string(axis));
        }
        y.shape[axis] += v.shape[axis];
        allInteger = allInteger && v.isInteger;
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= first.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d)
        inner *= first.shape[d];
    y.isInteger = allInteger;
    for (int64_t o = 0; o < outer; ++o) {
        for (const Value* v : in) {
            const int64_t block = v->shape[axis] * inner;
            y.data.insert(y.data.end(), v->data.begin() + o * block, v->data.begin() + (o + 1) * block);
            if (allInteger)
                y.ints.insert(y.ints.end(), v->ints.begin() + o * block, v->ints.begin() + (o + 1) * block);
        }
    }
    return {std::move(y)};
}

std::vector<Value> squeeze(const Node& n, const Inputs& in, int64_t opset)
{
    const Value& x = requireInput(n, in, 0);
    bool given = false;
    std::vector<int64_t> axes = axesFrom(n, in, opset, given);
    std::set<int64_t> drop;
    for (int64_t axis : axes) {
        const int64_t a = normalizeAxis(n, axis, x.rank());
        if (x.shape[a] != 1)
            throw Error(nodeSubject(n), "cannot squeeze axis " + std::to_string(axis) + " of size " + std::to_string(x.shape[a]));
        drop.insert(a);
    }
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < x.rank(); ++d) {
        const bool squeezed = given ? drop.count(d) > 0 : x.shape[d] == 1;
        if (!squeezed)
            shape.push_back(x.shape[d]);
    }
    return {withShape(x, shape)};
}

std::vector<Value> unsqueeze(const Node& n, const Inputs& in, int64_t opset)
{
    const Value& x = requireInput(n, in, 0);
    bool given = false;
    const std::vector<int64_t> axes = axesFrom(n, in, opset, given);
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
    return {withShape(x, shape)};
}

std::vector<Value> constant(const Node& n, const Inputs&, int64_t)
{
    const Attribute* value = n.attribute("value");
    if (!value || value->kind != Attribute::Kind::Tensor || !value->tensor)
        throw Error(nodeSubject(n), "only value, value_float(s) and value_int(s) constants are supported");
    return {*value->tensor};
}

} // namespace quantscope::ops
