// The arch-independent half of VmArch: the irqchip life cycle and the
// choice of arch.  See include/fwdsim/arch/vm_arch.h.
#include <fwdsim/arch/vm_arch.h>

#include <fwdsim/arch/vgic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/host/irq_layer.h>

#include <algorithm>
#include <cerrno>

namespace fwdsim::arch {

std::unique_ptr<VmArch> create_arm_vm_arch(const ArchEnv& env);     // arm/vm_arch_arm.cpp
std::unique_ptr<VmArch> create_minimal_vm_arch(const ArchEnv& env); // minimal/vm_arch_minimal.cpp

// Out of line, as the destructor: the vgic is a complete type only here.
VmArch::VmArch(const ArchEnv& env) : env_(env) {}
VmArch::~VmArch() = default;

int VmArch::create_irqchip()
{
    if (created_) return -EEXIST;
    created_ = true;
    return 0;
}

int VmArch::set_nr_irqs(unsigned nr_irqs)
{
    if (!created_) return -ENXIO;
    // The range first, then whether NR_IRQS was set or defaulted already.
    if (nr_irqs < Vgic::kMinNrIrqs || nr_irqs > Vgic::kMaxNrIrqs || nr_irqs % 32 != 0) return -EINVAL;
    if (nr_irqs > env_.gic.params().num_irqs) return -EINVAL; // model limit: more than the host GIC backs
    if (nr_irqs_set_ || vgic_) return -EBUSY;
    nr_irqs_ = nr_irqs;
    nr_irqs_set_ = true;
    return 0;
}

unsigned VmArch::configured_nr_irqs() const
{
    if (vgic_) return vgic_->nr_irqs();
    return nr_irqs_set_ ? nr_irqs_ : Vgic::kPrivate;
}

int VmArch::init_irqchip(unsigned nr_vcpus)
{
    if (!created_) return -ENXIO;
    if (vgic_) return -EBUSY;
    if (nr_vcpus == 0 || nr_vcpus > Vgic::kMaxVcpus) return -EINVAL;
    vgic_ = std::make_unique<Vgic>(env_.gic, nr_vcpus, std::min(nr_irqs_, env_.gic.params().num_irqs), env_.costs,
                                   [this](unsigned v) {
                                       if (kick_) kick_(v);
                                   });
    vgic_->set_ack_notifier([this](unsigned intid) {
        if (ack_) ack_(intid);
    });
    vgic_->set_halt([this](unsigned v) {
        if (halt_) halt_(v);
    });
    vgic_->set_phys_state([this](unsigned host_irq, host::IrqchipState which, bool value) {
        (void)env_.irqs.irq_set_irqchip_state(host_irq, which, value);
    });
    return 0;
}

int VmArch::inject(unsigned vcpu, unsigned intid, bool level)
{
    if (!vgic_) return -ENODEV;
    return vgic_->inject(vcpu, intid, level);
}

std::string_view arch_name(ArchKind kind)
{
    return kind == ArchKind::arm ? "arm" : "minimal";
}

int parse_arch(std::string_view name, ArchKind& out)
{
    if (name == "arm") out = ArchKind::arm;
    else if (name == "minimal") out = ArchKind::minimal;
    else return -EINVAL;
    return 0;
}

std::unique_ptr<VmArch> create_vm_arch(ArchKind kind, const ArchEnv& env)
{
    return kind == ArchKind::arm ? create_arm_vm_arch(env) : create_minimal_vm_arch(env);
}

} // namespace fwdsim::arch
