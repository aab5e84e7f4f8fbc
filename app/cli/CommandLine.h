#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace quantscope::cli {

// A mistake in how the command was called: exit code 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name; // "--tensor"
    bool takesValue = true;
    bool repeatable = false;
    std::string help; // one line for --help
};

// The arguments of one subcommand: options (as "--name value" or "--name=value") and positionals.
// Unknown options, missing values and repeated single options are usage errors.
class CommandLine {
public:
    CommandLine(const std::vector<std::string>& arguments, const std::vector<OptionSpec>& options);

    const std::vector<std::string>& positionals() const { return m_positionals; }
    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;

    // Typed values, checked against [min, max]; the message names the option and the range.
    int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
    double number(const std::string& name, double fallback) const;

private:
    std::vector<std::string> m_positionals;
    std::map<std::string, std::vector<std::string>> m_values;
};

// A subcommand's own options followed by the shared groups it accepts (the Q options, the model
// options) and --help, in that order, as --help lists them.
std::vector<OptionSpec> withSharedOptions(std::vector<OptionSpec> own,
                                          std::initializer_list<std::vector<OptionSpec>> shared = {});

std::string helpText(const std::string& usage, const std::vector<OptionSpec>& options);

} // namespace quantscope::cli
