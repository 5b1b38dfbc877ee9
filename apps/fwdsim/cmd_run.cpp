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
#include "commands.h"

#include <fwdsim/scenario/config.h>
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
    unsigned jobs = 0;
    std::string shard;
    bool quiet = false;
    bool resume = false;
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
        fmt::print("  --jobs N           threads to use (default: one per core; at most 1024)\n"
                   "  --shard I/N        run only slice I of N (for cluster job arrays; join with\n"
                   "                     `fwdsim merge`)\n"
                   "  --resume           keep the points already in the result files (of an\n"
                   "                     interrupted run of the same command) and run the rest\n"
                   "A progress bar is drawn on stderr when it is a terminal.  Each point is written\n"
                   "as it finishes; SIGINT or SIGTERM keeps the finished points and exits 130/143.\n");
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
        else if (a == "--resume" && sweep) o.resume = true;
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
    // Each job is a thread: far past the cores it only costs memory, and
    // past the system's limit creating one fails.
    if (o.jobs > kMaxJobs) {
        fmt::print(stderr, "fwdsim {}: --jobs {} is more than {} threads\n", cmd, o.jobs, kMaxJobs);
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

/// The outputs of this command: each a different file, none the scenario.
Outputs outputs_of(const Options& o, const scenario::ScenarioConfig& c)
{
    Outputs out{o.json.empty() ? c.outputs.json : o.json, o.csv.empty() ? c.outputs.csv : o.csv,
                o.trace.empty() ? c.outputs.trace : o.trace};
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
    scenario::ScenarioConfig c = scenario::load_scenario(o.file);
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
        writer.emplace(*trace_out, sim::Clock{c.clock_hz});
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
    const scenario::Sweep sweep = scenario::Sweep::load(o.file);
    // An override of a swept key would silently flatten that axis.
    if (o.seed && sweep.sweeps("seed")) throw sim::ConfigError(o.file, 0, "--seed", "the sweep varies seed: drop one of them");
    if (o.duration_us && sweep.sweeps("duration_us"))
        throw sim::ConfigError(o.file, 0, "--duration-us", "the sweep varies duration_us: drop one of them");
    std::size_t shard = 0, shards = 1;
    if (!o.shard.empty()) std::tie(shard, shards) = scenario::parse_shard(o.shard);
    std::vector<std::size_t> order;
    for (std::size_t i = shard; i < sweep.size(); i += shards) order.push_back(i);

    scenario::ScenarioConfig base = sweep.base();
    apply(o, base);
    scenario::GridId grid;
    grid.digest = fnv1a(o.duration_us ? fmt::format("--duration-us {}", *o.duration_us) : "",
                        sweep.digest());
    grid.seed = base.seed;
    grid.points = sweep.size();
    Outputs paths = outputs_of(o, base);
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
                               "holds points of another shard than " + (o.shard.empty() ? "the whole grid" : o.shard));

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

    scenario::Progress bar;
    if (isatty(fileno(stderr)) != 0) {
        bar = [](std::size_t finished, std::size_t total) {
            const int width = 40;
            const int fill = total ? static_cast<int>(width * finished / total) : width;
            fmt::print(stderr, "\r[{:=<{}}{: <{}}] {}/{}", "", fill, "", width - fill, finished, total);
            if (finished == total) fmt::print(stderr, "\n");
        };
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
        finished = scenario::run_each(todo.size(), run_point, o.jobs, point_finished, bar);
    } catch (...) {
        keep_finished();
        throw;
    }
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
