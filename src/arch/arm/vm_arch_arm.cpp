// arch/arm: IRQ forwarding on the vgic-v2 through mapped interrupts, the
// way KVM/arm maps the arch timer's PPI (kvm_vgic_map_phys_irq,
// irq_set_vcpu_affinity, irq_set_irqchip_state), applied to an SPI.
#include <fwdsim/arch/vm_arch.h>

#include <fwdsim/arch/vgic.h>
#include <fwdsim/host/irq_layer.h>

#include <cerrno>
#include <vector>

namespace fwdsim::arch {
namespace {

class ArmVmArch final : public VmArch {
public:
    using VmArch::VmArch;
    std::string_view name() const override { return "arm"; }
    bool can_forward() const override { return true; }

    int forward_irq(unsigned host_irq, unsigned guest_irq) override
    {
        Vgic* v = vgic();
        if (v == nullptr) return -ENODEV;
        if (guest_irq < Vgic::kPrivate || guest_irq >= v->nr_irqs()) return -EINVAL;
        if (host_irq >= env().irqs.nr_irqs()) return -EINVAL;
        if (forwarded_to(host_irq) >= 0 || v->irq(0, guest_irq)->hw) return -EBUSY;
        // vgic_access_active_prepare: the active state read below must be
        // the guest's, not a copy saved at the last exit -- a vCPU holding
        // the interrupt in a list register is halted (its exit folds it).
        (void)v->sync_listed(0, guest_irq);
        const VirtualIrq* virq = v->irq(0, guest_irq);
        // The host must leave the interrupt active for the guest to
        // deactivate; an irqchip without split EOI cannot (the errno is the
        // IRQ layer's, propagated).
        if (const int err = env().irqs.irq_set_vcpu_affinity(host_irq, virq); err < 0) return err;
        (void)v->map_phys_irq(0, guest_irq, host_irq); // checked above: cannot fail
        if (links_.size() <= host_irq) links_.resize(host_irq + 1, -1);
        links_[host_irq] = static_cast<int>(guest_irq);
        // A virtual interrupt the guest has active keeps the physical one
        // active too, so its EOI through the HW list register balances it
        // and the line cannot fire again before that (kvm_timer_vcpu_load).
        if (virq->active) (void)env().irqs.irq_set_irqchip_state(host_irq, host::IrqchipState::active, true);
        return 0;
    }

    void unforward_irq(unsigned host_irq, unsigned guest_irq) override
    {
        if (forwarded_to(host_irq) != static_cast<int>(guest_irq)) return;
        // The guest must not keep an HW list register that deactivates the
        // physical IRQ after it is handed back: halt its holder first.
        if (Vgic* v = vgic()) (void)v->sync_listed(0, guest_irq);
        links_[host_irq] = -1;
        // Hand the active state back: a physical IRQ left active for a
        // guest EOI that will no longer deactivate it would never fire
        // again.  The virtual side keeps whatever state it has.
        bool active = false;
        if (env().irqs.irq_get_irqchip_state(host_irq, host::IrqchipState::active, active) == 0 && active) {
            (void)env().irqs.irq_set_irqchip_state(host_irq, host::IrqchipState::active, false);
        }
        if (Vgic* v = vgic()) v->unmap_phys_irq(0, guest_irq);
        (void)env().irqs.irq_set_vcpu_affinity(host_irq, nullptr);
    }

    int inject_forwarded(unsigned host_irq) override
    {
        const int guest_irq = forwarded_to(host_irq);
        Vgic* v = vgic();
        if (guest_irq < 0 || v == nullptr) return -ENOENT;
        return v->inject_mapped(0, static_cast<unsigned>(guest_irq));
    }

    int forwarded_to(unsigned host_irq) const override
    {
        return host_irq < links_.size() ? links_[host_irq] : -1;
    }

private:
    /// Host IRQ -> guest INTID, -1 where none: indexed, not a map -- it is
    /// looked up on every forwarded interrupt.
    std::vector<int> links_;
};

} // namespace

std::unique_ptr<VmArch> create_arm_vm_arch(const ArchEnv& env)
{
    return std::make_unique<ArmVmArch>(env);
}

} // namespace fwdsim::arch
