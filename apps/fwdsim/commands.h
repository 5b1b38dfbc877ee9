// The subcommands of the fwdsim tool.  Each takes its own arguments (argv[0]
// is the subcommand's name) and returns the process exit status.
#pragma once

#include <charconv>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

namespace fwdsim::app {

struct Command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);
};

std::span<const Command> commands();

/// Runs `run` on the script named `file` ("-": standard input), as the
/// script-driven subcommands read their input.  Returns 0, or 1 after
/// telling stderr that `tool` cannot open the file.
int with_script_input(std::string_view tool, const std::string& file, const std::function<void(std::istream&)>& run);

/// Reads all of `s` as one number (decimal; no sign for unsigned types),
/// as the subcommands read their numeric options: false on anything else.
template <class T>
bool parse_number(std::string_view s, T& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

int demo_main(int argc, char** argv);
int params_main(int argc, char** argv);
int profile_main(int argc, char** argv);
int merge_main(int argc, char** argv);
int gic_script_main(int argc, char** argv);
int run_main(int argc, char** argv);
int sweep_main(int argc, char** argv);
int vmm_script_main(int argc, char** argv);
int sensitivity_main(int argc, char** argv);
int slurm_main(int argc, char** argv);

} // namespace fwdsim::app
