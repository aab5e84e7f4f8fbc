#include "quantscope/kernels/FixedPointMultiplier.h"

#include "quantscope/Error.h"

#include <cmath>
#include <string>

namespace quantscope::kernels {

// gemmlowp's QuantizeMultiplier (also TFLite's QuantizeMultiplier): real = q * 2^shift with
// q in [0.5, 1), q stored as round(q * 2^31).
FixedPointMultiplier::FixedPointMultiplier(double real) {
    if (!std::isfinite(real) || real < 0.0 || real >= 65536.0)
        throw Error("requantization multiplier",
                    "must be finite and in [0, 65536), got " + std::to_string(real));
    if (real == 0.0)
        return;
    int exponent = 0;
    const double fraction = std::frexp(real, &exponent);
    int64_t fixed = std::llround(fraction * 2147483648.0);
    if (fixed == (int64_t{1} << 31)) {
        fixed /= 2;
        ++exponent;
    }
    if (exponent < -31) { // smaller than 2^-32: every int32 maps to 0 or +-1; keep it representable
        exponent = -31;
        fixed = 0;
    }
    m_multiplier = static_cast<int32_t>(fixed);
    m_shift = exponent;
}

double FixedPointMultiplier::real() const {
    return std::ldexp(static_cast<double>(m_multiplier) / 2147483648.0, m_shift);
}

} // namespace quantscope::kernels
