// What a MachineConfig must satisfy before a machine is built from it.
//
// validate() refuses (sim::ConfigError naming the file, line and key) a
// configuration whose machine cannot be wired: values outside their ranges
// (for a configuration built in C++), interrupts a device kind cannot have,
// two devices on one host IRQ or one guest IRQ, INTx beside MSI-X on one PCI
// device, a timer on the vgic maintenance PPI, a switch of an interrupt that
// is not there, an unreadable traffic trace.  The builder calls it first; a
// sweep calls it for every point before running any.
#pragma once

#include <fwdsim/machine/config.h>

namespace fwdsim::machine {

void validate(const MachineConfig& config);
/// validate(), and what a file owes itself besides: no VMM action after the
/// file's own end of run.  A run shortened later (--duration-us, or code
/// that changes duration_us) just ends before it.  The scenario reader
/// calls it.
void validate_file(const MachineConfig& config);

/// The physical CPU vCPU `id` of VM `vm` is pinned to.
unsigned vcpu_pcpu(const MachineConfig& config, const std::string& vm, unsigned id);

} // namespace fwdsim::machine
