// fwdsim sensitivity FILE: how a scenario's results and the conclusions it
// declares (`compare:`) move over the cost profile's uncertainty --
// one primitive at a time (a tornado table) and jointly (Latin hypercube).
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
        "  --samples N        joint samples (default 64; 0: one at a time only)\n"
        "  --no-oat           skip the one-at-a-time runs\n"
        "  --seed N           seed of the joint samples (default 1; runs keep the scenario's seed)\n"
        "  --profile FILE     a cost profile instead of the scenario's\n"
        "  --duration-us US   override every point's duration\n"
        "  --jobs N           threads (default: one per core); results do not depend on it\n"
        "  --top N            primitives shown per metric in the table (default 8)\n"
        "  --json FILE        write the whole report as JSON (scripts/plot.sh --tornado draws it)\n"
        "  --csv FILE         write the one-at-a-time table as CSV\n"
        "  --quiet            print no table\n");
}

struct Options {
    std::string file, profile, json, csv;
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
    o.run.samples = 64;
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
        } else if (a == "--profile" || a == "--json" || a == "--csv") {
            const auto s = value();
            ok = s.has_value();
            if (ok) (a == "--profile" ? o.profile : a == "--json" ? o.json : o.csv) = *s;
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
    if (!o.json.empty() && o.json == o.csv) {
        fmt::print(stderr, "fwdsim sensitivity: --json and --csv name the same file\n");
        return 2;
    }
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
        const sim::CostProfile profile =
            o.profile.empty() ? scenario::load_profile(points.front().config) : sim::CostProfile::load(o.profile);
        std::optional<Output> json, csv;
        if (!o.json.empty()) json.emplace(o.json);
        if (!o.csv.empty()) csv.emplace(o.csv);

        scenario::SensitivityProgress bar;
        if (isatty(fileno(stderr)) != 0) {
            bar = [](std::size_t done, std::size_t total) {
                fmt::print(stderr, "\r{}/{} runs", done, total);
                if (done == total) fmt::print(stderr, "\n");
            };
        }
        const auto report = scenario::run_sensitivity(points, points.front().config.compare, profile, o.run, bar);
        if (!o.quiet) scenario::write_sensitivity_table(std::cout, report, o.top);
        if (json) {
            scenario::write_sensitivity_json(json->out, report);
            json->commit();
        }
        if (csv) {
            scenario::write_sensitivity_csv(csv->out, report);
            csv->commit();
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
