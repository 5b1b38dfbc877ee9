// Fuzz target: the cost-profile reader (with its evidence and range field)
// and the scenario's `compare` lines.  Any input is either read -- and then
// every entry's range contains its value -- or refused with a ConfigError;
// never a crash, a sanitizer report or another exception.
#include <fwdsim/scenario/comparison.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const auto p = fwdsim::sim::CostProfile::parse(text, "fuzz.profile");
        for (const auto& [key, e] : p.entries()) {
            if (e.low > e.cycles || e.high < e.cycles) std::abort();
        }
    } catch (const fwdsim::sim::ConfigError&) {
    }
    try {
        const auto c = fwdsim::scenario::parse_comparison(text, "fuzz.yaml", 1, 0);
        if (c.lhs == c.rhs || !(c.lhs_factor > 0) || !(c.rhs_factor > 0)) std::abort();
    } catch (const fwdsim::sim::ConfigError&) {
    }
    return 0;
}
