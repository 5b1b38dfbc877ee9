// The subcommands of the fwdsim tool.  Each takes its own arguments (argv[0]
// is the subcommand's name) and returns the process exit status.
#pragma once

#include <span>
#include <string_view>

namespace fwdsim::app {

struct Command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);
};

std::span<const Command> commands();

int demo_main(int argc, char** argv);
int profile_main(int argc, char** argv);
int merge_main(int argc, char** argv);
int gic_script_main(int argc, char** argv);
int run_main(int argc, char** argv);
int sweep_main(int argc, char** argv);
int vmm_script_main(int argc, char** argv);

} // namespace fwdsim::app
