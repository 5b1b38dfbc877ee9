// fwdsim gic-script FILE|-: drives a bare GIC, one command a line.
#include "cli.h"
#include "commands.h"

#include <fwdsim/gic/gic_script.h>

#include <fmt/format.h>

#include <iostream>
#include <stdexcept>
#include <string>

namespace fwdsim::app {
namespace {

constexpr const char* kDescription = R"(Drives a bare GICv2 model one command a line (FILE, or - for standard input),
answering one line per command.  Addresses are QEMU virt's: GICD 0x08000000,
GICC 0x08010000, GICH 0x08030000, GICV 0x08040000 (GICH/GICV are the selected
CPU's).)";

constexpr const char* kCommands = R"(commands:
  cpu N                 select the CPU whose banked view later accesses use
  readl ADDR | readb ADDR          -> OK 0xVALUE
  writel ADDR VALUE | writeb ADDR VALUE
  spi ID LEVEL          drive SPI input ID to 0 or 1
  ppi CPU ID LEVEL      drive a PPI input of one CPU
  step CYCLES           advance simulated time
  irq CPU | fiq CPU     the CPU's nIRQ / nFIQ line now -> OK 0|1
  virq CPU | vfiq CPU   its virtual nVIRQ / virtual nFIQ line now -> OK 0|1
  maint CPU             whether the maintenance PPI 25 is pending at CPU
Numbers are decimal or 0x-prefixed; '#' starts a comment; a malformed line
answers ERR <reason> and the script goes on.  Before each command the
simulation runs until all propagation under way has reached the outputs.)";

} // namespace

int gic_script_main(int argc, char** argv)
{
    gic::GicScriptOptions options;
    std::string file;
    CLI::App app(kDescription, "fwdsim gic-script");
    app.add_option("FILE", file, "the script, or - for standard input")->required();
    const auto count = [&app](const std::string& name, const std::string& help, unsigned& target) {
        add_number<unsigned>(app, name, "N", help + " (default " + std::to_string(target) + ")",
                             [&target](unsigned v) { target = v; });
    };
    count("--irqs", "interrupt IDs the distributor implements", options.irqs);
    count("--cpus", "CPU interfaces", options.cpus);
    count("--lrs", "list registers per CPU", options.lrs);
    count("--priority-bits", "priority bits implemented", options.priority_bits);
    app.footer(kCommands);
    if (const int st = parse_cli(app, "gic-script", argc, argv); st >= 0) return st;
    try {
        return with_script_input("gic-script", file, [&](std::istream& in) { gic::run_gic_script(in, std::cout, options); });
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "fwdsim gic-script: {}\n", e.what());
        return 2;
    }
}

} // namespace fwdsim::app
