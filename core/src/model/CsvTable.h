#pragma once

// Internal to core: a numeric CSV table (samples and labels files).

#include <string>
#include <vector>

namespace quantscope {

struct CsvTable {
    std::vector<std::string> header; // empty when the first row is numeric
    std::vector<std::vector<double>> rows;

    // Comma-separated values, one record per line; blank lines are skipped; the first row is a
    // header when any of its fields is not a number. Every row must have the same column count.
    // Throws Error naming the file and line.
    static CsvTable read(const std::string& path);

    // The index of a column given by header name or 0-based number; throws Error naming the file.
    std::size_t columnIndex(const std::string& column, const std::string& path) const;
};

} // namespace quantscope
