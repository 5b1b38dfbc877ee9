// fwdsim sensitivity FILE: how a scenario's results and the conclusions it
// declares (`compare:`) move over the cost profile's uncertainty --
// one primitive at a time (a tornado table) and jointly (Latin hypercube).
#include "batch.h"
#include "commands.h"

#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace fwdsim::app {
namespace {

void usage()
{
    fmt::print(
        "usage: fwdsim sensitivity FILE [options]\n\n"
        "Perturbs every cost primitive over its range (`fwdsim profile` lists them) and\n"
        "reports which primitives move each result of FILE's sweep points and whether\n"
        "each comparison the scenario declares (`compare:`) survives: at every end of\n"
        "every primitive's range taken alone (with the value at which it turns, if it\n"
        "does) and in what fraction of joint Latin-hypercube samples.\n\n"
        "options:\n"
        "  --point N          analyse sweep point N (repeatable; default: every point)\n"
        "  --where KEY=VALUE  analyse the points whose sweep parameter KEY (its full path\n"
        "                     or its last part, e.g. rate_per_s) is VALUE (repeatable)\n"
        "  --samples N        joint samples (default 256; 0: one at a time only)\n"
        "  --no-oat           skip the one-at-a-time runs\n"
        "  --seed N           seed of the joint samples (default 1; runs keep the scenario's seed)\n"
        "  --profile FILE     a cost profile instead of the scenario's\n"
        "  --duration-us US   override every point's duration\n"
        "  --jobs N           threads (default: the CPUs this process may use); results do not depend on it\n"
        "  --top N            primitives shown per metric in the table (default 8)\n"
        "  --json FILE        write the whole report as JSON (scripts/plot.sh --tornado draws it)\n"
        "  --csv FILE         write the one-at-a-time table as CSV\n"
        "  --markdown FILE    write each comparison's robustness as a Markdown table\n"
        "  --quiet            print no table\n\n"
        "on a cluster (the analysis is a fixed list of simulations):\n"
        "  --shard I/N --runs OUT   run only slice I of N and write its runs to OUT\n"
        "  --from OUT ...           analyse from every slice's runs (repeatable); each is\n"
        "                           checked to belong to this analysis, none may be missing\n"
        "                           or doubled.  The other options must be the same for all.\n");
}

struct Options {
    std::string file, profile, json, csv, markdown, shard, runs;
    std::vector<std::string> from;
    std::vector<std::size_t> points;
    std::vector<std::pair<std::string, std::string>> where;
    scenario::SensitivityOptions run;
    std::size_t top = 8;
    bool quiet = false;
};

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
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc) {
                fmt::print(stderr, "fwdsim sensitivity: {} needs a value\n", a);
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        auto number = [&]<class T>(T& out) -> bool {
            const auto s = value();
            if (s && parse_number(*s, out)) return true;
            if (s) fmt::print(stderr, "fwdsim sensitivity: {} needs a number, not '{}'\n", a, *s);
            return false;
        };
        bool ok = true;
        if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else if (a == "--point") {
            ok = number(o.points.emplace_back());
        } else if (a == "--where") {
            const auto s = value();
            const auto eq = s ? s->find('=') : std::string::npos;
            ok = s && eq != std::string::npos && eq > 0;
            if (s && !ok) fmt::print(stderr, "fwdsim sensitivity: --where needs KEY=VALUE, not '{}'\n", *s);
            if (ok) o.where.emplace_back(s->substr(0, eq), s->substr(eq + 1));
        } else if (a == "--samples") {
            ok = number(o.run.samples);
        } else if (a == "--no-oat") {
            o.run.one_at_a_time = false;
        } else if (a == "--seed") {
            ok = number(o.run.seed);
        } else if (a == "--jobs") {
            ok = number(o.run.jobs);
        } else if (a == "--top") {
            ok = number(o.top);
        } else if (a == "--duration-us") {
            double d = 0;
            ok = number(d);
            if (ok && !(std::isfinite(d) && d > 0 && d <= 1e9)) {
                fmt::print(stderr, "fwdsim sensitivity: --duration-us must be in (0, 1e9]\n");
                ok = false;
            }
            if (ok) o.run.duration_us = d;
        } else if (a == "--profile" || a == "--json" || a == "--csv" || a == "--shard" || a == "--runs") {
            const auto s = value();
            ok = s.has_value();
            if (ok) {
                (a == "--profile" ? o.profile : a == "--json" ? o.json : a == "--csv" ? o.csv : a == "--shard" ? o.shard : o.runs) = *s;
            }
        } else if (a == "--markdown") {
            const auto s = value();
            ok = s.has_value();
            if (ok) o.markdown = *s;
        } else if (a == "--from") {
            const auto s = value();
            ok = s.has_value();
            if (ok) o.from.push_back(*s);
        } else if (a == "--quiet") {
            o.quiet = true;
        } else if (!a.empty() && a[0] != '-' && o.file.empty()) {
            o.file = std::string(a);
        } else {
            fmt::print(stderr, "fwdsim sensitivity: unknown option '{}' (see --help)\n", a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (o.file.empty()) {
        fmt::print(stderr, "fwdsim sensitivity: which scenario file? (see --help)\n");
        return 2;
    }
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
