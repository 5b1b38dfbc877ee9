#include "commands.h"

#include <array>

namespace fwdsim::app {

std::span<const Command> commands()
{
    static constexpr std::array kCommands{
        Command{"demo", "run the headline comparison (userspace vs irqfd vs forwarded) and print its table", demo_main},
        Command{"gic-script", "drive a bare GICv2 one register access a line (qtest-like)", gic_script_main},
        Command{"merge", "join the result files of sweep shards", merge_main},
        Command{"run", "run one scenario file and print what each interrupt measured", run_main},
        Command{"sweep", "run a scenario's sweep grid in parallel (or one --shard of it)", sweep_main},
        Command{"vmm-script", "a VMM process making one VFIO/KVM call a line on a simulated host", vmm_script_main},
        Command{"profile", "list a cost profile's primitives (default: the built-in one)", profile_main},
    };
    return kCommands;
}

} // namespace fwdsim::app
