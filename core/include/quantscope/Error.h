#pragma once

#include <stdexcept>
#include <string>

namespace quantscope {

// An error a person can act on. `subject` names what is wrong (a file, a tensor, an option such as
// "--bits"); `detail` says what is wrong with it, with the allowed range where there is one.
// what() is "subject: detail", the form the CLI prints after "quantscope-cli: error: ".
class Error : public std::runtime_error {
public:
    Error(std::string subject, std::string detail);

    const std::string& subject() const noexcept { return m_subject; }
    const std::string& detail() const noexcept { return m_detail; }

private:
    std::string m_subject;
    std::string m_detail;
};

// Thrown when a progress callback asked long work to stop.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace quantscope
