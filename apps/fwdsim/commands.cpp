#include "commands.h"

#include <fmt/core.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fwdsim::app {

std::span<const Command> commands()
{
    static constexpr std::array kCommands{
        Command{"demo", "run the headline comparison (userspace vs irqfd vs forwarded) and print its table", demo_main},
        Command{"gic-script", "drive a bare GICv2 one register access a line (qtest-like)", gic_script_main},
        Command{"merge", "join the result files of sweep shards", merge_main},
        Command{"run", "run one scenario file and print what each interrupt measured", run_main},
        Command{"slurm", "write a Slurm job array (one sweep shard per task) and its merge job", slurm_main},
        Command{"sweep", "run a scenario's sweep grid in parallel (or one --shard of it)", sweep_main},
        Command{"vmm-script", "a VMM process making one VFIO/KVM call a line on a simulated host", vmm_script_main},
        Command{"params", "list every scenario key with its default, unit, range and meaning", params_main},
        Command{"profile", "list a cost profile's primitives (default: the built-in one)", profile_main},
        Command{"sensitivity", "how results and declared comparisons move over the cost primitives' ranges", sensitivity_main},
    };
    return kCommands;
}

int with_script_input(std::string_view tool, const std::string& file, const std::function<void(std::istream&)>& run)
{
    if (file == "-") {
        run(std::cin);
        return 0;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        fmt::print(stderr, "fwdsim {}: {} is a directory, not a script\n", tool, file);
        return 1;
    }
    std::ifstream in(file);
    if (!in) {
        fmt::print(stderr, "fwdsim {}: cannot open {}\n", tool, file);
        return 1;
    }
    run(in);
    return 0;
}

} // namespace fwdsim::app
