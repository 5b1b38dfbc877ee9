// fwdsim gic-script FILE|-: drives a bare GIC, one command a line.
#include "commands.h"

#include <fwdsim/gic/gic_script.h>

#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <string_view>

namespace fwdsim::app {
namespace {

constexpr const char* kHelp = R"(usage: fwdsim gic-script [--irqs N] [--cpus N] [--lrs N] [--priority-bits N] FILE|-

Drives a bare GICv2 model one command a line (FILE, or - for standard input),
answering one line per command.  Addresses are QEMU virt's: GICD 0x08000000,
GICC 0x08010000, GICH 0x08030000, GICV 0x08040000 (GICH/GICV are the selected
CPU's).

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
simulation runs until all propagation under way has reached the outputs.

options: --irqs N (interrupt IDs, default 256) --cpus N (default 1)
         --lrs N (list registers, default 4) --priority-bits N (default 5)
)";

} // namespace

int gic_script_main(int argc, char** argv)
{
    gic::GicScriptOptions options;
    std::string file;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            fmt::print("{}", kHelp);
            return 0;
        }
        unsigned* target = a == "--irqs" ? &options.irqs
                           : a == "--cpus" ? &options.cpus
                           : a == "--lrs" ? &options.lrs
                           : a == "--priority-bits" ? &options.priority_bits
                                                    : nullptr;
        if (target != nullptr) {
            if (i + 1 >= argc || !parse_number(argv[i + 1], *target)) {
                fmt::print(stderr, "fwdsim gic-script: {} needs a number\n", a);
                return 2;
            }
            ++i;
        } else if (file.empty() && (a == "-" || a[0] != '-')) {
            file = a;
        } else {
            fmt::print(stderr, "fwdsim gic-script: unexpected argument '{}'\n{}", a, kHelp);
            return 2;
        }
    }
    if (file.empty()) {
        fmt::print(stderr, "{}", kHelp);
        return 2;
    }
    try {
        return with_script_input("gic-script", file, [&](std::istream& in) { gic::run_gic_script(in, std::cout, options); });
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "fwdsim gic-script: {}\n", e.what());
        return 2;
    }
}

} // namespace fwdsim::app
