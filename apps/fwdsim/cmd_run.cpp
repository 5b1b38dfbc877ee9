// fwdsim run / fwdsim sweep: run one scenario, or the grid of its sweep
// section (in parallel, or one shard of it), print the table and write the
// result files.
#include "commands.h"

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace fwdsim::app {
namespace {

struct Options {
    std::string file;
    std::string json, csv, trace;
    std::optional<std::uint64_t> seed;
    std::optional<double> duration_us;
    unsigned jobs = 0;
    std::string shard;
    bool quiet = false;
};

void usage(bool sweep)
{
    fmt::print("usage: fwdsim {} FILE [options]\n\n", sweep ? "sweep" : "run");
    if (sweep) {
        fmt::print("Runs every point of FILE's `sweep` grid (in parallel on local cores) and prints\n"
                   "one table row per point and interrupt.\n\n");
    } else {
        fmt::print("Runs the scenario in FILE once (its `sweep` section is ignored) and prints a\n"
                   "table of what each device interrupt measured.\n\n");
    }
    fmt::print("options:\n"
               "  --json FILE        write results as JSON Lines (default: the scenario's outputs.json)\n"
               "  --csv FILE         write results as CSV (default: the scenario's outputs.csv)\n"
               "  --seed N           override the scenario's seed\n"
               "  --duration-us US   override the scenario's duration\n"
               "  --quiet            print no table\n");
    if (sweep) {
        fmt::print("  --jobs N           threads to use (default: one per core)\n"
                   "  --shard I/N        run only slice I of N (for cluster job arrays; join with\n"
                   "                     `fwdsim merge`)\n"
                   "A progress bar is drawn on stderr when it is a terminal.\n");
    } else {
        fmt::print("  --trace FILE       write a Chrome/Perfetto trace (open in ui.perfetto.dev)\n");
    }
}

int parse(int argc, char** argv, bool sweep, Options& o)
{
    const char* cmd = sweep ? "sweep" : "run";
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(sweep);
            return 0;
        }
        // An option's value, or nullopt after telling stderr what is missing.
        auto value = [&](const char* what) -> std::optional<std::string> {
            if (i + 1 >= argc) {
                fmt::print(stderr, "fwdsim {}: {} needs {}\n", cmd, a, what);
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        auto number = [&]<class T>(T& out) -> bool {
            const std::optional<std::string> s = value("a number");
            if (!s) return false;
            if (parse_number(*s, out)) return true;
            fmt::print(stderr, "fwdsim {}: {} needs a number, not '{}'\n", cmd, a, *s);
            return false;
        };
        auto text = [&](const char* what, std::string& out) -> bool {
            const std::optional<std::string> s = value(what);
            if (s) out = *s;
            return s.has_value();
        };
        bool ok = true;
        if (a == "--json") ok = text("a file name", o.json);
        else if (a == "--csv") ok = text("a file name", o.csv);
        else if (a == "--trace" && !sweep) ok = text("a file name", o.trace);
        else if (a == "--seed") ok = number(o.seed.emplace());
        else if (a == "--duration-us") ok = number(o.duration_us.emplace());
        else if (a == "--jobs" && sweep) ok = number(o.jobs);
        else if (a == "--shard" && sweep) ok = text("I/N", o.shard);
        else if (a == "--quiet") o.quiet = true;
        else if (!a.empty() && a[0] != '-' && o.file.empty()) o.file = std::string(a);
        else {
            fmt::print(stderr, "fwdsim {}: unknown option '{}' (see --help)\n", cmd, a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (o.file.empty()) {
        fmt::print(stderr, "fwdsim {}: which scenario file? (see --help)\n", cmd);
        return 2;
    }
    return -1;
}

void apply(const Options& o, scenario::ScenarioConfig& c)
{
    if (o.seed) c.seed = *o.seed;
    if (o.duration_us) {
        // The file's own duration_us is held to this when it is read.
        if (!std::isfinite(*o.duration_us) || *o.duration_us <= c.warmup_us)
            throw sim::ConfigError(o.file, 0, "--duration-us",
                                   fmt::format("must be above the scenario's warmup_us ({})", c.warmup_us));
        c.duration_us = *o.duration_us;
    }
}

void write_outputs(const Options& o, const scenario::ScenarioConfig& c, const std::vector<scenario::RunResult>& runs)
{
    const std::string json = o.json.empty() ? c.outputs.json : o.json;
    const std::string csv = o.csv.empty() ? c.outputs.csv : o.csv;
    if (!json.empty()) {
        std::ofstream out(json);
        scenario::write_json_lines(out, runs);
        if (!out) throw sim::ConfigError(json, 0, "outputs.json", "cannot write");
    }
    if (!csv.empty()) {
        std::ofstream out(csv);
        scenario::write_csv(out, runs);
        if (!out) throw sim::ConfigError(csv, 0, "outputs.csv", "cannot write");
    }
}

int run_or_sweep(int argc, char** argv, bool sweep)
{
    Options o;
    if (const int st = parse(argc, argv, sweep, o); st >= 0) return st;
    const char* cmd = sweep ? "sweep" : "run";
    try {
        std::vector<scenario::RunResult> runs;
        scenario::ScenarioConfig first;
        if (!sweep) {
            scenario::ScenarioConfig c = scenario::load_scenario(o.file);
            apply(o, c);
            first = c;
            sim::Tracer tracer;
            std::ofstream trace_out;
            std::optional<sim::ChromeTraceWriter> writer;
            if (!o.trace.empty()) {
                trace_out.open(o.trace);
                if (!trace_out) throw sim::ConfigError(o.trace, 0, "--trace", "cannot write");
                writer.emplace(trace_out, sim::Clock{c.clock_hz});
                tracer.attach(&*writer);
            }
            // In slices, so a long run can show its progress on a terminal.
            scenario::System sys(c, scenario::load_profile(c), o.trace.empty() ? nullptr : &tracer);
            sys.start();
            const std::uint64_t total = sys.us(c.duration_us).count();
            const bool tty = isatty(fileno(stderr)) != 0;
            constexpr std::uint64_t kSlices = 50;
            std::uint64_t done = 0;
            for (std::uint64_t k = 1; k <= kSlices; ++k) {
                const std::uint64_t target = total * k / kSlices;
                sys.run_for(sim::Cycles{target - done});
                done = target;
                if (tty) fmt::print(stderr, "\r[{:=<{}}{: <{}}] {:3}%", "", k, "", kSlices - k, 100 * k / kSlices);
            }
            if (tty) fmt::print(stderr, "\n");
            runs.push_back(sys.report());
        } else {
            auto points = scenario::load_sweep(o.file);
            if (!o.shard.empty()) {
                const auto [i, n] = scenario::parse_shard(o.shard);
                points = scenario::select_shard(std::move(points), i, n);
            }
            for (auto& p : points) apply(o, p.config);
            if (!points.empty()) first = points.front().config;
            const bool tty = isatty(fileno(stderr)) != 0;
            scenario::Progress bar;
            if (tty) {
                bar = [](std::size_t done, std::size_t total) {
                    const int width = 40;
                    const int fill = total ? static_cast<int>(width * done / total) : width;
                    fmt::print(stderr, "\r[{:=<{}}{: <{}}] {}/{}", "", fill, "", width - fill, done, total);
                    if (done == total) fmt::print(stderr, "\n");
                };
            }
            runs = scenario::run_points(
                points,
                [](const scenario::SweepPoint& p) {
                    scenario::RunResult r = scenario::run_scenario(p.config);
                    r.point = p.index;
                    r.params = p.params;
                    return r;
                },
                o.jobs, bar);
        }
        if (!o.quiet) scenario::write_table(std::cout, runs);
        write_outputs(o, first, runs);
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim {}: {}\n", cmd, e.what());
        return 1;
    }
}

} // namespace

int run_main(int argc, char** argv) { return run_or_sweep(argc, argv, false); }
int sweep_main(int argc, char** argv) { return run_or_sweep(argc, argv, true); }

} // namespace fwdsim::app
