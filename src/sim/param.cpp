// One configuration key's range, in words and as a check.  See
// include/fwdsim/sim/param.h.
#include <fwdsim/sim/param.h>

#include <fmt/format.h>

#include <cmath>

namespace fwdsim::sim {

std::string param_number(double value)
{
    if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value < 0 ? "-inf" : "inf");
    if (value == std::floor(value) && std::fabs(value) < 0x1p63) {
        int exp = 0;
        if (value >= 0x1p32 && std::frexp(value, &exp) == 0.5) return fmt::format("2^{}", exp - 1);
        return fmt::format("{}", static_cast<long long>(value));
    }
    return fmt::format("{:g}", value);
}

std::string Param::range() const
{
    if (!ranged) return {};
    std::string span;
    if (std::isinf(max)) {
        span = fmt::format("{} {}", above_min ? "above" : "at least", param_number(min));
    } else {
        span = fmt::format("{}{}..{}", above_min ? "above " : "", param_number(min), param_number(max));
    }
    if (multiple_of > 1) {
        span = fmt::format("a multiple of {} in {}", multiple_of, span);
        if (exception >= 0) span += fmt::format(", or {}", param_number(exception));
    }
    return span;
}

std::string Param::problem(double value) const
{
    if (!ranged) return {};
    const bool in = std::isfinite(value) && (above_min ? value > min : value >= min) && value <= max &&
                    (multiple_of <= 1 || value == exception || std::fmod(value, multiple_of) == 0);
    if (in) return {};
    std::string why = "must be " + range();
    if (!note.empty()) why += fmt::format(" ({})", note);
    return why + ", got " + param_number(value);
}

} // namespace fwdsim::sim
