// Gemm and MatMul on OpenBLAS cblas_sgemm (the fp32 baseline of the whole project).
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cblas.h>

#include <climits>

namespace quantscope::ops {
namespace {

// cblas_sgemm takes int dimensions.
void checkBlasDimensions(const Node& n, std::initializer_list<int64_t> dims) {
    for (const int64_t d : dims) {
        if (d > INT_MAX)
            throw Error(nodeSubject(n), "dimension " + std::to_string(d) + " exceeds the 2^31 - 1 supported");
    }
}

std::vector<Value> gemm(const Node& n, const Inputs& in, int64_t) {
    const Value& a = requireInput(n, in, 0);
    const Value& b = requireInput(n, in, 1);
    const Value* c = optionalInput(in, 2);
    if (a.isInteger() || b.isInteger())
        throw Error(nodeSubject(n), "needs floating-point inputs");
    if (a.rank() != 2 || b.rank() != 2)
        throw Error(nodeSubject(n), "A and B must be 2-D, found " + shapeToString(a.shape) + " and " +
                                        shapeToString(b.shape));
    const bool transA = n.intAttribute("transA", 0) != 0;
    const bool transB = n.intAttribute("transB", 0) != 0;
    const float alpha = n.floatAttribute("alpha", 1.0f);
    const float beta = n.floatAttribute("beta", 1.0f);
    const int64_t m = transA ? a.shape[1] : a.shape[0];
    const int64_t k = transA ? a.shape[0] : a.shape[1];
    const int64_t kb = transB ? b.shape[1] : b.shape[0];
    const int64_t nOut = transB ? b.shape[0] : b.shape[1];
    if (k != kb)
        throw Error(nodeSubject(n), "inner dimensions differ: A " + shapeToString(a.shape) +
                                        (transA ? " (transposed)" : "") + ", B " + shapeToString(b.shape) +
                                        (transB ? " (transposed)" : ""));
    const int64_t outputSize = checkedProduct(n, {m, nOut});
    checkBlasDimensions(n, {m, nOut, k});
    Value y;
    y.shape = {m, nOut};
    y.data.assign(static_cast<std::size_t>(outputSize), 0.0f);
    float sgemmBeta = 0.0f;
    if (c != nullptr && beta != 0.0f) {
        // C broadcasts (unidirectionally) to M x N: shapes [], [N], [1, N], [M, 1], [M, N].
        const auto& cs = c->shape;
        const int64_t cRows = cs.size() == 2 ? cs[0] : 1;
        const int64_t cCols = cs.empty() ? 1 : cs.back();
        if (cs.size() > 2 || (cRows != 1 && cRows != m) || (cCols != 1 && cCols != nOut))
            throw Error(nodeSubject(n), "C of shape " + shapeToString(cs) + " does not broadcast to [" +
                                            std::to_string(m) + ", " + std::to_string(nOut) + "]");
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < nOut; ++j)
                y.data[i * nOut + j] = beta * c->data[(cRows == 1 ? 0 : i) * cCols + (cCols == 1 ? 0 : j)];
        }
        sgemmBeta = 1.0f;
    }
    if (m > 0 && nOut > 0 && k > 0) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    static_cast<int>(m), static_cast<int>(nOut), static_cast<int>(k), alpha, a.data.data(),
                    static_cast<int>(a.shape[1]), b.data.data(), static_cast<int>(b.shape[1]), sgemmBeta,
                    y.data.data(), static_cast<int>(nOut));
    }
    return single(std::move(y));
}

std::vector<Value> matMul(const Node& n, const Inputs& in, int64_t) {
    const Value& a = requireInput(n, in, 0);
    const Value& b = requireInput(n, in, 1);
    if (a.rank() == 0 || b.rank() == 0)
        throw Error(nodeSubject(n), "operands must have rank 1 or more");
    if (a.isInteger() || b.isInteger())
        throw Error(nodeSubject(n), "needs floating-point inputs");
    // numpy semantics: a 1-D A is a row vector, a 1-D B a column vector; both dims are dropped after.
    std::vector<int64_t> as = a.shape, bs = b.shape;
    if (as.size() == 1)
        as.insert(as.begin(), 1);
    if (bs.size() == 1)
        bs.push_back(1);
    const int64_t m = as[as.size() - 2], k = as.back(), kb = bs[bs.size() - 2], nOut = bs.back();
    if (k != kb)
        throw Error(nodeSubject(n),
                    "inner dimensions differ: " + shapeToString(a.shape) + " x " + shapeToString(b.shape));
    const std::vector<int64_t> aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
    const std::size_t batchRank = std::max(aBatch.size(), bBatch.size());
    std::vector<int64_t> batch(batchRank);
    for (std::size_t i = 0; i < batchRank; ++i) {
        const int64_t da = i < batchRank - aBatch.size() ? 1 : aBatch[i - (batchRank - aBatch.size())];
        const int64_t db = i < batchRank - bBatch.size() ? 1 : bBatch[i - (batchRank - bBatch.size())];
        if (da != db && da != 1 && db != 1)
            throw Error(nodeSubject(n), "batch dimensions of " + shapeToString(a.shape) + " and " +
                                            shapeToString(b.shape) + " do not broadcast");
        batch[i] = da == 1 ? db : da;
    }
    Value y;
    y.shape = batch;
    if (a.rank() > 1)
        y.shape.push_back(m);
    if (b.rank() > 1)
        y.shape.push_back(nOut);
    const int64_t batchCount = checkedProduct(n, batch);
    y.data.assign(static_cast<std::size_t>(checkedProduct(n, {batchCount, m, nOut})), 0.0f);
    if (m == 0 || nOut == 0 || k == 0 || batchCount == 0)
        return single(std::move(y));
    checkBlasDimensions(n, {m, nOut, k});

    if (bBatch.empty() || elementCount(bBatch) == 1) {
        // One B for every batch: all rows of A (contiguous) in a single sgemm.
        const int64_t rows = checkedProduct(n, {checkedProduct(n, aBatch), m});
        if (rows <= INT_MAX && rows * nOut == static_cast<int64_t>(y.data.size())) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
                        static_cast<int>(nOut), static_cast<int>(k), 1.0f, a.data.data(), static_cast<int>(k),
                        b.data.data(), static_cast<int>(nOut), 0.0f, y.data.data(), static_cast<int>(nOut));
            return single(std::move(y));
        }
    }
    std::vector<int64_t> index(batchRank, 0);
    for (int64_t t = 0; t < batchCount; ++t) {
        int64_t offA = 0, offB = 0, strideA = 1, strideB = 1;
        for (int64_t d = static_cast<int64_t>(batchRank) - 1; d >= 0; --d) {
            const std::size_t ia = static_cast<std::size_t>(d) - (batchRank - aBatch.size());
            const std::size_t ib = static_cast<std::size_t>(d) - (batchRank - bBatch.size());
            if (static_cast<std::size_t>(d) >= batchRank - aBatch.size()) {
                offA += (aBatch[ia] == 1 ? 0 : index[d]) * strideA;
                strideA *= aBatch[ia];
            }
            if (static_cast<std::size_t>(d) >= batchRank - bBatch.size()) {
                offB += (bBatch[ib] == 1 ? 0 : index[d]) * strideB;
                strideB *= bBatch[ib];
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(nOut),
                    static_cast<int>(k), 1.0f, a.data.data() + offA * m * k, static_cast<int>(k),
                    b.data.data() + offB * k * nOut, static_cast<int>(nOut), 0.0f,
                    y.data.data() + t * m * nOut, static_cast<int>(nOut));
        for (int64_t d = static_cast<int64_t>(batchRank) - 1; d >= 0; --d) {
            if (++index[d] < batch[d])
                break;
            index[d] = 0;
        }
    }
    return single(std::move(y));
}

} // namespace

void addLinearOps(OpTable& t) {
    t.push_back({"Gemm", 7, 21, gemm});
    t.push_back({"MatMul", 7, 21, matMul});
}

} // namespace quantscope::ops
