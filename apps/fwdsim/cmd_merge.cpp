// fwdsim merge: joins the results of sweep shards into one file.
#include "commands.h"

#include <fwdsim/scenario/results.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>
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
                       "extension: .jsonl (JSON Lines) or .csv.  Records are ordered by sweep point; a\n"
                       "point present in two shards, or CSV files with different columns, is an error.\n");
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
    const bool csv = out_path.size() >= 4 && out_path.compare(out_path.size() - 4, 4, ".csv") == 0;
    try {
        std::vector<std::pair<std::string, std::string>> files;
        for (const auto& path : inputs) {
            std::ifstream in(path);
            if (!in) {
                throw sim::ConfigError(path, 0, "file", "cannot open shard result");
            }
            std::stringstream text;
            text << in.rdbuf();
            files.emplace_back(path, text.str());
        }
        const std::string merged = csv ? scenario::merge_csv(files) : scenario::merge_json_lines(files);
        std::ofstream out(out_path);
        out << merged;
        if (!out) {
            throw sim::ConfigError(out_path, 0, "file", "cannot write merged result");
        }
        return 0;
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim merge: {}\n", e.what());
        return 1;
    }
}

} // namespace fwdsim::app
