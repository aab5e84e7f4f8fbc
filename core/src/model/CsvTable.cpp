#include "model/CsvTable.h"

#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <charconv>
#include <optional>
#include <sstream>

namespace quantscope {
namespace {

std::string trim(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t\r\"");
    if (begin == std::string::npos)
        return {};
    const auto end = text.find_last_not_of(" \t\r\"");
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> splitFields(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
        const auto comma = line.find(',', start);
        fields.push_back(
            trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return fields;
}

std::optional<double> parseNumber(const std::string& field) {
    double value = 0.0;
    const char* begin = field.data();
    if (!field.empty() && field[0] == '+')
        ++begin;
    const auto [end, ec] = std::from_chars(begin, field.data() + field.size(), value);
    if (ec != std::errc() || end != field.data() + field.size() || field.empty())
        return std::nullopt;
    return value;
}

} // namespace

CsvTable CsvTable::read(const std::string& path) {
    constexpr uint64_t kMaxCsvBytes = uint64_t{1} << 30;
    std::istringstream in(ReadOnlyFile::readAll(path, kMaxCsvBytes));
    CsvTable table;
    std::string line;
    int64_t lineNumber = 0;
    std::size_t columns = 0;
    while (std::getline(in, line)) {
        ++lineNumber;
        if (trim(line).empty())
            continue;
        const auto fields = splitFields(line);
        std::vector<double> row;
        row.reserve(fields.size());
        bool numeric = true;
        for (const auto& field : fields) {
            const auto value = parseNumber(field);
            if (!value) {
                numeric = false;
                break;
            }
            row.push_back(*value);
        }
        if (!numeric) {
            if (table.rows.empty() && table.header.empty()) {
                table.header = fields;
                columns = fields.size();
                continue;
            }
            throw Error(path, "line " + std::to_string(lineNumber) + " holds a field that is not a number");
        }
        if (columns == 0)
            columns = row.size();
        if (row.size() != columns)
            throw Error(path, "line " + std::to_string(lineNumber) + " has " + std::to_string(row.size()) +
                                  " fields, expected " + std::to_string(columns));
        table.rows.push_back(std::move(row));
    }
    if (in.bad())
        throw Error(path, "read failed");
    return table;
}

std::size_t CsvTable::columnIndex(const std::string& column, const std::string& path) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == column)
            return i;
    }
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(column.data(), column.data() + column.size(), index);
    const std::size_t count = rows.empty() ? header.size() : rows[0].size();
    if (ec == std::errc() && end == column.data() + column.size() && index < count)
        return index;
    throw Error(path, "no column '" + column + "' (give a header name or an index 0.." +
                          std::to_string(count == 0 ? 0 : count - 1) + ")");
}

} // namespace quantscope
