// fwdsim profile [FILE]: lists a cost profile's primitives.
#include "cli.h"

#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>

#include <fmt/format.h>

#include <string>

namespace fwdsim::app {

int profile_main(int argc, char** argv)
{
    std::string file;
    CLI::App app("Lists every primitive cost of a profile with its cycles, the range it may lie in and its\n"
                 "evidence class (verified, recalled, derived, estimate; '*' marks a range the profile\n"
                 "states, the others are the class's default), description and source.",
                 "fwdsim profile");
    app.add_option("FILE", file, "a profile file (default: the built-in profiles/default.profile)");
    if (const int st = parse_cli(app, "profile", argc, argv); st >= 0) return st;
    try {
        const sim::CostProfile profile =
            !file.empty() ? sim::CostProfile::load(file) : sim::CostProfile::builtin_default();
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
