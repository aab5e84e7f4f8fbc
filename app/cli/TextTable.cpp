#include "TextTable.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace quantscope::cli {

std::string TextTable::render(const std::vector<bool>& rightAligned) const {
    std::vector<std::size_t> widths(m_header.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], row[c].size());
    };
    measure(m_header);
    for (const auto& row : m_rows)
        measure(row);
    auto line = [&](const std::vector<std::string>& row) {
        std::string text;
        for (std::size_t c = 0; c < widths.size(); ++c) {
            const std::string cell = c < row.size() ? row[c] : "";
            const std::string pad(widths[c] - cell.size(), ' ');
            const bool right = c < rightAligned.size() && rightAligned[c];
            text += right ? pad + cell : cell + pad;
            if (c + 1 < widths.size())
                text += "  ";
        }
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
        return text + "\n";
    };
    std::string text = line(m_header);
    for (const auto& row : m_rows)
        text += line(row);
    return text;
}

std::string formatNumber(double value, int significant) {
    if (std::isnan(value))
        return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
    return buffer;
}

} // namespace quantscope::cli
