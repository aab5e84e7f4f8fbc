#include "CommandLine.h"

#include "quantscope/Error.h"

#include <charconv>
#include <cmath>

namespace quantscope::cli {

CommandLine::CommandLine(const std::vector<std::string>& arguments, const std::vector<OptionSpec>& options) {
    auto findOption = [&](const std::string& name) -> const OptionSpec* {
        for (const auto& option : options)
            if (option.name == name)
                return &option;
        return nullptr;
    };
    bool onlyPositionals = false;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (onlyPositionals || argument.size() < 2 || argument[0] != '-' || argument == "-") {
            m_positionals.push_back(argument);
            continue;
        }
        if (argument == "--") {
            onlyPositionals = true;
            continue;
        }
        std::string name = argument;
        std::optional<std::string> inlineValue;
        if (const auto equals = argument.find('='); equals != std::string::npos) {
            name = argument.substr(0, equals);
            inlineValue = argument.substr(equals + 1);
        }
        const OptionSpec* option = findOption(name);
        if (!option)
            throw UsageError("unknown option '" + name + "'");
        std::string value;
        if (option->takesValue) {
            if (inlineValue) {
                value = *inlineValue;
            } else {
                if (i + 1 >= arguments.size())
                    throw UsageError("option '" + name + "' needs a value");
                value = arguments[++i];
            }
        } else if (inlineValue) {
            throw UsageError("option '" + name + "' takes no value");
        }
        auto& list = m_values[name];
        if (!list.empty() && !option->repeatable)
            throw UsageError("option '" + name + "' given more than once");
        list.push_back(value);
    }
}

std::optional<std::string> CommandLine::value(const std::string& name) const {
    const auto it = m_values.find(name);
    if (it == m_values.end() || it->second.empty())
        return std::nullopt;
    return it->second.back();
}

std::vector<std::string> CommandLine::values(const std::string& name) const {
    const auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

int64_t CommandLine::integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
    const auto text = value(name);
    if (!text)
        return fallback;
    int64_t result = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), result);
    const std::string range = " (allowed: " + std::to_string(min) + ".." + std::to_string(max) + ")";
    if (text->empty() || ec != std::errc() || end != text->data() + text->size())
        throw Error(name, "'" + *text + "' is not a whole number" + range);
    if (result < min || result > max)
        throw Error(name, std::to_string(result) + " is out of range" + range);
    return result;
}

double CommandLine::number(const std::string& name, double fallback) const {
    const auto text = value(name);
    if (!text)
        return fallback;
    std::size_t used = 0;
    double result = 0.0;
    try {
        result = std::stod(*text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text->empty() || used != text->size() || !std::isfinite(result))
        throw Error(name, "'" + *text + "' is not a number");
    return result;
}

std::vector<OptionSpec> withSharedOptions(std::vector<OptionSpec> own,
                                          std::initializer_list<std::vector<OptionSpec>> shared) {
    for (const auto& group : shared)
        own.insert(own.end(), group.begin(), group.end());
    own.push_back({"--help", false, false, "show this help"});
    return own;
}

std::string helpText(const std::string& usage, const std::vector<OptionSpec>& options) {
    std::string text = "usage: " + usage + "\n";
    if (!options.empty())
        text += "\noptions:\n";
    for (const auto& option : options) {
        std::string left = "  " + option.name + (option.takesValue ? " VALUE" : "");
        if (left.size() < 28)
            left.resize(28, ' ');
        else
            left += "  ";
        text += left + option.help + "\n";
    }
    return text;
}

} // namespace quantscope::cli
