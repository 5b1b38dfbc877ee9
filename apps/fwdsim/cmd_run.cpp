// fwdsim run / fwdsim sweep: run one scenario, or the grid of its sweep
// section (in parallel, or one shard of it), print the table and write the
// result files.
//
// Nothing the user asked for is lost: every output is opened before the
// first point runs and renamed into place when written; every point of a
// sweep is validated before any runs; a sweep writes each point as it
// finishes, so SIGINT/SIGTERM (a message, exit 128+signal) keeps what was
// finished and --resume runs the rest; a broken pipe on the table costs
// only the table.
#include "batch.h"
#include "cli.h"
#include "commands.h"

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/overrides.h>
#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/result_files.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace fwdsim::app {
namespace {

constexpr unsigned kMaxJobs = 1024;

struct Options {
    std::string file;
    std::string json, csv, trace;
    std::optional<std::uint64_t> seed;
    std::optional<double> duration_us;
    unsigned jobs = 0; ///< 0: the CPUs this process may use
    std::string shard; ///< "I/N" or "auto"
    std::vector<scenario::Override> overrides;
    double progress_s = 5;
    bool quiet = false;
    bool resume = false;
    bool points = false;
};

int parse(int argc, char** argv, bool sweep, Options& o)
{
    const std::string cmd = sweep ? "sweep" : "run";
    CLI::App app(sweep ? "Runs every point of FILE's `sweep` grid (in parallel on local cores, or one --shard of it)\n"
                         "and prints one table row per point and interrupt."
                       : "Runs the scenario in FILE once (its `sweep` section is ignored) and prints a table\n"
                         "of what each device interrupt measured.",
                 "fwdsim " + cmd);
    app.add_option("FILE", o.file, "the scenario file (docs/scenario-format.md)")->required();
    app.add_option("--json", o.json, "write results as JSON Lines (default: the scenario's outputs.json)")->type_name("FILE");
    app.add_option("--csv", o.csv, "write results as CSV (default: the scenario's outputs.csv)")->type_name("FILE");
    if (!sweep) {
        app.add_option("--trace", o.trace, "write a Chrome/Perfetto trace (default: the scenario's outputs.trace)")
            ->type_name("FILE");
    }
    add_number<std::uint64_t>(app, "--seed", "N", "the scenario's seed instead of the file's",
                              [&o](std::uint64_t v) { o.seed = v; });
    add_number<double>(app, "--duration-us", "US", "the run's length in microseconds of simulated time",
                       [&o](double v) { o.duration_us = v; });
    app.add_option_function<std::vector<std::string>>(
           "--set",
           [&o](const std::vector<std::string>& specs) {
               for (const auto& spec : specs) o.overrides.push_back(scenario::parse_override(spec));
           },
           "set one scenario parameter, checked as the file's own (e.g. --set "
           "devices.0.irqs.0.traffic.rate_per_s=1000); repeatable")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    app.add_flag("--quiet", o.quiet, "print no table");
    if (sweep) {
        const CpuBudget cpus = usable_cpus();
        add_number<unsigned>(app, "--jobs", "N",
                             "threads to run points on (default: the CPUs this process may use -- its affinity mask, "
                             "or SLURM_CPUS_PER_TASK -- here " + std::to_string(cpus.cpus) + "; at most 1024)",
                             [&o](unsigned v) { o.jobs = v; })
            ->envname("FWDSIM_JOBS");
        app.add_option("--shard", o.shard,
                       "run only slice I of N (points i with i mod N = I; join the slices with `fwdsim merge`); "
                       "auto: this Slurm array task's (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of "
                       "SLURM_ARRAY_TASK_COUNT)")
            ->type_name("I/N|auto");
        app.add_flag("--resume", o.resume,
                     "keep the points already in the result files (of an interrupted run of the same command) and "
                     "run the rest");
        app.add_flag("--points", o.points, "print the number of points (of the --shard, if given) and exit");
        add_number<double>(app, "--progress", "SECONDS",
                           "when stderr is not a terminal, a progress line this often (0: none; default 5)",
                           [&o](double v) { o.progress_s = v; })
            ->envname("FWDSIM_PROGRESS");
        app.footer("A progress bar is drawn on stderr when it is a terminal, a line every --progress seconds\n"
                   "otherwise.  Each point is written as it finishes; SIGINT or SIGTERM keeps the finished\n"
                   "points and exits 130/143.  Environment: FWDSIM_JOBS, FWDSIM_PROGRESS (as the options).");
    }
    if (const int st = parse_cli(app, cmd, argc, argv); st >= 0) return st;
    // Each job is a thread: far past the cores it only costs memory, and
    // past the system's limit creating one fails.
    if (o.jobs > kMaxJobs) {
        fmt::print(stderr, "fwdsim {}: --jobs {} is more than {} threads\n", cmd, o.jobs, kMaxJobs);
        return 2;
    }
    if (!std::isfinite(o.progress_s) || o.progress_s < 0) {
        fmt::print(stderr, "fwdsim {}: --progress needs seconds (0 or more), not {}\n", cmd, o.progress_s);
        return 2;
    }
    return -1;
}

void apply(const Options& o, scenario::ScenarioConfig& c)
{
    if (o.seed) c.seed = *o.seed;
    if (o.duration_us) {
        // The same check as the file's own duration_us gets.
        if (const std::string why = scenario::duration_problem(c, *o.duration_us); !why.empty())
            throw sim::ConfigError(o.file, 0, "--duration-us", why);
        c.duration_us = *o.duration_us;
    }
}

// --- signals -------------------------------------------------------------------

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig)
{
    g_signal = sig;
}

const char* signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/// SIGINT and SIGTERM stop the run between slices of simulated time;
/// SIGPIPE is ignored, so a closed table reader shows up as EPIPE.
void install_signal_handlers()
{
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

/// Runs `sys` for `total` cycles in slices, drawing a bar when asked;
/// false when a signal stopped it.
bool run_sliced(scenario::System& sys, std::uint64_t total, bool bar)
{
    // 50 slices for the bar, each cut to at most 2^24 cycles (7 ms at
    // 2.4 GHz) so a signal is noticed promptly.
    constexpr std::uint64_t kSlices = 50, kStep = std::uint64_t{1} << 24;
    std::uint64_t done = 0;
    for (std::uint64_t k = 1; k <= kSlices; ++k) {
        const std::uint64_t target = total / kSlices * k + total % kSlices * k / kSlices;
        while (done < target) {
            if (g_signal != 0) return false;
            const std::uint64_t step = std::min(kStep, target - done);
            sys.run_for(sim::Cycles{step});
            done += step;
        }
        if (bar) fmt::print(stderr, "\r[{:=<{}}{: <{}}] {:3}%", "", k, "", kSlices - k, 100 * k / kSlices);
    }
    if (bar) fmt::print(stderr, "\n");
    return true;
}

// --- the table on standard output ------------------------------------------------

/// Writes the table to stdout; a reader that went away (EPIPE) ends the
/// table quietly, any other write error is an error.
class Table {
public:
    explicit Table(bool on) : on_(on) {}
    void write(const std::vector<scenario::RunResult>& runs, scenario::TablePart part)
    {
        if (!on_) return;
        std::ostringstream text;
        scenario::write_table(text, runs, part);
        const std::string s = text.str();
        if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
            if (errno == EPIPE) {
                on_ = false;
                return;
            }
            throw sim::ConfigError("(standard output)", 0, "table", std::string("cannot write: ") + std::strerror(errno));
        }
    }

private:
    bool on_;
};

// --- outputs -----------------------------------------------------------------------

/// An ostream onto an OutputFile (the trace writer wants a stream).
class FileBuf final : public std::streambuf {
public:
    explicit FileBuf(scenario::OutputFile& f) : file_(f) {}

protected:
    int_type overflow(int_type c) override
    {
        if (c != traits_type::eof()) {
            const char ch = static_cast<char>(c);
            file_.write(std::string_view(&ch, 1));
        }
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override
    {
        file_.write(std::string_view(s, static_cast<std::size_t>(n)));
        return n;
    }

private:
    scenario::OutputFile& file_;
};

struct Outputs {
    std::string json, csv, trace;
};

/// `path` with `tag` before its extension ("r.jsonl" -> "r.shard-3-of-16.jsonl").
std::string tagged(const std::string& path, const std::string& tag)
{
    if (path.empty() || tag.empty()) return path;
    const std::filesystem::path p(path);
    return (p.parent_path() / (p.stem().string() + tag + p.extension().string())).string();
}

/// The outputs of this command: each a different file, none the scenario.
/// The scenario's own outputs get `shard_tag` (a shard never writes the
/// whole grid's file, nor another shard's); --json and --csv are as given.
Outputs outputs_of(const Options& o, const scenario::ScenarioConfig& c, const std::string& shard_tag = "")
{
    Outputs out{o.json.empty() ? tagged(c.outputs.json, shard_tag) : o.json,
                o.csv.empty() ? tagged(c.outputs.csv, shard_tag) : o.csv, o.trace.empty() ? c.outputs.trace : o.trace};
    std::map<std::filesystem::path, std::string> seen;
    std::error_code ec;
    seen[std::filesystem::weakly_canonical(o.file, ec)] = "the scenario file";
    for (const auto& [path, key] : {std::pair{out.json, "--json"}, {out.csv, "--csv"}, {out.trace, "--trace"}}) {
        if (path.empty()) continue;
        const auto [it, fresh] = seen.emplace(std::filesystem::weakly_canonical(path, ec), key);
        if (!fresh) throw sim::ConfigError(path, 0, key, "is also " + it->second + ": one file cannot hold both");
    }
    return out;
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 0xcbf29ce484222325ULL)
{
    for (const unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

// --- run ---------------------------------------------------------------------------

int run_one(const Options& o)
{
    scenario::ScenarioConfig c = scenario::load_scenario(o.file, o.overrides);
    apply(o, c);
    scenario::validate_system(c);
    const sim::CostProfile profile = scenario::load_profile(c);
    const Outputs paths = outputs_of(o, c);
    std::optional<scenario::OutputFile> json, csv, trace;
    if (!paths.json.empty()) json.emplace(paths.json, "--json");
    if (!paths.csv.empty()) csv.emplace(paths.csv, "--csv");
    if (!paths.trace.empty()) trace.emplace(paths.trace, "--trace");
    Table table(!o.quiet);

    sim::Tracer tracer;
    std::optional<FileBuf> trace_buf;
    std::optional<std::ostream> trace_out;
    std::optional<sim::ChromeTraceWriter> writer;
    if (trace) {
        trace_buf.emplace(*trace);
        trace_out.emplace(&*trace_buf);
        writer.emplace(*trace_out, sim::Clock{c.clock_hz},
                       scenario::run_description_json(c, profile.name(), profile.digest()));
        tracer.attach(&*writer);
    }
    scenario::RunResult result;
    {
        scenario::System sys(c, profile, trace ? &tracer : nullptr);
        sys.start();
        if (!run_sliced(sys, sys.us(c.duration_us).count(), isatty(fileno(stderr)) != 0)) {
            fmt::print(stderr, "\nfwdsim run: interrupted by {}: nothing written\n", signal_name(g_signal));
            return 128 + g_signal;
        }
        result = sys.report();
    }
    table.write({result}, scenario::TablePart::all);
    if (json) {
        std::ostringstream text;
        scenario::write_json_lines(text, {result});
        json->write(text.str());
        json->commit();
    }
    if (csv) {
        std::ostringstream text;
        scenario::write_csv(text, {result});
        csv->write(text.str());
        csv->commit();
    }
    if (trace) {
        writer->flush();
        trace->commit();
    }
    return 0;
}

// --- sweep -------------------------------------------------------------------------

/// What an earlier, interrupted run of this sweep left in `path` (its
/// .partial if that is there): the points finished.
std::map<std::size_t, std::string> resumed(const std::string& path, const scenario::GridId& grid)
{
    std::error_code ec;
    std::string file = path + ".partial";
    if (!std::filesystem::is_regular_file(file, ec)) file = path;
    if (!std::filesystem::is_regular_file(file, ec)) return {};
    const scenario::ResultFile f =
        scenario::read_results(scenario::format_of(path), file, scenario::read_input_file(file, "result file to resume"));
    if (!f.records.empty() && f.grid != grid) {
        throw sim::ConfigError(file, 0, "--resume",
                               "holds another grid (" + scenario::describe(f.grid) + ") than this command's (" +
                                   scenario::describe(grid) + ")");
    }
    return f.records;
}

int run_sweep(const Options& o)
{
    const scenario::Sweep sweep = scenario::Sweep::load(o.file, o.overrides);
    // An override of a swept key would silently flatten that axis.
    if (o.seed && sweep.sweeps("seed")) throw sim::ConfigError(o.file, 0, "--seed", "the sweep varies seed: drop one of them");
    if (o.duration_us && sweep.sweeps("duration_us"))
        throw sim::ConfigError(o.file, 0, "--duration-us", "the sweep varies duration_us: drop one of them");
    std::size_t shard = 0, shards = 1;
    if (o.shard == "auto") std::tie(shard, shards) = slurm_array_shard();
    else if (!o.shard.empty()) std::tie(shard, shards) = scenario::parse_shard(o.shard);
    const std::string shard_name = o.shard.empty() ? "the whole grid" : fmt::format("{}/{}", shard, shards);
    std::vector<std::size_t> order;
    for (std::size_t i = shard; i < sweep.size(); i += shards) order.push_back(i);
    if (o.points) {
        fmt::print("{}\n", order.size());
        return 0;
    }

    scenario::ScenarioConfig base = sweep.base();
    apply(o, base);
    scenario::GridId grid;
    grid.digest = fnv1a(o.duration_us ? fmt::format("--duration-us {}", *o.duration_us) : "",
                        sweep.digest());
    grid.seed = base.seed;
    grid.points = sweep.size();
    Outputs paths = outputs_of(o, base, shards > 1 ? fmt::format(".shard-{}-of-{}", shard, shards) : "");
    if (!paths.trace.empty()) {
        fmt::print(stderr, "fwdsim sweep: note: outputs.trace is not written by a sweep (`fwdsim run` writes it)\n");
        paths.trace.clear();
    }
    if (o.resume && paths.json.empty() && paths.csv.empty())
        throw sim::ConfigError(o.file, 0, "--resume", "needs a result file (--json, --csv or the scenario's outputs)");
    std::map<std::size_t, std::string> done_json, done_csv;
    if (o.resume && !paths.json.empty()) done_json = resumed(paths.json, grid);
    if (o.resume && !paths.csv.empty()) done_csv = resumed(paths.csv, grid);
    std::set<std::size_t> done;
    for (const auto& [p, r] : paths.json.empty() ? done_csv : done_json) done.insert(p);
    if (!paths.json.empty() && !paths.csv.empty()) {
        std::set<std::size_t> other;
        for (const auto& [p, r] : done_csv) other.insert(p);
        if (other != done)
            throw sim::ConfigError(paths.csv, 0, "--resume", "holds other points than " + paths.json + ": resume from one of them");
    }
    std::vector<std::size_t> todo;
    for (const std::size_t i : order) {
        if (done.count(i) == 0) todo.push_back(i);
    }
    if (done.size() + todo.size() != order.size())
        throw sim::ConfigError(paths.json.empty() ? paths.csv : paths.json, 0, "--resume",
                               "holds points of another shard than " + shard_name);

    // Every point is checked before any runs: a mistake in the last one
    // must not cost the hours the others took.
    std::map<std::string, sim::CostProfile> profiles;
    for (const std::size_t i : todo) {
        if (g_signal != 0) break; // reported below, before any point runs
        scenario::SweepPoint p = sweep.point(i);
        apply(o, p.config);
        scenario::validate_system(p.config);
        if (profiles.count(p.config.profile) == 0) profiles.emplace(p.config.profile, scenario::load_profile(p.config));
    }

    std::optional<scenario::OutputFile> json, csv;
    std::optional<scenario::ResultSink> json_sink, csv_sink;
    if (!paths.json.empty()) {
        json.emplace(paths.json, "--json");
        json_sink.emplace(*json, scenario::format_of(paths.json), grid, order, std::move(done_json));
    }
    if (!paths.csv.empty()) {
        csv.emplace(paths.csv, "--csv");
        csv_sink.emplace(*csv, scenario::format_of(paths.csv), grid, order, std::move(done_csv));
    }
    Table table(!o.quiet);
    table.write({}, scenario::TablePart::header);
    // The table follows point order too: results that finish early wait.
    std::map<std::size_t, scenario::RunResult> waiting;
    std::size_t next_row = 0;

    // A bar on a terminal; in a batch log, lines (the first says what runs
    // where, for whoever reads the log of a failed task).
    const bool terminal = isatty(fileno(stderr)) != 0;
    const unsigned jobs = o.jobs != 0 ? o.jobs : usable_cpus().cpus;
    ProgressLog log("sweep", todo.size(), terminal ? 0.0 : o.progress_s);
    scenario::Progress bar;
    if (terminal) {
        bar = [](std::size_t finished, std::size_t total) {
            const int width = 40;
            const int fill = total ? static_cast<int>(width * finished / total) : width;
            fmt::print(stderr, "\r[{:=<{}}{: <{}}] {}/{}", "", fill, "", width - fill, finished, total);
            if (finished == total) fmt::print(stderr, "\n");
        };
    } else if (o.progress_s > 0) {
        const CpuBudget cpus = usable_cpus();
        fmt::print(stderr, "fwdsim sweep: {} of {} points ({}{}) on {} thread{} ({} CPU{} usable, from {})\n", todo.size(),
                   sweep.size(), shard_name == "the whole grid" ? shard_name : "shard " + shard_name,
                   done.empty() ? "" : fmt::format(", {} resumed", done.size()), jobs, jobs == 1 ? "" : "s", cpus.cpus,
                   cpus.cpus == 1 ? "" : "s", cpus.source);
        bar = [&log](std::size_t finished, std::size_t) { log.update(finished); };
    }
    // Whatever happens now, the points finished (and those resumed) are written.
    const auto keep_finished = [&] {
        for (const auto& [point, r] : waiting) table.write({r}, scenario::TablePart::rows);
        if (json_sink) json_sink->drain();
        if (csv_sink) csv_sink->drain();
        if (json) json->commit();
        if (csv) csv->commit();
    };
    if (g_signal != 0) {
        keep_finished();
        fmt::print(stderr, "fwdsim sweep: interrupted by {} before any point ran\n", signal_name(g_signal));
        return 128 + g_signal;
    }
    const auto run_point = [&](std::size_t k) -> std::optional<scenario::RunResult> {
        scenario::SweepPoint p = sweep.point(todo[k]);
        apply(o, p.config);
        scenario::System sys(p.config, profiles.at(p.config.profile));
        sys.start();
        if (!run_sliced(sys, sys.us(p.config.duration_us).count(), false)) return std::nullopt;
        scenario::RunResult r = sys.report();
        r.point = p.index;
        r.params = p.params;
        return r;
    };
    const auto point_finished = [&](scenario::RunResult&& r) {
        if (json_sink) json_sink->add(r);
        if (csv_sink) csv_sink->add(r);
        waiting.emplace(r.point, std::move(r));
        for (; next_row < todo.size(); ++next_row) {
            const auto it = waiting.find(todo[next_row]);
            if (it == waiting.end()) break;
            table.write({it->second}, scenario::TablePart::rows);
            waiting.erase(it);
        }
    };
    std::size_t finished = 0;
    try {
        finished = scenario::run_each(todo.size(), run_point, jobs, point_finished, bar);
    } catch (...) {
        log.finish(false);
        keep_finished();
        throw;
    }
    log.finish(finished == todo.size());
    keep_finished();
    table.write({}, scenario::TablePart::footer);
    if (finished < todo.size()) {
        std::string files = paths.json;
        if (!paths.csv.empty()) files += (files.empty() ? "" : " and ") + paths.csv;
        fmt::print(stderr, "\nfwdsim sweep: interrupted by {}: {} of {} points finished{}\n", signal_name(g_signal),
                   done.size() + finished, order.size(),
                   files.empty() ? " (no result file was asked for)" : "; kept in " + files + " (--resume runs the rest)");
        return 128 + g_signal;
    }
    return 0;
}

int run_or_sweep(int argc, char** argv, bool sweep)
{
    Options o;
    if (const int st = parse(argc, argv, sweep, o); st >= 0) return st;
    install_signal_handlers();
    try {
        return sweep ? run_sweep(o) : run_one(o);
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim {}: {}\n", sweep ? "sweep" : "run", e.what());
        return 1;
    }
}

} // namespace

int run_main(int argc, char** argv) { return run_or_sweep(argc, argv, false); }
int sweep_main(int argc, char** argv) { return run_or_sweep(argc, argv, true); }

} // namespace fwdsim::app
