#include "quantscope/model/OpProfile.h"

#include <algorithm>
#include <atomic>

namespace quantscope {
namespace {
std::atomic<OpProfile*> g_active{nullptr};
} // namespace

void OpProfile::add(const std::string& opType, double seconds) {
    const std::lock_guard lock(m_mutex);
    Entry& entry = m_entries[opType];
    entry.opType = opType;
    entry.seconds += seconds;
    ++entry.calls;
}

void OpProfile::clear() {
    const std::lock_guard lock(m_mutex);
    m_entries.clear();
}

std::vector<OpProfile::Entry> OpProfile::entries() const {
    std::vector<Entry> result;
    {
        const std::lock_guard lock(m_mutex);
        for (const auto& [op, entry] : m_entries)
            result.push_back(entry);
    }
    std::sort(result.begin(), result.end(),
              [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
    return result;
}

double OpProfile::totalSeconds() const {
    const std::lock_guard lock(m_mutex);
    double total = 0.0;
    for (const auto& [op, entry] : m_entries)
        total += entry.seconds;
    return total;
}

OpProfile* OpProfile::active() {
    return g_active.load(std::memory_order_acquire);
}

void OpProfile::setActive(OpProfile* profile) {
    g_active.store(profile, std::memory_order_release);
}

} // namespace quantscope
