// Reading numbers from text: the one parser every front end's numbers go
// through (the gic-script and vmm-script commands, cost profiles, scenario
// paths, the vmm-script machine's options), so "12", "0x1f" and what is
// refused mean the same everywhere.  The whole text must be the number: no
// sign, no blanks, no trailing characters, nothing above 2^64 - 1.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fwdsim::sim {

/// `text` as an unsigned decimal number.
std::optional<std::uint64_t> parse_decimal(std::string_view text);
/// `text` as an unsigned decimal number, or hexadecimal after "0x" / "0X".
std::optional<std::uint64_t> parse_unsigned(std::string_view text);

} // namespace fwdsim::sim
