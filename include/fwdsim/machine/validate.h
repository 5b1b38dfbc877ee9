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

/// The physical CPU vCPU `id` of VM `vm` is pinned to.
unsigned vcpu_pcpu(const MachineConfig& config, const std::string& vm, unsigned id);

} // namespace fwdsim::machine
