// HostBoard: one ARM host with a GICv2 running Linux with KVM -- the physical
// GIC, the host's GIC driver and IRQ layer, its physical CPUs wired to the
// GIC's nIRQ outputs, and the KVM module over them: the board every machine
// of this layer is built on (Machine, the vmm-script machine, the
// microbenchmarks' machine; the kvm and kvm-vfio tests use it too).  VFIO,
// devices and VMMs go on top.
//
// The caller calls kvm->init() (its errno is the caller's to report) and
// registers further kvm device types (kvm_vfio::register_device).  Destroy
// whatever holds VM files (the VMM processes) and VFIO before this.
#pragma once

#include <fwdsim/arch/vm_arch.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/host_costs.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/trace.h>

#include <memory>
#include <vector>

namespace fwdsim::machine {

struct HostBoardParams {
    gic::GicParams gic;               ///< num_cpus is the number of physical CPUs
    arch::ArchKind arch = arch::ArchKind::arm;
    host::GicDriverParams driver;
    sim::Tracer* tracer = nullptr;
};

struct HostBoard {
    HostBoard(sim::EventQueue& events, const sim::CostProfile& profile, const HostBoardParams& params);
    HostBoard(const HostBoard&) = delete;
    HostBoard& operator=(const HostBoard&) = delete;

    host::HostCosts host_costs;
    host::ThisCpu this_cpu;
    std::unique_ptr<gic::Gic> gic;
    std::unique_ptr<host::GicDriver> driver;
    std::unique_ptr<host::IrqLayer> irqs;
    std::vector<std::unique_ptr<host::Cpu>> cpus;
    std::unique_ptr<kvm::Kvm> kvm;
};

} // namespace fwdsim::machine
