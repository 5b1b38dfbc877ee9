// fwdsim params: the machine's parameter table (machine/params.h), as text
// or as the Markdown table docs/scenario-format.md holds.
#include "cli.h"

#include <fwdsim/machine/params.h>

#include <fmt/format.h>

namespace fwdsim::app {

int params_main(int argc, char** argv)
{
    bool markdown = false, script = false;
    CLI::App app("Lists every key a scenario file (or --set, or a sweep) gives a machine: its default, unit,\n"
                 "range and what it is for.  Each value is checked against this table, once, and refused\n"
                 "with its file, line and key.",
                 "fwdsim params");
    app.add_flag("--markdown", markdown, "print the table docs/scenario-format.md holds");
    app.add_flag("--vmm-script", script, "the vmm-script machine's --config keys instead");
    if (const int st = parse_cli(app, "params", argc, argv); st >= 0) return st;
    const auto table = script ? machine::script_param_table() : machine::param_table();
    fmt::print("{}", markdown ? machine::param_markdown(table) : machine::param_help(table));
    return 0;
}

} // namespace fwdsim::app
