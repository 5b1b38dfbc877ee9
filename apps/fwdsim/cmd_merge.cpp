// fwdsim merge: joins the results of sweep shards into one file.
#include "commands.h"

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/result_files.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace fwdsim::app {

int merge_main(int argc, char** argv)
{
    std::string out_path;
    std::vector<std::string> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            fmt::print("usage: fwdsim merge -o OUT SHARD...\n\n"
                       "Joins the outputs of `fwdsim sweep --shard I/N` runs.  The format follows OUT's\n"
                       "extension: .csv (CSV), anything else JSON Lines.  Every record is checked (complete,\n"
                       "of one grid: result format, scenario file, seed and point count) and together the\n"
                       "shards must hold every point of the grid exactly once; anything else is an error\n"
                       "and OUT is left as it was.  The merged file is ordered by point and merges again.\n");
            return 0;
        }
        if (arg == "-o") {
            if (i + 1 >= argc) {
                fmt::print(stderr, "fwdsim merge: -o needs a file name\n");
                return 2;
            }
            out_path = argv[++i];
        } else {
            inputs.emplace_back(arg);
        }
    }
    if (out_path.empty() || inputs.empty()) {
        fmt::print(stderr, "usage: fwdsim merge -o OUT SHARD...\n");
        return 2;
    }
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
