#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace quantscope {

// Time spent per op type over Executor runs, for benchmarks (`quantscope-cli bench-model
// --profile`). Off unless one is installed with setActive: then Executor::run times every node,
// quantized replacements included, and adds the time under the node's op type.
class OpProfile {
public:
    struct Entry {
        std::string opType;
        double seconds = 0.0;
        int64_t calls = 0;
    };

    void add(const std::string& opType, double seconds);
    void clear();
    // Every op type seen, the most time first.
    std::vector<Entry> entries() const;
    double totalSeconds() const;

    // The profile Executor::run records into (null: none, the default). The caller keeps it alive
    // until it uninstalls it.
    static OpProfile* active();
    static void setActive(OpProfile* profile);

private:
    mutable std::mutex m_mutex; // runs on several threads may share one profile
    std::map<std::string, Entry> m_entries;
};

} // namespace quantscope
