// fwdsim profile [FILE]: lists a cost profile's primitives.
#include "commands.h"

#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>

#include <fmt/format.h>

#include <string_view>

namespace fwdsim::app {

int profile_main(int argc, char** argv)
{
    if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        fmt::print("usage: fwdsim profile [FILE]\n\nLists every primitive cost of a profile (default: the built-in\n"
                   "profiles/default.profile) with its cycles, the range it may lie in and its\n"
                   "evidence class (verified, recalled, derived, estimate; '*' marks a range the\n"
                   "profile states, the others are the class's default), description and source.\n");
        return 0;
    }
    try {
        const sim::CostProfile profile =
            argc > 1 ? sim::CostProfile::load(argv[1]) : sim::CostProfile::builtin_default();
        fmt::print("profile {} ({} primitives, digest {:016x})\n", profile.name(), profile.entries().size(),
                   profile.digest());
        for (const auto& [key, e] : profile.entries()) {
            fmt::print("  {:<36} {:>8}  {:>8}..{:<8}{} {:<8}  {}  [{}]\n", key, e.cycles.count(), e.low.count(),
                       e.high.count(), e.range_given ? '*' : ' ', sim::evidence_name(e.evidence), e.description,
                       e.source);
        }
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim profile: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
