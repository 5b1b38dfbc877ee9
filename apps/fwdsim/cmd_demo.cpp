// fwdsim demo: the main demonstration -- the headline comparison
// (examples/scenarios/headline.yaml, compiled in): a level-triggered
// vfio-platform device from 1 k/s to past saturation under userspace, irqfd
// and forwarded delivery, run in parallel and printed as one table.  With
// --steps it also prints, for each mode at 1 k/s, the path from the device
// raising its line to the guest's IAR as the primitives it is made of
// (scenario::path_steps, by perturbation), and checks that they add up to
// the latency the table reports, to the cycle.
#include "batch.h"
#include "cli.h"
#include "commands.h"

#include <fwdsim/scenario/path_steps.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

extern const char* const fwdsim_headline_scenario;

namespace fwdsim::app {

namespace {

/// The per-step tables of the 1 k/s points; 1 when a path's steps do not
/// add up to what the demo's table reported for it.
int print_steps(const std::vector<scenario::SweepPoint>& points, const std::vector<scenario::RunResult>& runs)
{
    int rc = 0;
    fmt::print("\nThe path of each mode at 1 k/s, device assert -> guest IAR, as the primitives it is\n"
               "made of: raise one by a cycle and the latency moves by its count on the path.  The\n"
               "interrupts come every 1 ms exactly here (periodic), so each takes the path of an\n"
               "interrupt alone -- the one the Poisson sweep's p50 shows (fwdsim demo --steps).\n");
    for (std::size_t k = 0; k < points.size(); ++k) {
        scenario::ScenarioConfig c = points[k].config;
        auto& traffic = c.devices.at(0).irqs.at(0).traffic;
        if (traffic.rate_per_s != 1000) continue;
        traffic.kind = scenario::TrafficConfig::Kind::periodic;
        traffic.jitter_us = 0;
        const scenario::PathSteps p = scenario::path_steps(c, scenario::load_profile(c), scenario::PathMetric::to_ack, 1);
        const std::uint64_t reported = scenario::run_scenario(c).irqs.at(0).to_ack.min();
        fmt::print("\n### {}: {} cycles (the sweep's point {}: p50 {})\n\n", p.delivery, reported, k,
                   runs.at(k).irqs.at(0).to_ack.percentile(50));
        fmt::print("| primitive | on the path | cycles | total |\n|---|---:|---:|---:|\n");
        for (const scenario::PathStep& s : p.steps)
            fmt::print("| `{}` | {} | {} | {} |\n", s.primitive, s.count, s.cycles, s.count * static_cast<std::int64_t>(s.cycles));
        const bool exact = p.sum == static_cast<std::int64_t>(reported) && p.latency == reported;
        fmt::print("| **sum** | | | **{}** |\n\n{}\n", p.sum,
                   exact ? fmt::format("The steps add up to the {} cycles the table reports.", reported)
                         : fmt::format("MISMATCH: the steps add up to {}, the table reports {}.", p.sum, reported));
        if (!exact) rc = 1;
    }
    return rc;
}

} // namespace

int demo_main(int argc, char** argv)
{
    std::string csv;
    bool steps = false;
    unsigned jobs = 0;
    CLI::App app("Runs the headline comparison (examples/scenarios/headline.yaml, built in): one\n"
                 "level-triggered vfio-platform device at 1 k/s to 400 k/s under userspace, irqfd and\n"
                 "forwarded delivery, and prints one row per rate and mode.",
                 "fwdsim demo");
    app.add_option("--csv", csv, "also write the results as CSV (for scripts/plot.sh)")->type_name("FILE");
    app.add_flag("--steps", steps,
                 "add, per mode at 1 k/s, the primitives the assert -> guest IAR path is made of (found by "
                 "raising each by 1000 cycles) and check they add up to the latency reported");
    add_number<unsigned>(app, "--jobs", "N",
                         "threads (default: the CPUs this process may use, here " + std::to_string(usable_cpus().cpus) +
                             "); results do not depend on it",
                         [&jobs](unsigned v) { jobs = v; })
        ->envname("FWDSIM_JOBS");
    app.footer("The same grid from the file: fwdsim sweep examples/scenarios/headline.yaml");
    if (const int st = parse_cli(app, "demo", argc, argv); st >= 0) return st;
    if (jobs == 0) jobs = usable_cpus().cpus;
    try {
        const auto points = scenario::expand_sweep(fwdsim_headline_scenario, "headline.yaml (built in)");
        const auto runs = scenario::run_points(points, [](const scenario::SweepPoint& p) {
            scenario::RunResult r = scenario::run_scenario(p.config);
            r.point = p.index;
            r.params = p.params;
            return r;
        }, std::min(jobs, 1024u));
        fmt::print("fwdsim demo: the headline comparison -- one level-triggered vfio-platform device,\n"
                   "interrupt rate swept under userspace, irqfd and forwarded delivery\n\n");
        scenario::write_table(std::cout, runs);
        if (!csv.empty()) {
            std::ofstream out(csv);
            scenario::write_csv(out, runs);
            if (!out) throw sim::ConfigError(csv, 0, "--csv", "cannot write");
        }
        if (steps) return print_steps(points, runs);
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim demo: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
