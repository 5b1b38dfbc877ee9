// fwdsim demo: the main demonstration -- the headline comparison
// (examples/scenarios/headline.yaml, compiled in): a level-triggered
// vfio-platform device from 1 k/s to past saturation under userspace, irqfd
// and forwarded delivery, run in parallel and printed as one table.
#include "commands.h"

#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

extern const char* const fwdsim_headline_scenario;

namespace fwdsim::app {

int demo_main(int argc, char** argv)
{
    std::string csv;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            fmt::print("usage: fwdsim demo [--csv FILE]\n\n"
                       "Runs the headline comparison (examples/scenarios/headline.yaml, built in):\n"
                       "one level-triggered vfio-platform device at 1 k/s to 400 k/s under userspace,\n"
                       "irqfd and forwarded delivery, and prints one row per rate and mode.\n"
                       "--csv FILE also writes the results for scripts/plot.sh.  The same grid from\n"
                       "the file: fwdsim sweep examples/scenarios/headline.yaml\n");
            return 0;
        }
        if (a == "--csv" && i + 1 < argc) {
            csv = argv[++i];
        } else {
            fmt::print(stderr, "fwdsim demo: unknown option '{}' (see --help)\n", a);
            return 2;
        }
    }
    try {
        const auto points = scenario::expand_sweep(fwdsim_headline_scenario, "headline.yaml (built in)");
        const auto runs = scenario::run_points(points, [](const scenario::SweepPoint& p) {
            scenario::RunResult r = scenario::run_scenario(p.config);
            r.point = p.index;
            r.params = p.params;
            return r;
        });
        fmt::print("fwdsim demo: the headline comparison -- one level-triggered vfio-platform device,\n"
                   "interrupt rate swept under userspace, irqfd and forwarded delivery\n\n");
        scenario::write_table(std::cout, runs);
        if (!csv.empty()) {
            std::ofstream out(csv);
            scenario::write_csv(out, runs);
            if (!out) throw sim::ConfigError(csv, 0, "--csv", "cannot write");
        }
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim demo: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
