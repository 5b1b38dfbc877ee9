// VmArch: what KVM's generic code asks of the architecture for one VM
// (kvm->arch): the in-kernel irqchip, injection, the per-vCPU hooks around
// a world switch, and -- an arch capability -- IRQ forwarding.
//
// Forwarding is offered as operations on (kvm, host_irq, guest_irq) only:
// `this` is the kvm, host_irq a host IRQ number, guest_irq the guest's
// INTID.  Nothing VFIO-specific crosses this interface; kvm-vfio resolves
// (device, index, subindex) to a host IRQ before it calls in.
//
// Two arches implement it: arch::arm (the vgic-v2 with mapped interrupts:
// list registers with the HW bit, so the guest's EOI deactivates the
// physical interrupt) and arch::minimal (the same vgic without mapped
// interrupts: can_forward() is false and users fall back to irqfd).  Both
// keep the irqchip life cycle of the vgic-v2 kvm device: created once
// (-EEXIST), sized before init (-EBUSY after), initialised once for the
// vCPUs that exist.
//
// Generic code sees the vgic only as a declared type (vgic() hands it out;
// its members are in arch/vgic.h, the ARM vgic's own header) and its costs.
#pragma once

#include <fwdsim/arch/vgic_costs.h>

#include <functional>
#include <memory>
#include <string_view>

namespace fwdsim::gic {
class Gic;
}
namespace fwdsim::host {
class IrqLayer;
}

namespace fwdsim::arch {

class Vgic;

/// What an arch needs from the machine it runs on.
struct ArchEnv {
    gic::Gic& gic;
    host::IrqLayer& irqs;
    VgicCosts costs;
};

class VmArch {
public:
    explicit VmArch(const ArchEnv& env);
    virtual ~VmArch();
    VmArch(const VmArch&) = delete;
    VmArch& operator=(const VmArch&) = delete;

    virtual std::string_view name() const = 0;

    // --- the irqchip (KVM_CREATE_DEVICE vgic-v2 and its attributes) ---------
    /// -EEXIST when the VM has one already.
    int create_irqchip();
    bool has_irqchip() const { return created_; }
    /// KVM_DEV_ARM_VGIC_GRP_NR_IRQS (vgic-kvm-device.c
    /// vgic_set_common_attr): -ENXIO without an irqchip; -EINVAL unless a
    /// multiple of 32 in 64..992, Vgic::kMinNrIrqs..kMaxNrIrqs (or, a model limit, more than the host
    /// GIC's lines); then -EBUSY once set or initialised: set once.
    int set_nr_irqs(unsigned nr_irqs);
    /// The interrupt IDs the vgic has or will have (256 by default).
    unsigned nr_irqs() const { return nr_irqs_; }
    /// What KVM_GET_DEVICE_ATTR NR_IRQS reads: nr_spis + 32, so 32 until
    /// set or initialised.
    unsigned configured_nr_irqs() const;
    /// vgic_init for `nr_vcpus` vCPUs: -ENXIO without an irqchip, -EBUSY
    /// when already initialised, -EINVAL for no vCPU or more than 8.
    int init_irqchip(unsigned nr_vcpus);
    bool initialized() const { return vgic_ != nullptr; }
    /// The vgic once initialised, else null.
    Vgic* vgic() { return vgic_.get(); }
    const Vgic* vgic() const { return vgic_.get(); }

    /// Called with a vCPU index when an interrupt was queued for it.
    void set_kick(std::function<void(unsigned vcpu)> kick) { kick_ = std::move(kick); }
    /// Called with the INTID of a level interrupt the guest EOIed (ack notifier).
    void set_ack_notifier(std::function<void(unsigned intid)> ack) { ack_ = std::move(ack); }
    /// kvm_arm_halt_guest for one vCPU: it must leave the guest at once
    /// (its exit folds its list registers on its own CPU).
    void set_halt(std::function<void(unsigned vcpu)> halt) { halt_ = std::move(halt); }

    /// kvm_vgic_inject_irq; -ENODEV before init, -EINVAL for a bad INTID.
    int inject(unsigned vcpu, unsigned intid, bool level);

    // --- IRQ forwarding: the arch capability ---------------------------------
    virtual bool can_forward() const = 0;
    /// Links host_irq to guest_irq so the guest's EOI deactivates it.  Errors
    /// are found before anything changes: -ENODEV before init, -EINVAL for a
    /// guest_irq that is not an SPI or a bad host_irq, -EBUSY when either
    /// side is linked already, else what the host IRQ layer says.  An IRQ
    /// the guest has active moves its active state to the physical side;
    /// the active state is read exactly, whatever the vCPU is doing: a
    /// vCPU holding it in a list register is halted first.
    virtual int forward_irq(unsigned host_irq, unsigned guest_irq) = 0;
    /// Cannot fail; a no-op for a pair that is not linked.  A physical IRQ
    /// active on the guest's behalf is deactivated, the virtual one keeps
    /// its state (a vCPU holding it in a list register is halted first,
    /// so its LR goes back as a software interrupt at the next entry).
    virtual void unforward_irq(unsigned host_irq, unsigned guest_irq) = 0;
    /// A forwarded host IRQ fired (hard-IRQ context): make its guest IRQ
    /// pending.  -ENOENT when host_irq is not forwarded.
    virtual int inject_forwarded(unsigned host_irq) = 0;
    /// The guest IRQ host_irq is forwarded to, or -1.
    virtual int forwarded_to(unsigned host_irq) const = 0;

protected:
    const ArchEnv& env() const { return env_; }

private:
    ArchEnv env_;
    bool created_ = false;
    unsigned nr_irqs_ = 256;
    bool nr_irqs_set_ = false;
    std::unique_ptr<Vgic> vgic_;
    std::function<void(unsigned)> kick_;
    std::function<void(unsigned)> ack_;
    std::function<void(unsigned)> halt_;
};

/// The arches fwdsim provides, by name ("arm", "minimal").
enum class ArchKind { arm, minimal };
std::string_view arch_name(ArchKind kind);
/// -EINVAL for an unknown name.
int parse_arch(std::string_view name, ArchKind& out);
std::unique_ptr<VmArch> create_vm_arch(ArchKind kind, const ArchEnv& env);

} // namespace fwdsim::arch
