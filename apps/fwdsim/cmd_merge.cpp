// fwdsim merge: joins the results of sweep shards into one file.
#include "cli.h"

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/result_files.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace fwdsim::app {

int merge_main(int argc, char** argv)
{
    std::string out_path;
    std::vector<std::string> inputs;
    CLI::App app("Joins the outputs of `fwdsim sweep --shard I/N` runs.  The format follows OUT's extension:\n"
                 ".csv (CSV), anything else JSON Lines.  Every record is checked (complete, of one grid:\n"
                 "result format, scenario file and overrides, seed and point count) and together the shards\n"
                 "must hold every point of the grid exactly once; anything else is an error and OUT is left\n"
                 "as it was.  The merged file is ordered by point and merges again.",
                 "fwdsim merge");
    app.add_option("-o,--output", out_path, "the merged file")->type_name("OUT")->required();
    app.add_option("SHARD", inputs, "the shards' result files (any order)")->required();
    if (const int st = parse_cli(app, "merge", argc, argv); st >= 0) return st;
    try {
        std::vector<std::pair<std::string, std::string>> files;
        for (const auto& path : inputs) {
            files.emplace_back(path, scenario::read_input_file(path, "shard result"));
        }
        const scenario::ResultFormat format = scenario::format_of(out_path);
        const std::string merged = scenario::merge_results(format, files);
        scenario::OutputFile out(out_path, "-o");
        out.write(merged);
        out.commit();
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim merge: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
