// Command-line parsing shared by the subcommands that use CLI11: one way to
// answer --help, report a bad command line (exit 2, naming the subcommand)
// and read a number with a message naming the option.
#pragma once

#include "commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>

namespace fwdsim::app {

/// Parses argv (argv[0]: the subcommand) into `app`'s options.  Returns -1
/// to go on, 0 after printing the help, 2 after telling stderr what is wrong.
int parse_cli(CLI::App& app, std::string_view cmd, int argc, char** argv);

/// An option holding one number, refused with "--NAME needs a number, not
/// 'X'" (the shell's "--seed -1" included) rather than CLI11's own message;
/// `unit` is how --help names the value (N, US, SECONDS).
template <class T, class Store>
CLI::Option* add_number(CLI::App& app, const std::string& name, const std::string& unit, const std::string& help, Store store)
{
    return app
        .add_option_function<std::string>(
            name,
            [name, store](const std::string& s) {
                T v{};
                if (!parse_number(s, v)) throw CLI::ValidationError(name + " needs a number, not '" + s + "'");
                store(v);
            },
            help)
        ->type_name(unit);
}

} // namespace fwdsim::app
