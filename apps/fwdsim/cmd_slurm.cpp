// fwdsim slurm: writes the Slurm batch scripts that run a scenario's sweep
// grid as a job array (one `fwdsim sweep --shard I/N` per task) and join the
// shards' results afterwards (`fwdsim merge`, submitted with
// --dependency=afterok on the array), and prints the commands to submit them.
// Nothing is submitted: the user sees and may edit both scripts first.
#include "cli.h"

#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fwdsim::app {
namespace {

namespace fs = std::filesystem;

struct Options {
    std::string file;
    std::optional<std::size_t> shards;
    unsigned jobs_per_shard = 1;
    std::string out;
    std::string fwdsim;
    std::vector<std::string> sbatch; ///< extra #SBATCH options, for both scripts
};

int parse(int argc, char** argv, Options& o)
{
    CLI::App app("Writes two Slurm batch scripts for FILE's sweep grid and prints how to submit them:\n"
                 "  DIR/sweep.sbatch  a job array of N tasks; task I runs `fwdsim sweep FILE --shard I/N`\n"
                 "                    and writes DIR/shard-I.jsonl and DIR/shard-I.csv\n"
                 "  DIR/merge.sbatch  joins the shards into DIR/results.jsonl and DIR/results.csv with\n"
                 "                    `fwdsim merge`; submit it with --dependency=afterok:<array job id>\n"
                 "Both run in the current directory (relative paths in FILE resolve as they do here);\n"
                 "FILE, DIR and the fwdsim binary must be reachable from the compute nodes.",
                 "fwdsim slurm");
    app.add_option("FILE", o.file, "the scenario file whose sweep grid the array runs")->required();
    add_number<std::size_t>(app, "--shards", "N", "array tasks, 1 to the grid's point count (required)",
                            [&o](std::size_t v) {
                                if (v < 1) throw CLI::ValidationError("--shards needs a count of at least 1, not 0");
                                o.shards = v;
                            })
        ->required();
    add_number<unsigned>(app, "--jobs-per-shard", "J", "CPUs each task asks for, and threads it runs (default 1)",
                         [&o](unsigned v) {
                             if (v < 1) throw CLI::ValidationError("--jobs-per-shard needs a count of at least 1, not 0");
                             o.jobs_per_shard = v;
                         });
    const auto not_empty = [](const std::string& s) { return s.empty() ? std::string("needs a value, not an empty one") : ""; };
    app.add_option("--out", o.out, "scripts, results and logs (default: slurm-<scenario name>)")
        ->type_name("DIR")
        ->check(not_empty);
    app.add_option("--fwdsim", o.fwdsim, "the fwdsim the jobs run (default: this one)")->type_name("PATH")->check(not_empty);
    app.add_option_function<std::vector<std::string>>(
           "--sbatch",
           [&o](const std::vector<std::string>& lines) {
               for (const auto& s : lines) {
                   if (s.rfind("-", 0) != 0 || s.find('\n') != std::string::npos)
                       throw CLI::ValidationError("--sbatch takes one sbatch option (starting with '-'), not '" + s + "'");
                   o.sbatch.push_back(s);
               }
           },
           "one more #SBATCH line in both scripts, e.g. --sbatch --time=30 or --sbatch --partition=short "
           "(repeatable)")
        ->type_name("OPTION")
        ->allow_extra_args(false);
    // An sbatch option is the value of --sbatch ("--sbatch --time=30"), where
    // CLI11 would see an option of ours: joined as "--sbatch=--time=30".
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--sbatch" && i + 1 < argc) args.push_back(std::string("--sbatch=") + argv[++i]);
        else args.emplace_back(argv[i]);
    }
    std::vector<char*> joined;
    for (auto& a : args) joined.push_back(a.data());
    return parse_cli(app, "slurm", static_cast<int>(joined.size()), joined.data());
}

// `s` as one word for bash, whatever it holds.
std::string quoted(const std::string& s)
{
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A file name fit for a job name and a folder: the scenario's name with
// anything but letters, digits, '-', '_' and '.' replaced.
std::string tame(const std::string& name)
{
    std::string out;
    for (char c : name) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.';
        out += plain ? c : '_';
    }
    return out.empty() || out[0] == '.' ? "sweep" + out : out;
}

std::string sbatch_lines(const Options& o)
{
    std::string out;
    for (const auto& s : o.sbatch) out += "#SBATCH " + s + "\n";
    return out;
}

struct Plan {
    fs::path scenario, dir, fwdsim, workdir;
    std::string name;
    std::size_t points = 0, shards = 0;
    unsigned jobs = 1;
};

std::string array_script(const Plan& p, const Options& o)
{
    const std::string dir = quoted(p.dir.string());
    return fmt::format(
        "#!/bin/bash\n"
        "# Written by `fwdsim slurm`: a scenario's sweep ({points} points) as a job array of\n"
        "# {shards} tasks; task I runs shard I/{shards} and writes shard-I.jsonl and shard-I.csv\n"
        "# beside this script.  merge.sbatch joins them.  The scenario:\n"
        "# {scenario}\n"
        "#SBATCH --job-name=fwdsim-{name}\n"
        "#SBATCH --array=0-{last}\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --cpus-per-task={jobs}\n"
        "#SBATCH --chdir={workdir}\n"
        "#SBATCH --output={logs}/sweep-%A_%a.out\n"
        "{extra}"
        "set -euo pipefail\n"
        "shard=${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}}\n"
        "dir={dir}\n"
        "exec {fwdsim} sweep {scenario} --shard \"$shard/{shards}\" --jobs {jobs} --quiet \\\n"
        "  --json \"$dir/shard-$shard.jsonl\" --csv \"$dir/shard-$shard.csv\"\n",
        fmt::arg("scenario", quoted(p.scenario.string())), fmt::arg("points", p.points), fmt::arg("shards", p.shards),
        fmt::arg("name", p.name), fmt::arg("last", p.shards - 1), fmt::arg("jobs", p.jobs),
        fmt::arg("workdir", p.workdir.string()), fmt::arg("logs", (p.dir / "logs").string()),
        fmt::arg("extra", sbatch_lines(o)), fmt::arg("dir", dir), fmt::arg("fwdsim", quoted(p.fwdsim.string())));
}

std::string merge_script(const Plan& p, const Options& o)
{
    return fmt::format(
        "#!/bin/bash\n"
        "# Written by `fwdsim slurm`: joins the {shards} shards of sweep.sbatch into\n"
        "# results.jsonl and results.csv.  Submit it with --dependency=afterok:<array job id>;\n"
        "# if a task fails, Slurm cancels it (--kill-on-invalid-dep) instead of leaving it pending.\n"
        "#SBATCH --job-name=fwdsim-{name}-merge\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --cpus-per-task=1\n"
        "#SBATCH --kill-on-invalid-dep=yes\n"
        "#SBATCH --chdir={workdir}\n"
        "#SBATCH --output={logs}/merge-%j.out\n"
        "{extra}"
        "set -euo pipefail\n"
        "dir={dir}\n"
        "json=() csv=()\n"
        "for ((i = 0; i < {shards}; ++i)); do\n"
        "  json+=(\"$dir/shard-$i.jsonl\")\n"
        "  csv+=(\"$dir/shard-$i.csv\")\n"
        "done\n"
        "{fwdsim} merge -o \"$dir/results.jsonl\" \"${{json[@]}}\"\n"
        "{fwdsim} merge -o \"$dir/results.csv\" \"${{csv[@]}}\"\n"
        "echo \"fwdsim slurm: merged {shards} shards into $dir/results.jsonl and $dir/results.csv\"\n",
        fmt::arg("shards", p.shards), fmt::arg("name", p.name), fmt::arg("workdir", p.workdir.string()),
        fmt::arg("logs", (p.dir / "logs").string()), fmt::arg("extra", sbatch_lines(o)),
        fmt::arg("dir", quoted(p.dir.string())), fmt::arg("fwdsim", quoted(p.fwdsim.string())));
}

// Writes `text` to `path` through a temporary beside it, so a script is
// never left half-written; executable, as a user may also run it by hand.
void write_script(const fs::path& path, const std::string& text)
{
    const fs::path partial = path.string() + ".partial";
    {
        std::ofstream out(partial, std::ios::trunc);
        out << text;
        out.close();
        if (!out) throw sim::ConfigError(partial.string(), 0, "--out", "cannot write");
    }
    std::error_code ec;
    fs::permissions(partial, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add, ec);
    if (!ec) fs::rename(partial, path, ec);
    if (ec) {
        fs::remove(partial);
        throw sim::ConfigError(path.string(), 0, "--out", ec.message());
    }
}

// The folder, created if missing; refused when it cannot hold files.
void prepare_folder(const fs::path& dir)
{
    std::error_code ec;
    fs::create_directories(dir / "logs", ec);
    if (ec) throw sim::ConfigError(dir.string(), 0, "--out", "cannot create the folder: " + ec.message());
    // Root passes permission bits, so try a file rather than read them.
    const fs::path probe = dir / ".fwdsim-slurm-probe";
    {
        std::ofstream out(probe);
        out << "probe\n";
        out.close();
        if (!out) throw sim::ConfigError(dir.string(), 0, "--out", "cannot write in the folder");
    }
    fs::remove(probe, ec);
}

int slurm(const Options& o)
{
    const auto points = scenario::load_sweep(o.file);
    Plan p;
    p.points = points.size();
    p.shards = *o.shards;
    p.jobs = o.jobs_per_shard;
    if (p.shards > p.points) {
        throw sim::ConfigError(o.file, 0, "--shards",
                               fmt::format("{} array tasks for {} sweep points would leave {} with nothing to run "
                                           "(use at most {})",
                                           p.shards, p.points, p.shards - p.points, p.points));
    }
    p.name = tame(points.front().config.name);
    std::error_code ec;
    p.workdir = fs::current_path(ec);
    if (ec) throw sim::ConfigError(".", 0, "--out", "cannot tell the current directory: " + ec.message());
    p.scenario = fs::absolute(o.file).lexically_normal();
    p.dir = fs::absolute(o.out.empty() ? "slurm-" + p.name : o.out).lexically_normal();
    if (p.dir.filename().empty()) p.dir = p.dir.parent_path(); // "DIR/" written with its slash
    p.fwdsim = o.fwdsim.empty() ? fs::read_symlink("/proc/self/exe", ec) : fs::absolute(o.fwdsim);
    if (ec) throw sim::ConfigError("/proc/self/exe", 0, "--fwdsim", "cannot tell where this fwdsim is; name it with --fwdsim");
    if (!fs::is_regular_file(p.fwdsim, ec)) {
        throw sim::ConfigError(p.fwdsim.string(), 0, "--fwdsim", "no such program");
    }
    // sbatch reads its #SBATCH lines unquoted and expands '%' in --output.
    for (const fs::path* path : {&p.dir, &p.workdir}) {
        if (path->string().find_first_of(" \t\n%") != std::string::npos) {
            throw sim::ConfigError(path->string(), 0, path == &p.dir ? "--out" : "current directory",
                                   "a path with a blank or '%' cannot go into an #SBATCH line");
        }
    }
    prepare_folder(p.dir);
    const fs::path array = p.dir / "sweep.sbatch", merge = p.dir / "merge.sbatch";
    write_script(array, array_script(p, o));
    write_script(merge, merge_script(p, o));
    fmt::print("fwdsim slurm: {} points of {} in {} array tasks of {} CPU{}\n"
               "wrote {} and {}; submit them with:\n\n"
               "  jid=$(sbatch --parsable {})\n"
               "  sbatch --dependency=afterok:\"${{jid%%;*}}\" {}\n\n"
               "The merged results will be {}/results.jsonl and .csv; logs go to {}/logs.\n",
               p.points, o.file, p.shards, p.jobs, p.jobs == 1 ? "" : "s", array.string(), merge.string(),
               quoted(array.string()), quoted(merge.string()), p.dir.string(), p.dir.string());
    if (p.shards > 1001) {
        fmt::print("Note: task indices up to {} need a MaxArraySize above that (Slurm's default is 1001;\n"
                   "`scontrol show config | grep MaxArraySize` tells this cluster's).\n",
                   p.shards - 1);
    }
    return 0;
}

} // namespace

int slurm_main(int argc, char** argv)
{
    Options o;
    if (const int st = parse(argc, argv, o); st >= 0) return st;
    try {
        return slurm(o);
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim slurm: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
