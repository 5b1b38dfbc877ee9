#include "cli.h"

#include <fwdsim/sim/config_error.h>

#include <cstdio>

namespace fwdsim::app {

int parse_cli(CLI::App& app, std::string_view cmd, int argc, char** argv)
{
    app.get_formatter()->column_width(34);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        fmt::print("{}", app.help());
        return 0;
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "fwdsim {}: {} (see --help)\n", cmd, e.what());
        return 2;
    } catch (const sim::ConfigError& e) { // a value an option's own parser refused
        fmt::print(stderr, "fwdsim {}: {}\n", cmd, e.what());
        return 2;
    }
    return -1;
}

} // namespace fwdsim::app
