// GicScript: drives a bare GIC one command a line, in the spirit of QEMU's
// qtest protocol, for tests, for differential runs against QEMU, and for
// users probing the model by hand (`fwdsim gic-script FILE`).
//
// Addresses follow QEMU virt's map (MemoryMap).  Each command answers one
// line: `OK`, `OK 0xVALUE`, `OK 0|1`, or `ERR <reason>` for a malformed line,
// after which the script goes on.  Time: before every command the
// simulation runs until nothing is scheduled (every propagation already
// under way reaches the outputs); `step N` then advances N more cycles.
// Register accesses themselves take effect at once and cost nothing here
// (there is no CPU model to charge).
#pragma once

#include <fwdsim/gic/gic.h>

#include <iosfwd>
#include <memory>
#include <string>

namespace fwdsim::gic {

struct GicScriptOptions {
    unsigned irqs = 256;
    unsigned cpus = 1;
    unsigned lrs = 4;
    unsigned priority_bits = 5;
};

class GicScript {
public:
    explicit GicScript(const GicScriptOptions& options);
    ~GicScript();

    /// Executes one line; returns its answer (without newline), or an empty
    /// string for a blank or comment line.
    std::string execute(const std::string& line);

    Gic& gic() { return *gic_; }
    sim::EventQueue& queue() { return queue_; }

private:
    sim::EventQueue queue_;
    std::unique_ptr<Gic> gic_;
    unsigned cpu_ = 0;
};

/// Runs every line of `in`, writing one answer line per command and
/// flushing after each.  Returns the number of ERR answers.
std::size_t run_gic_script(std::istream& in, std::ostream& out, const GicScriptOptions& options);

} // namespace fwdsim::gic
