#include "quantscope/calib/OrderStatistic.h"

#include "quantscope/Cancellation.h"

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace quantscope {
namespace {

constexpr std::size_t kBuckets = std::size_t{1} << 16;

// Unsigned keys in the floats' order: negative values have every bit flipped (larger magnitude,
// smaller key), non-negative ones get the sign bit set so they sort above all negatives.
uint32_t orderedKey(float value) {
    const auto bits = std::bit_cast<uint32_t>(value + 0.0f); // -0 becomes +0
    return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

float valueOfKey(uint32_t key) {
    return std::bit_cast<float>((key & 0x80000000u) != 0 ? key & 0x7fffffffu : ~key);
}

// The bucket holding `rank` and the rank left inside it.
std::size_t bucketOfRank(const std::vector<std::size_t>& counts, std::size_t& rank) {
    for (std::size_t bucket = 0; bucket < counts.size(); ++bucket) {
        if (rank < counts[bucket])
            return bucket;
        rank -= counts[bucket];
    }
    return counts.size() - 1; // not reached when rank < the number of values counted
}

} // namespace

float orderStatistic(std::span<const float> values, std::size_t rank) {
    std::vector<std::size_t> counts(kBuckets, 0);
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float value : slice)
            ++counts[orderedKey(value) >> 16];
    });
    const auto high = static_cast<uint32_t>(bucketOfRank(counts, rank));

    std::fill(counts.begin(), counts.end(), 0);
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float value : slice) {
            const uint32_t key = orderedKey(value);
            if ((key >> 16) == high)
                ++counts[key & 0xffffu];
        }
    });
    const auto low = static_cast<uint32_t>(bucketOfRank(counts, rank));
    return valueOfKey((high << 16) | low);
}

} // namespace quantscope
