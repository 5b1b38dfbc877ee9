// fwdsim sensitivity FILE: how a scenario's results and the conclusions it
// declares (`compare:`) move over the cost profile's uncertainty --
// one primitive at a time (a tornado table) and jointly (Latin hypercube).
#include "batch.h"
#include "cli.h"
#include "commands.h"

#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace fwdsim::app {
namespace {

struct Options {
    std::string file, profile, json, csv, markdown, shard, runs;
    std::vector<std::string> from;
    std::vector<std::size_t> points;
    std::vector<std::pair<std::string, std::string>> where;
    scenario::SensitivityOptions run;
    std::size_t top = 8;
    bool quiet = false;
};

int parse(int argc, char** argv, Options& o)
{
    CLI::App app("Perturbs every cost primitive over its range (`fwdsim profile` lists them) and reports which\n"
                 "primitives move each result of FILE's sweep points and whether each comparison the scenario\n"
                 "declares (`compare:`) survives: at every end of every primitive's range taken alone (with the\n"
                 "value at which it turns, if it does) and in what fraction of joint Latin-hypercube samples.",
                 "fwdsim sensitivity");
    app.add_option("FILE", o.file, "the scenario file (docs/scenario-format.md)")->required();
    app.add_option_function<std::vector<std::string>>(
           "--point",
           [&o](const std::vector<std::string>& v) {
               for (const auto& s : v) {
                   if (!parse_number(s, o.points.emplace_back()))
                       throw CLI::ValidationError("--point needs a number, not '" + s + "'");
               }
           },
           "analyse sweep point N (repeatable; default: every point)")
        ->type_name("N")
        ->allow_extra_args(false);
    app.add_option_function<std::vector<std::string>>(
           "--where",
           [&o](const std::vector<std::string>& v) {
               for (const auto& s : v) {
                   const auto eq = s.find('=');
                   if (eq == std::string::npos || eq == 0)
                       throw CLI::ValidationError("--where needs KEY=VALUE, not '" + s + "'");
                   o.where.emplace_back(s.substr(0, eq), s.substr(eq + 1));
               }
           },
           "analyse the points whose sweep parameter KEY (its full path or its last part, e.g. rate_per_s) "
           "is VALUE (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    add_number<unsigned>(app, "--samples", "N", "joint Latin-hypercube samples (default 256; 0: one at a time only)",
                         [&o](unsigned v) { o.run.samples = v; });
    app.add_flag_callback("--no-oat", [&o] { o.run.one_at_a_time = false; }, "skip the one-at-a-time runs");
    add_number<std::uint64_t>(app, "--seed", "N", "seed of the joint samples (default 1; runs keep the scenario's seed)",
                              [&o](std::uint64_t v) { o.run.seed = v; });
    app.add_option("--profile", o.profile, "a cost profile instead of the scenario's")->type_name("FILE");
    add_number<double>(app, "--duration-us", "US", "every point's length in microseconds of simulated time, in (0, 1e9]",
                       [&o](double d) {
                           if (!(std::isfinite(d) && d > 0 && d <= 1e9))
                               throw CLI::ValidationError("--duration-us must be in (0, 1e9]");
                           o.run.duration_us = d;
                       });
    add_number<unsigned>(app, "--jobs", "N",
                         "threads (default: the CPUs this process may use -- its affinity mask, or "
                         "SLURM_CPUS_PER_TASK -- here " + std::to_string(usable_cpus().cpus) +
                             "); results do not depend on it",
                         [&o](unsigned v) { o.run.jobs = v; })
        ->envname("FWDSIM_JOBS");
    add_number<std::size_t>(app, "--top", "N", "primitives shown per metric in the table (default 8)",
                            [&o](std::size_t v) { o.top = v; });
    app.add_option("--json", o.json, "write the whole report as JSON (scripts/plot.sh --tornado draws it)")
        ->type_name("FILE");
    app.add_option("--csv", o.csv, "write the one-at-a-time table as CSV")->type_name("FILE");
    app.add_option("--markdown", o.markdown, "write each comparison's robustness as a Markdown table")->type_name("FILE");
    app.add_flag("--quiet", o.quiet, "print no table");
    app.add_option("--shard", o.shard, "run only slice I of N of the analysis's simulations (with --runs)")
        ->type_name("I/N");
    app.add_option("--runs", o.runs, "where --shard writes its slice's runs")->type_name("OUT");
    app.add_option_function<std::vector<std::string>>(
           "--from", [&o](const std::vector<std::string>& v) { o.from.insert(o.from.end(), v.begin(), v.end()); },
           "analyse from every slice's runs (repeatable); each is checked to belong to this analysis, none may "
           "be missing or doubled")
        ->type_name("OUT")
        ->allow_extra_args(false);
    app.footer("On a cluster (the analysis is a fixed list of simulations): `--shard I/N --runs OUT` runs\n"
               "slice I of N, then `--from OUT ...` analyses every slice's runs; the other options must be\n"
               "the same for all.  Environment: FWDSIM_JOBS (as --jobs).");
    return parse_cli(app, "sensitivity", argc, argv);
}

bool matches(const scenario::SweepPoint& p, const std::pair<std::string, std::string>& w)
{
    for (const auto& [key, value] : p.params) {
        const bool key_ok = key == w.first || (key.size() > w.first.size() &&
                                               key.compare(key.size() - w.first.size(), w.first.size(), w.first) == 0 &&
                                               key[key.size() - w.first.size() - 1] == '.');
        if (key_ok) return value == w.second;
    }
    return false;
}

// An output written beside its final name and renamed into place once
// complete, so a failed run leaves no half-written file.
struct Output {
    std::string path, tmp;
    std::ofstream out;
    explicit Output(std::string p) : path(std::move(p)), tmp(path + ".tmp")
    {
        out.open(tmp);
        if (!out) throw sim::ConfigError(path, 0, "output", "cannot write");
    }
    void commit()
    {
        out.flush();
        out.close();
        if (!out) throw sim::ConfigError(path, 0, "output", "write failed");
        std::filesystem::rename(tmp, path);
    }
    ~Output()
    {
        if (out.is_open()) {
            out.close();
            std::remove(tmp.c_str());
        }
    }
};

} // namespace

int sensitivity_main(int argc, char** argv)
{
    Options o;
    o.run.samples = 256;
    o.run.jobs = 0;
    if (const int st = parse(argc, argv, o); st >= 0) return st;
    for (const auto* a : {&o.json, &o.csv, &o.markdown}) {
        for (const auto* b : {&o.json, &o.csv, &o.markdown}) {
            if (a < b && !a->empty() && *a == *b) {
                fmt::print(stderr, "fwdsim sensitivity: two outputs name the same file '{}'\n", *a);
                return 2;
            }
        }
    }
    if (o.shard.empty() != o.runs.empty()) {
        fmt::print(stderr, "fwdsim sensitivity: --shard and --runs go together\n");
        return 2;
    }
    if (!o.shard.empty() && !o.from.empty()) {
        fmt::print(stderr, "fwdsim sensitivity: --shard runs a slice, --from analyses the slices: not both\n");
        return 2;
    }
    if (o.run.jobs == 0) o.run.jobs = usable_cpus().cpus;
    try {
        const auto all = scenario::load_sweep(o.file);
        std::vector<scenario::SweepPoint> points;
        for (const auto& p : all) {
            bool chosen = o.points.empty() || std::find(o.points.begin(), o.points.end(), p.index) != o.points.end();
            for (const auto& w : o.where) chosen = chosen && matches(p, w);
            if (chosen) points.push_back(p);
        }
        for (std::size_t n : o.points) {
            if (n >= all.size()) {
                throw sim::ConfigError(o.file, 0, "--point",
                                       fmt::format("point {} does not exist (the grid has {})", n, all.size()));
            }
        }
        if (points.empty()) throw sim::ConfigError(o.file, 0, "--where", "no sweep point matches");
        // --profile goes through the same checks as a scenario's own (a
        // misspelt primitive is refused).
        scenario::ScenarioConfig with_profile = points.front().config;
        if (!o.profile.empty()) with_profile.profile = o.profile;
        const sim::CostProfile profile = scenario::load_profile(with_profile);
        const auto compare = points.front().config.compare;
        if (!o.shard.empty()) {
            const auto [shard, shards] = scenario::parse_shard(o.shard);
            Output runs(o.runs);
            const auto mine = scenario::run_sensitivity_tasks(points, profile, o.run, shard, shards);
            const auto tasks = scenario::sensitivity_tasks(points, profile, o.run);
            scenario::write_sensitivity_runs(runs.out, scenario::sensitivity_plan_digest(points, profile, o.run), tasks,
                                             shard, shards, mine);
            runs.commit();
            fmt::print("shard {}/{}: {} of the analysis's {} runs written to {}\n", shard, shards, mine.size(), tasks,
                       o.runs);
            return 0;
        }
        std::optional<Output> json, csv, markdown;
        if (!o.json.empty()) json.emplace(o.json);
        if (!o.csv.empty()) csv.emplace(o.csv);
        if (!o.markdown.empty()) markdown.emplace(o.markdown);

        scenario::SensitivityProgress bar;
        if (isatty(fileno(stderr)) != 0) {
            bar = [](std::size_t done, std::size_t total) {
                fmt::print(stderr, "\r{}/{} runs", done, total);
                if (done == total) fmt::print(stderr, "\n");
            };
        }
        scenario::SensitivityReport report;
        if (o.from.empty()) {
            report = scenario::run_sensitivity(points, compare, profile, o.run, bar);
        } else {
            const auto digest = scenario::sensitivity_plan_digest(points, profile, o.run);
            const auto tasks = scenario::sensitivity_tasks(points, profile, o.run);
            std::vector<scenario::SensitivityRun> runs;
            for (const auto& f : o.from) {
                if (std::filesystem::is_directory(f)) throw sim::ConfigError(f, 0, "--from", "is a directory");
                std::ifstream in(f);
                if (!in) throw sim::ConfigError(f, 0, "--from", "cannot open");
                auto part = scenario::read_sensitivity_runs(in, f, digest, tasks);
                runs.insert(runs.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
            }
            report = scenario::analyse_sensitivity(points, compare, profile, o.run, std::move(runs));
        }
        if (!o.quiet) scenario::write_sensitivity_table(std::cout, report, o.top);
        if (json) {
            scenario::write_sensitivity_json(json->out, report);
            json->commit();
        }
        if (csv) {
            scenario::write_sensitivity_csv(csv->out, report);
            csv->commit();
        }
        if (markdown) {
            scenario::write_sensitivity_markdown(markdown->out, report);
            markdown->commit();
        }
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim sensitivity: {}\n", e.what());
        return 1;
    } catch (const std::filesystem::filesystem_error& e) {
        fmt::print(stderr, "fwdsim sensitivity: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
