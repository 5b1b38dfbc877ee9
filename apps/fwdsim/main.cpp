// fwdsim: the command-line front end.  Dispatches to a subcommand.
#include "commands.h"

#include <fwdsim/scenario/resolved.h>

#include <fmt/format.h>

#include <cstdio>
#include <string_view>

namespace {

void usage(std::FILE* out)
{
    fmt::print(out, "usage: fwdsim <command> [options]\n\ncommands:\n");
    for (const auto& c : fwdsim::app::commands()) {
        fmt::print(out, "  {:<14} {}\n", c.name, c.summary);
    }
    fmt::print(out, "\n'fwdsim <command> --help' describes a command's options.\n");
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version") {
        fmt::print("fwdsim {}\n", fwdsim::scenario::fwdsim_version());
        return 0;
    }
    for (const auto& c : fwdsim::app::commands()) {
        if (c.name == name) {
            return c.run(argc - 1, argv + 1);
        }
    }
    fmt::print(stderr, "fwdsim: unknown command '{}'\n\n", name);
    usage(stderr);
    return 2;
}
