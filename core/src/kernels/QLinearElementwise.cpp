#include "quantscope/kernels/QLinearElementwise.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <cmath>
#include <string>

namespace quantscope::kernels {

void lookupU8(const KernelTable& path, const uint8_t* table, const uint8_t* x, size_t count, uint8_t* y) {
    if (!table || (count && (!x || !y)))
        throw Error("u8 lookup table", "the table, input and output must be given");
    KernelRegistry::provider(path, &KernelTable::lookupU8).lookupU8(table, x, count, y);
}

namespace {
void binary(const KernelTable& path, const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
            const QLinearBinaryParams& p, bool mul, uint8_t* y) {
    const char* subject = mul ? "QLinearMul" : "QLinearAdd";
    if (count && (!a || !b || !y))
        throw Error(subject, "inputs and output must be given");
    for (float scale : {p.scaleA, p.scaleB, p.scaleC})
        if (!(scale > 0.0f) || !std::isfinite(scale))
            throw Error(subject, "scales must be positive and finite, got " + std::to_string(scale));
    for (int32_t zeroPoint : {p.zeroA, p.zeroB, p.zeroC})
        if (zeroPoint < 0 || zeroPoint > 255)
            throw Error(subject, "zero point " + std::to_string(zeroPoint) + " is outside [0, 255]");
    const float scales[3] = {p.scaleA, p.scaleB, p.scaleC};
    const int32_t zeroPoints[3] = {p.zeroA, p.zeroB, p.zeroC};
    KernelRegistry::provider(path, &KernelTable::qlinearBinaryU8)
        .qlinearBinaryU8(a, b, bIsScalar, count, scales, zeroPoints, mul, y);
}
} // namespace

void qlinearAddU8(const KernelTable& path, const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                  const QLinearBinaryParams& params, uint8_t* y) {
    binary(path, a, b, bIsScalar, count, params, false, y);
}

void qlinearMulU8(const KernelTable& path, const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                  const QLinearBinaryParams& params, uint8_t* y) {
    binary(path, a, b, bIsScalar, count, params, true, y);
}

} // namespace quantscope::kernels
