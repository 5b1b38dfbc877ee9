// Vm: the generic KVM side of one virtual machine's interrupts
// (virt/kvm/eventfd.c, arch/arm64/kvm/arm.c: kvm_vm_ioctl_irq_line).
//
// It owns the VM's irqfds and their resamplers and decodes KVM_IRQ_LINE, and
// hands every injection to the arch's vgic as (vcpu, INTID, level).  GSI
// routing is KVM/arm's default irqchip routing: GSI n is SPI pin n, that is
// INTID n + 32.  Injection from an eventfd runs synchronously in the
// signaller's context (KVM defers it to a work item; its cost is the
// caller's to charge).  The world switch, vCPUs and kvm devices are not here
// yet.
#pragma once

#include <fwdsim/arch/vgic.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>

namespace fwdsim::kvm {

// include/uapi/linux/kvm.h
constexpr std::uint32_t kIrqfdFlagDeassign = 1u << 0;
constexpr std::uint32_t kIrqfdFlagResample = 1u << 1;
constexpr unsigned kArmIrqTypeShift = 24;
constexpr unsigned kArmIrqVcpuShift = 16;
constexpr std::uint32_t kArmIrqTypeCpu = 0;
constexpr std::uint32_t kArmIrqTypeSpi = 1;
constexpr std::uint32_t kArmIrqTypePpi = 2;

class Vm {
public:
    explicit Vm(arch::Vgic& vgic);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    /// KVM_IRQ_LINE with the ARM encoding of `irq` (type, vcpu index, number).
    int irq_line(std::uint32_t irq, std::uint32_t level);
    /// KVM_IRQFD: assign (with an optional resamplefd) or deassign.
    int irqfd(host::Process& proc, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd);
    /// kvm_set_irq for an irqchip GSI.
    int set_irq(std::uint32_t gsi, bool level);

    /// Live (assigned, not shut down) irqfds.
    std::size_t irqfd_count() const { return irqfds_.size(); }
    std::size_t resampler_count() const { return resamplers_.size(); }

private:
    struct Irqfd;
    struct Resampler;
    void on_ack(unsigned intid);
    void shutdown(Irqfd& irqfd);

    arch::Vgic& vgic_;
    std::list<std::unique_ptr<Irqfd>> irqfds_;
    std::list<std::unique_ptr<Irqfd>> retired_; ///< shut down, destroyed at the next safe point
    std::map<std::uint32_t, std::unique_ptr<Resampler>> resamplers_; // by GSI
};

} // namespace fwdsim::kvm
