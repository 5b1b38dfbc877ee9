// ConfigError: a problem in user-supplied configuration, located precisely.
//
// Where an interface is fwdsim's own (a scenario file, a cost profile, a
// script line), bad input is reported with the file, the line and the
// field that is wrong, so the user can fix it without reading our code.
#pragma once

#include <stdexcept>
#include <string>

namespace fwdsim::sim {

class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string origin, int line, std::string field, const std::string& what)
        : std::runtime_error(origin + ":" + std::to_string(line) + ": " + field + ": " + what),
          origin_(std::move(origin)), line_(line), field_(std::move(field)), message_(what)
    {
    }
    const std::string& origin() const { return origin_; }
    int line() const { return line_; }
    const std::string& field() const { return field_; }
    /// The complaint alone, without origin, line and field.
    const std::string& message() const { return message_; }

private:
    std::string origin_;
    int line_;
    std::string field_;
    std::string message_;
};

} // namespace fwdsim::sim
