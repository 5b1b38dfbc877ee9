// VgicCosts: what the vgic's own work costs (arch.* keys of a cost profile),
// apart from the vgic itself (arch/vgic.h), so that the generic arch
// interface (ArchEnv) and KVM's environment can carry them without seeing
// the ARM vgic's state.
#pragma once

#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/cycles.h>

namespace fwdsim::arch {

struct VgicCosts {
    sim::Cycles mmio_emulate{}; ///< emulating one trapped GICD access (beyond the trap itself)
    sim::Cycles sort_ap_list{}; ///< sorting the ap_list before a flush

    /// Keys arch.vgic_mmio_emulate and arch.vgic_sort_ap_list.
    static VgicCosts from_profile(const sim::CostProfile& profile);
};

} // namespace fwdsim::arch
