#include <fwdsim/kvm/kvm_costs.h>

namespace fwdsim::kvm {

KvmCosts KvmCosts::from_profile(const sim::CostProfile& p)
{
    KvmCosts c;
    c.world_switch_enter = p.get("kvm.world_switch_enter");
    c.world_switch_exit = p.get("kvm.world_switch_exit");
    c.handle_exit = p.get("kvm.handle_exit");
    c.run_loop = p.get("kvm.run_loop");
    c.vcpu_block = p.get("kvm.vcpu_block");
    c.hypercall = p.get("kvm.hypercall");
    c.irq_line = p.get("kvm.irq_line");
    c.irqfd_inject = p.get("kvm.irqfd_inject");
    c.mmio_abort = p.get("kvm.mmio_abort");
    c.vgic_save = p.get("kvm.vgic_save");
    c.vgic_restore = p.get("kvm.vgic_restore");
    c.vcpu_put = p.get("kvm.vcpu_put");
    c.vcpu_load = p.get("kvm.vcpu_load");
    c.vgic_inject = p.get("kvm.vgic_inject");
    c.memslot_update = p.get("kvm.memslot_update");
    c.eventfd_signal = p.get("host.eventfd_signal");
    return c;
}

} // namespace fwdsim::kvm
