#include "quantscope/kernels/Reference.h"

namespace quantscope::kernels {

namespace reference {
void gemmInt32(const uint8_t* a, int m, int k, int32_t za, const int8_t* w, int n, int32_t zw, int32_t* c) {
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            int64_t sum = 0;
            for (int kk = 0; kk < k; ++kk)
                sum += (static_cast<int64_t>(a[static_cast<size_t>(i) * k + kk]) - za) *
                       (static_cast<int64_t>(w[static_cast<size_t>(j) * k + kk]) - zw);
            c[static_cast<size_t>(i) * n + j] = static_cast<int32_t>(sum);
        }
}
} // namespace reference

} // namespace quantscope::kernels
