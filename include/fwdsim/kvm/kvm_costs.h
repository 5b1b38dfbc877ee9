// KvmCosts: KVM's primitive costs, read once from a cost profile (keys
// "kvm.*").  A world switch, an exit's handling and a vCPU wake-up are
// composed from these and from the vgic's GICH accesses; no end-to-end
// figure lives here.
#pragma once

#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/cycles.h>

namespace fwdsim::kvm {

struct KvmCosts {
    sim::Cycles world_switch_enter{}; ///< host -> guest, beyond the vgic flush
    sim::Cycles world_switch_exit{};  ///< guest -> host, beyond the vgic fold
    sim::Cycles handle_exit{};        ///< decoding and dispatching one exit
    sim::Cycles run_loop{};           ///< one pass of the run loop before entry
    sim::Cycles vcpu_block{};         ///< WFI with nothing pending: block
    sim::Cycles hypercall{};          ///< handling one HVC
    sim::Cycles irq_line{};           ///< KVM_IRQ_LINE beyond the syscall
    sim::Cycles irqfd_inject{};       ///< an irqfd's wake-up and injection
    sim::Cycles vgic_save{};          ///< exit: the vgic-v2 state beyond the list registers (GICH reads)
    sim::Cycles vgic_restore{};       ///< entry: the same state written back
    sim::Cycles mmio_abort{};         ///< decoding a stage-2 data abort on emulated MMIO and its io-bus dispatch
    sim::Cycles vcpu_put{};           ///< a vCPU thread scheduled out (kvm_arch_vcpu_put)
    sim::Cycles vcpu_load{};          ///< a vCPU thread scheduled in (kvm_arch_vcpu_load)
    sim::Cycles vgic_inject{};        ///< kvm_vgic_inject_irq of a forwarded (mapped) IRQ from its host handler
    sim::Cycles memslot_update{};     ///< KVM_SET_USER_MEMORY_REGION adding or removing a slot, beyond the syscall
    sim::Cycles eventfd_signal{};     ///< host.eventfd_signal, for KVM's own signals (ioeventfd, resamplefd)

    static KvmCosts from_profile(const sim::CostProfile& profile);
};

} // namespace fwdsim::kvm
