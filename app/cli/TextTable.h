#pragma once

#include <string>
#include <vector>

namespace quantscope::cli {

// A plain text table with aligned columns, for the human-readable output of the subcommands.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : m_header(std::move(header)) {}
    void addRow(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
    // Columns listed in rightAligned are numbers and align to the right.
    std::string render(const std::vector<bool>& rightAligned = {}) const;

private:
    std::vector<std::string> m_header;
    std::vector<std::vector<std::string>> m_rows;
};

std::string formatNumber(double value, int significant = 4);

} // namespace quantscope::cli
