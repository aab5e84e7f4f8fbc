#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <memory>
#include <span>

namespace quantscope {

// Watches values (one call per batch) and chooses the clipping range for one block.
// Non-finite values are counted and never enter the range. With nothing finite observed the
// range is {0, 0}, which quantizes to finite parameters.
class Observer {
public:
    explicit Observer(const QuantSpec& spec) : m_spec(spec) {}
    virtual ~Observer() = default;
    Observer(const Observer&) = delete;
    Observer& operator=(const Observer&) = delete;

    void observe(std::span<const float> values);
    virtual Range range() const = 0;

    int64_t finiteCount() const { return m_finite; }
    int64_t nonfiniteCount() const { return m_nonfinite; }
    const QuantSpec& spec() const { return m_spec; }

    // Whether range() for `spec` can come from what this observer has already seen (the same
    // method, collecting the same statistic), so new settings need no second look at the data.
    virtual bool canServe(const QuantSpec& spec) const { return spec.calib == m_spec.calib; }
    // Answers range() for `spec` from now on; canServe(spec) must hold.
    void serve(const QuantSpec& spec) { m_spec = spec; }

protected:
    // Receives only the finite values of a batch (never empty).
    virtual void observeFinite(std::span<const float> values) = 0;
    // Observes a whole batch, non-finite values included, and returns how many values were not
    // finite. The default counts them, filters them out when there are any and hands the rest to
    // observeFinite; an observer that can skip them while it reads the batch overrides this to
    // read the batch once instead of twice.
    virtual std::size_t observeAll(std::span<const float> values);

private:
    QuantSpec m_spec;
    int64_t m_finite = 0;
    int64_t m_nonfinite = 0;
};

// The observer for spec.calib, configured from spec (bits, scheme, percentile, EMA constant).
std::unique_ptr<Observer> makeObserver(const QuantSpec& spec);

// Per-tensor parameters of `spec` for the range `observer` chose, that range kept as the
// parameters' min / max (as activation entries record it).
QParams observedParams(const Observer& observer, const QuantSpec& spec);

} // namespace quantscope
