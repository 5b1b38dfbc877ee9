#include <fwdsim/kvm/vm.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace fwdsim::kvm {

// One irqfd (struct kvm_kernel_irqfd): an eventfd whose signal raises a GSI.
struct Vm::Irqfd {
    Irqfd(Vm& vm, host::EventfdCtxRef ctx, std::uint32_t gsi, host::EventfdCtxRef resample)
        : vm(vm), ctx(std::move(ctx)), gsi(gsi), resamplefd(std::move(resample)),
          wait([this](host::EventfdCtx&, unsigned events) { woken(events); })
    {
    }
    void woken(unsigned events)
    {
        if (events & host::pollin) {
            std::uint64_t count = 0;
            (void)ctx->read(count);
            // irqfd_inject: a resampling irqfd holds the line until the guest's
            // EOI (the resampler lowers it); a plain one pulses it.
            vm.set_irq(gsi, true);
            if (!resamplefd) vm.set_irq(gsi, false);
        }
        if (events & host::pollhup) vm.shutdown(*this); // destroyed later: we are inside our own callback
    }

    Vm& vm;
    host::EventfdCtxRef ctx;
    std::uint32_t gsi;
    host::EventfdCtxRef resamplefd; ///< null: not a resampling irqfd
    host::WaitQueueEntry wait;
};

// One resampler per GSI (struct kvm_kernel_irqfd_resampler).
struct Vm::Resampler {
    std::vector<Irqfd*> irqfds;
};

Vm::Vm(arch::Vgic& vgic) : vgic_(vgic)
{
    vgic_.set_ack_notifier([this](unsigned intid) { on_ack(intid); });
}

Vm::~Vm()
{
    vgic_.set_ack_notifier({});
    while (!irqfds_.empty()) shutdown(*irqfds_.front());
    retired_.clear();
}

int Vm::set_irq(std::uint32_t gsi, bool level)
{
    if (gsi + arch::Vgic::kPrivate >= vgic_.nr_irqs()) return -EINVAL;
    return vgic_.inject(0, gsi + arch::Vgic::kPrivate, level);
}

int Vm::irq_line(std::uint32_t irq, std::uint32_t level)
{
    const std::uint32_t type = (irq >> kArmIrqTypeShift) & 0xFF;
    const std::uint32_t vcpu = (irq >> kArmIrqVcpuShift) & 0xFF;
    const std::uint32_t num = irq & 0xFFFF;
    switch (type) {
    case kArmIrqTypeCpu:
        return -ENXIO; // with an in-kernel irqchip the CPU lines are not the VMM's
    case kArmIrqTypeSpi:
        if (num < arch::Vgic::kPrivate || num >= vgic_.nr_irqs()) return -EINVAL;
        return vgic_.inject(0, num, level != 0);
    case kArmIrqTypePpi:
        if (vcpu >= vgic_.nr_vcpus() || num < 16 || num >= arch::Vgic::kPrivate) return -EINVAL;
        return vgic_.inject(vcpu, num, level != 0);
    default:
        return -EINVAL;
    }
}

int Vm::irqfd(host::Process& proc, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd)
{
    retired_.clear();
    if (flags & ~(kIrqfdFlagDeassign | kIrqfdFlagResample)) return -EINVAL;
    host::EventfdCtxRef ctx;
    if (const int err = host::eventfd_ctx_fdget(proc, fd, ctx); err < 0) return err;

    if (flags & kIrqfdFlagDeassign) {
        // kvm_irqfd_deassign: every irqfd of this eventfd and GSI goes.
        std::vector<Irqfd*> doomed;
        for (auto& i : irqfds_) {
            if (i->ctx.get() == ctx.get() && i->gsi == gsi) doomed.push_back(i.get());
        }
        for (Irqfd* i : doomed) shutdown(*i);
        return 0;
    }
    if (gsi + arch::Vgic::kPrivate >= vgic_.nr_irqs()) return -EINVAL;
    for (auto& i : irqfds_) {
        if (i->ctx.get() == ctx.get()) return -EBUSY;
    }
    host::EventfdCtxRef resample;
    if (flags & kIrqfdFlagResample) {
        if (const int err = host::eventfd_ctx_fdget(proc, resamplefd, resample); err < 0) return err;
    }
    auto irqfd = std::make_unique<Irqfd>(*this, std::move(ctx), gsi, std::move(resample));
    Irqfd& ref = *irqfd;
    irqfds_.push_back(std::move(irqfd));
    if (ref.resamplefd) {
        auto& r = resamplers_[gsi];
        if (!r) r = std::make_unique<Resampler>();
        r->irqfds.push_back(&ref);
    }
    // vfs_poll at assignment: an eventfd signalled earlier injects at once.
    const unsigned ready = ref.ctx->add_wait(ref.wait);
    if (ready) ref.woken(ready);
    return 0;
}

void Vm::on_ack(unsigned intid)
{
    // irqfd_resampler_ack: lower the line, then tell every resamplefd.
    if (intid < arch::Vgic::kPrivate) return;
    const std::uint32_t gsi = intid - arch::Vgic::kPrivate;
    const auto it = resamplers_.find(gsi);
    if (it == resamplers_.end()) return;
    set_irq(gsi, false);
    for (Irqfd* i : it->second->irqfds) i->resamplefd->signal(1);
}

void Vm::shutdown(Irqfd& irqfd)
{
    if (irqfd.wait.queued()) irqfd.ctx->remove_wait(irqfd.wait);
    if (irqfd.resamplefd) {
        const auto it = resamplers_.find(irqfd.gsi);
        if (it != resamplers_.end()) {
            auto& list = it->second->irqfds;
            list.erase(std::remove(list.begin(), list.end(), &irqfd), list.end());
            if (list.empty()) {
                // The last resampling irqfd of a GSI lowers its line as it goes.
                set_irq(irqfd.gsi, false);
                resamplers_.erase(it);
            }
        }
    }
    // The irqfd may be running its own wake callback: park it until the
    // next call into the VM instead of destroying it under its own feet.
    for (auto it = irqfds_.begin(); it != irqfds_.end(); ++it) {
        if (it->get() == &irqfd) {
            retired_.splice(retired_.end(), irqfds_, it);
            break;
        }
    }
}

} // namespace fwdsim::kvm
