// Reading numbers from text.  See include/fwdsim/sim/number.h.
#include <fwdsim/sim/number.h>

#include <charconv>

namespace fwdsim::sim {

namespace {

std::optional<std::uint64_t> parse(std::string_view text, int base)
{
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n, base);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return n;
}

} // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) { return parse(text, 10); }

std::optional<std::uint64_t> parse_unsigned(std::string_view text)
{
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) return parse(text.substr(2), 16);
    return parse(text, 10);
}

} // namespace fwdsim::sim
