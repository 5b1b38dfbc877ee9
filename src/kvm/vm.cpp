// Vm: virt/kvm/kvm_main.c (VM life, vCPUs, devices), virt/kvm/eventfd.c
// (irqfd, resampler), virt/kvm/irqchip.c (routing), arch/arm64/kvm/arm.c
// (KVM_IRQ_LINE).  See include/fwdsim/kvm/vm.h.  Past 600 lines: these are
// the operations on one Vm's private state (its vCPUs, devices, routing table,
// irqfds and their resamplers, forwarded IRQs), which Linux too keeps behind
// one struct kvm; cut apart they would each need that state's internals.
#include <fwdsim/host/cpu.h>
#include <fwdsim/kvm/vm.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace fwdsim::kvm {

// One irqfd (struct kvm_kernel_irqfd): an eventfd whose signal raises a GSI.
struct Vm::Irqfd {
    Irqfd(Vm& vm, host::EventfdCtxRef ctx, std::uint32_t gsi, host::EventfdCtxRef resample)
        : vm(vm), ctx(std::move(ctx)), gsi(gsi), resamplefd(std::move(resample)),
          wait([this](host::EventfdCtx&, unsigned events) { woken(events); }),
          inject_work("kvm: irqfd inject", [this] { inject(); })
    {
    }
    void woken(unsigned events)
    {
        if (events & host::pollin) {
            std::uint64_t count = 0;
            (void)ctx->read(count);
            // irqfd_wakeup: an SPI cannot be injected in atomic context on
            // arm (kvm_arch_set_irq_inatomic takes only MSIs through an
            // ITS), so the injection is a work item on the signalling CPU,
            // running after the interrupt that signalled.  Signals while it
            // is queued merge, as the eventfd counter does.
            if (host::Cpu* cpu = vm.env_.this_cpu.current()) (void)cpu->submit(inject_work, vm.env_.costs.irqfd_inject);
            else inject(); // signalled from outside any CPU (set-up, tests)
        }
        if (events & host::pollhup) vm.shutdown(*this); // destroyed later: we are inside our own callback
    }
    void inject()
    {
        // irqfd_shutdown flushes the injection before the resampler lowers
        // the line: one already running when the irqfd went lands before
        // that lowering, so it leaves nothing behind.
        if (shut_down) return;
        // irqfd_inject: a resampling irqfd holds the line until the guest's
        // EOI (the resampler lowers it); a plain one pulses it.
        (void)vm.set_irq(gsi, true);
        if (!resamplefd) (void)vm.set_irq(gsi, false);
    }

    Vm& vm;
    host::EventfdCtxRef ctx;
    std::uint32_t gsi;
    host::EventfdCtxRef resamplefd; ///< null: not a resampling irqfd
    host::WaitQueueEntry wait;
    host::Work inject_work;
    bool shut_down = false;
};

// One resampler per GSI (struct kvm_kernel_irqfd_resampler).
struct Vm::Resampler {
    std::vector<Irqfd*> irqfds;
};

Vm::Vm(const KvmEnv& env, arch::ArchKind kind)
    : env_(env), arch_(arch::create_vm_arch(kind, arch::ArchEnv{env.gic, env.irqs, env.vgic_costs})),
      vcpus_(kMaxVcpus)
{
    arch_->set_ack_notifier([this](unsigned intid) { on_ack(intid); });
    arch_->set_kick([this](unsigned v) { kick(v); });
    arch_->set_halt([this](unsigned v) {
        if (Vcpu* vc = vcpu(v)) vc->halt();
    });
}

Vm::~Vm()
{
    if (refcount_ != 0) destroy(); // owner tearing down without files (tests)
}

void Vm::put()
{
    if (refcount_ == 0 || --refcount_ != 0) return;
    destroy();
    if (release_) release_(*this); // may free us: nothing after this
}

void Vm::destroy()
{
    refcount_ = 0;
    // Effects this VM left pending on the host's CPUs die with it.
    if (env_.cpus != nullptr) {
        for (host::Cpu* c : *env_.cpus) c->cancel_acts(this);
    }
    // kvm_destroy_vm: devices first (kvm-vfio unforwards through the arch,
    // which must still be there), then irqfds, vCPUs, the arch state.
    while (!devices_.empty()) devices_.pop_back();
    while (!irqfds_.empty()) shutdown(*irqfds_.front());
    ioeventfds_.clear();
    retired_.clear();
    for (const TimerMap& t : timers_) {
        if (arch_->vgic()) arch_->vgic()->unmap_phys_irq(t.vcpu, t.guest_ppi);
        // One request per PPI (banked on each CPU): free it once; free_irq
        // leaves it inactive, with no vCPU affinity.
        if (env_.irqs.info(t.host_ppi).dev_id == this) (void)env_.irqs.free_irq(t.host_ppi, this);
    }
    timers_.clear();
    for (auto& v : vcpus_) {
        if (v) v->stop();
    }
    vcpus_.clear();
    arch_->set_kick({});
    arch_->set_halt({});
    arch_->set_ack_notifier({});
}

// --- vCPUs ---------------------------------------------------------------------

int Vm::create_vcpu(unsigned id, host::Cpu& pcpu, Vcpu*& out)
{
    // kvm_vm_ioctl_create_vcpu: the id, then kvm_arch_vcpu_precreate (too
    // late once the vgic is sized), and only then a duplicate id.
    if (id >= kMaxVcpus) return -EINVAL;
    if (arch_->initialized()) return -EBUSY;
    if (vcpus_[id]) return -EEXIST;
    vcpus_[id] = std::make_unique<Vcpu>(*this, id, pcpu);
    out = vcpus_[id].get();
    return 0;
}

void Vm::set_trace_name(std::string name)
{
    trace_name_ = std::move(name);
    for (const auto& v : vcpus_) {
        if (v) v->retrack();
    }
}

bool Vm::any_vcpu_has_run() const
{
    for (const auto& v : vcpus_) {
        if (v && v->has_run_once()) return true;
    }
    return false;
}

bool Vm::any_vcpu_in_run() const
{
    for (const auto& v : vcpus_) {
        if (v && v->state() != Vcpu::State::stopped) return true;
    }
    return false;
}

namespace {
// arch/arm64/include/uapi/asm/kvm.h
constexpr std::uint32_t kArmTargetGenericV8 = 5;
constexpr unsigned kVcpuPowerOff = 0, kVcpuPsci02 = 2;
/// KVM_VCPU_VALID_FEATURES in 6.18: bits 0 (POWER_OFF) to 8 (HAS_EL2_E2H0).
constexpr std::uint32_t kValidFeatures = (1u << 9) - 1;
/// What the modelled host supports (system_supported_vcpu_features): PSCI
/// 0.2 -- no AArch32 EL1, PMU, SVE, pointer authentication or NV.
constexpr std::uint32_t kSupportedFeatures = (1u << kVcpuPowerOff) | (1u << kVcpuPsci02);
} // namespace

int Vm::vcpu_init(Vcpu& vcpu, std::uint32_t target, std::span<const std::uint32_t, 7> features)
{
    // kvm_arch_vcpu_ioctl_vcpu_init: POWER_OFF is per call, not kept.
    const std::uint32_t f = features[0] & ~(1u << kVcpuPowerOff);
    // kvm_vcpu_set_target.
    if (target != kArmTargetGenericV8) return -EINVAL; // kvm_target_cpu() is GENERIC_V8 on this host
    // kvm_vcpu_init_check_features.
    if (f & ~kValidFeatures) return -ENOENT;
    for (std::size_t i = 1; i < features.size(); ++i) {
        if (features[i] != 0) return -ENOENT;
    }
    if (f & ~kSupportedFeatures) return -EINVAL;
    // A re-init must keep the features; the first init of any vCPU fixes
    // the VM's set (__kvm_vcpu_set_target).
    if (vcpu.initialized() ? vcpu.features() != f : vcpu_features_configured_ && vcpu_features_ != f) return -EINVAL;
    vcpu_features_configured_ = true;
    vcpu_features_ = f;
    vcpu.set_initialized(f);
    return 0;
}

int Vm::first_run(Vcpu& vcpu)
{
    // kvm_arch_vcpu_run_pid_change.
    if (!vcpu.initialized()) return -ENOEXEC;
    if (vcpu.has_run_once()) return 0;
    if (arch_->has_irqchip() && !vgic_ready_) {
        // kvm_vgic_map_resources -> vgic_v2_map_resources; a failure marks
        // the VM dead (6.12: "Don't eagerly teardown the vgic on init error").
        int err = 0;
        const std::uint64_t dist = vgic_base_[0], cpu = vgic_base_[1];
        if (dist == kVgicAddrUndef || cpu == kVgicAddrUndef) {
            err = -ENXIO;
        } else if (dist < cpu + kVgicV2CpuSize && cpu < dist + kVgicV2DistSize) {
            err = -EINVAL; // vgic_v2_check_base: the frames overlap
        } else {
            err = ensure_vgic(); // vgic_init, unless a uaccess already did it
        }
        if (err < 0) {
            mark_dead();
            return err;
        }
        vgic_ready_ = true;
    }
    vcpu.set_has_run_once();
    return 0;
}

int Vm::set_vgic_base(unsigned type, std::uint64_t addr)
{
    const std::uint64_t size = type == 0 ? kVgicV2DistSize : kVgicV2CpuSize;
    // vgic_check_iorange.
    if (vgic_base_[type] != kVgicAddrUndef) return -EEXIST;
    if (addr & 0xFFF) return -EINVAL; // SZ_4K alignment (the sizes are multiples)
    if (addr + size < addr) return -EINVAL;
    const std::uint64_t ipa_size = std::uint64_t{1} << ipa_bits();
    if ((addr & ~(ipa_size - 1)) != 0 || addr + size > ipa_size) return -E2BIG;
    vgic_base_[type] = addr;
    return 0;
}

Vcpu* Vm::vcpu(unsigned id) const
{
    return id < vcpus_.size() ? vcpus_[id].get() : nullptr;
}

std::vector<Vcpu*> Vm::vcpus() const
{
    std::vector<Vcpu*> out;
    for (const auto& v : vcpus_) {
        if (v) out.push_back(v.get());
    }
    return out;
}

unsigned Vm::vcpu_count() const
{
    return static_cast<unsigned>(vcpus().size());
}

bool Vm::acts_pending() const
{
    if (env_.cpus == nullptr) return false;
    for (const host::Cpu* c : *env_.cpus) {
        if (c->has_acts(this)) return true;
    }
    return false;
}

bool Vm::irqfd_injection_queued(unsigned intid) const
{
    for (const auto& f : irqfds_) {
        if (!f->inject_work.queued()) continue;
        const RoutingEntry* e = route(f->gsi);
        const int target = e != nullptr && e->type == kIrqRoutingMsi ? static_cast<int>(e->msi_data) : gsi_to_intid(f->gsi);
        if (target == static_cast<int>(intid)) return true;
    }
    return false;
}

// A template, so that its small lambdas reach host::Cpu::after_charged as
// themselves, not wrapped in a std::function.
template <class F>
void Vm::act(F fn)
{
    host::Cpu* cpu = env_.this_cpu.current();
    if (cpu == nullptr) fn(); // outside any CPU (set-up, tests): now
    else cpu->after_charged(this, fn);
}

void Vm::kick(unsigned v)
{
    // kvm_vcpu_kick comes after the work its caller charged (a trap's
    // emulation, an injection's vgic step).
    act([this, v] {
        if (Vcpu* vc = vcpu(v)) vc->kick();
    });
}

int Vm::ensure_vgic()
{
    if (!arch_->has_irqchip()) return -ENXIO;
    if (arch_->initialized()) return 0;
    unsigned n = 0;
    for (unsigned id = 0; id < vcpus_.size(); ++id) {
        if (vcpus_[id]) n = id + 1;
    }
    if (n == 0) return -EBUSY;
    return arch_->init_irqchip(n);
}

// --- devices -------------------------------------------------------------------

KvmDevice& Vm::add_device(std::unique_ptr<KvmDevice> dev)
{
    devices_.push_back(std::move(dev));
    return *devices_.back();
}

void Vm::remove_device(KvmDevice& dev)
{
    devices_.remove_if([&](const std::unique_ptr<KvmDevice>& d) { return d.get() == &dev; });
}

std::vector<KvmDevice*> Vm::devices() const
{
    std::vector<KvmDevice*> out;
    for (const auto& d : devices_) out.push_back(d.get());
    return out;
}

// --- routing and injection ---------------------------------------------------------

const RoutingEntry* Vm::route(std::uint32_t gsi) const
{
    if (custom_routing_) {
        const auto it = routing_.find(gsi);
        return it == routing_.end() ? nullptr : &it->second;
    }
    return nullptr;
}

int Vm::gsi_to_intid(std::uint32_t gsi) const
{
    const unsigned nr = arch_->initialized() ? arch_->vgic()->nr_irqs() : arch_->nr_irqs();
    std::uint64_t pin = gsi;
    if (custom_routing_) {
        const RoutingEntry* e = route(gsi);
        if (e == nullptr || e->type != kIrqRoutingIrqchip) return -EINVAL;
        pin = e->pin;
    }
    static_assert(spi_intid(0) == arch::Vgic::kPrivate);
    if (pin + arch::Vgic::kPrivate >= nr) return -EINVAL;
    return static_cast<int>(pin + arch::Vgic::kPrivate);
}

int Vm::set_gsi_routing(std::span<const RoutingEntry> entries)
{
    const unsigned nr = arch_->initialized() ? arch_->vgic()->nr_irqs() : arch_->nr_irqs();
    std::map<std::uint32_t, RoutingEntry> table;
    for (const RoutingEntry& e : entries) {
        if (e.type == kIrqRoutingIrqchip) {
            if (e.pin + arch::Vgic::kPrivate >= nr) return -EINVAL;
        } else if (e.type == kIrqRoutingMsi) {
            if (e.msi_data < arch::Vgic::kPrivate || e.msi_data >= nr) return -EINVAL;
        } else {
            return -EINVAL;
        }
        if (!table.emplace(e.gsi, e).second) return -EINVAL; // one entry a GSI (no multi-pin here)
    }
    routing_ = std::move(table);
    custom_routing_ = true;
    return 0;
}

int Vm::set_irq(std::uint32_t gsi, bool level)
{
    const RoutingEntry* e = route(gsi);
    if (e != nullptr && e->type == kIrqRoutingMsi) {
        // kvm_set_msi: an MSI is an edge; only the rising call delivers.
        if (!level) return 0;
        if (const int err = ensure_vgic(); err < 0) return err;
        const int err = arch_->inject(0, e->msi_data, true);
        (void)arch_->inject(0, e->msi_data, false);
        if (err == 0) injected(0, e->msi_data);
        return err;
    }
    const int intid = gsi_to_intid(gsi);
    if (intid < 0) return intid;
    if (const int err = ensure_vgic(); err < 0) return err;
    const int err = arch_->inject(0, static_cast<unsigned>(intid), level);
    if (err == 0 && level) injected(0, static_cast<unsigned>(intid));
    return err;
}

int Vm::irq_line(std::uint32_t irq, std::uint32_t level)
{
    // arm.c kvm_vm_ioctl_irq_line: type in bits 24..27, the vCPU index in
    // bits 16..23 plus 256 times bits 28..31 (KVM_ARM_IRQ_VCPU2).
    const std::uint32_t type = (irq >> kArmIrqTypeShift) & 0xF;
    const std::uint32_t vcpu = ((irq >> kArmIrqVcpuShift) & 0xFF) + ((irq >> 28) & 0xF) * 256;
    const std::uint32_t num = irq & 0xFFFF;
    env_.this_cpu.charge(env_.costs.irq_line);
    // The checks answer now; the line changes once the ioctl's work has
    // elapsed (charge, then act).
    const bool high = level != 0;
    switch (type) {
    case kArmIrqTypeCpu:
        return -ENXIO; // with an in-kernel irqchip the CPU lines are not the VMM's (no userspace irqchip here)
    case kArmIrqTypeSpi: {
        if (!arch_->has_irqchip()) return -ENXIO;
        if (num < arch::Vgic::kPrivate) return -EINVAL;
        // kvm_vgic_inject_irq: vgic_lazy_init, then the SPI must exist.
        if (const int err = ensure_vgic(); err < 0) return err;
        if (num >= arch_->vgic()->nr_irqs()) return -EINVAL;
        act([this, num, high] {
            if (arch_->inject(0, num, high) == 0 && high) injected(0, num);
        });
        return 0;
    }
    case kArmIrqTypePpi: {
        if (!arch_->has_irqchip()) return -ENXIO;
        if (vcpu >= kMaxVcpus || this->vcpu(vcpu) == nullptr) return -EINVAL;
        if (num < 16 || num >= arch::Vgic::kPrivate) return -EINVAL;
        if (const int err = ensure_vgic(); err < 0) return err;
        act([this, vcpu, num, high] {
            if (arch_->inject(vcpu, num, high) == 0 && high) injected(vcpu, num);
        });
        return 0;
    }
    default:
        return -EINVAL;
    }
}

int Vm::ioeventfd(host::Process& proc, int fd, std::uint64_t addr)
{
    host::EventfdCtxRef ctx;
    if (const int err = host::eventfd_ctx_fdget(proc, fd, ctx); err < 0) return err;
    if (ioeventfds_.count(addr) != 0) return -EEXIST;
    ioeventfds_.emplace(addr, std::move(ctx));
    return 0;
}

bool Vm::ioeventfd_write(std::uint64_t addr)
{
    const auto it = ioeventfds_.find(addr);
    if (it == ioeventfds_.end()) return false;
    env_.this_cpu.charge(env_.costs.eventfd_signal);
    it->second->signal(); // ioeventfd_write: eventfd_signal in the vCPU's exit path
    return true;
}

void Vm::set_user_region(std::uint64_t addr, bool mapped)
{
    const auto it = user_regions_.find(addr);
    if (it == user_regions_.end()) {
        user_regions_.emplace(addr, UserRegion{mapped, mapped}); // its first slot: set up before the guest runs
        return;
    }
    if (it->second.requested == mapped) return;
    it->second.requested = mapped;
    // The slot changes once the update's work is done (charge, then act).
    env_.this_cpu.charge(env_.costs.memslot_update);
    act([this, addr, mapped] {
        UserRegion& r = user_regions_[addr];
        if (r.requested == mapped) r.mapped = mapped; // a later request already took effect
    });
}

bool Vm::user_mmio_exits(std::uint64_t addr) const
{
    const auto it = user_regions_.find(addr);
    return it != user_regions_.end() && !it->second.mapped;
}

void Vm::handle_user_mmio(Vcpu& vcpu, std::uint64_t addr, const std::function<void()>& access)
{
    if (user_mmio_) user_mmio_(vcpu, addr, access);
    else access();
}

int Vm::irqfd(host::Process& proc, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd)
{
    retired_.clear();
    // virt/kvm/eventfd.c kvm_irqfd: unknown flags first, then the DEASSIGN
    // bit picks the path.
    if (flags & ~(kIrqfdFlagDeassign | kIrqfdFlagResample)) return -EINVAL;
    if (flags & kIrqfdFlagDeassign) {
        // kvm_irqfd_deassign: every irqfd of this eventfd and GSI goes; none
        // matching is no error.
        host::EventfdCtxRef ctx;
        if (const int err = host::eventfd_ctx_fdget(proc, fd, ctx); err < 0) return err;
        std::vector<Irqfd*> doomed;
        for (auto& i : irqfds_) {
            if (i->ctx.get() == ctx.get() && i->gsi == gsi) doomed.push_back(i.get());
        }
        for (Irqfd* i : doomed) shutdown(*i);
        return 0;
    }
    // kvm_irqfd_assign: the irqchip must be initialised (arm64:
    // kvm_arch_intc_initialized is vgic_initialized) before any fd is
    // looked at; then the eventfd, then the resamplefd.  The GSI is not
    // checked: an unrouted one injects nothing until routing exists, and
    // RESAMPLE is taken whatever the route.
    if (!arch_->initialized()) return -EAGAIN;
    host::EventfdCtxRef ctx;
    if (const int err = host::eventfd_ctx_fdget(proc, fd, ctx); err < 0) return err;
    host::EventfdCtxRef resample;
    if (flags & kIrqfdFlagResample) {
        if (const int err = host::eventfd_ctx_fdget(proc, resamplefd, resample); err < 0) return err;
    }
    auto irqfd = std::make_unique<Irqfd>(*this, std::move(ctx), gsi, std::move(resample));
    Irqfd& ref = *irqfd;
    // kvm_irqfd_register (6.16+): an exclusive priority waiter on the
    // eventfd -- one irqfd per eventfd across every VM, else EBUSY (the
    // resampler is joined only once that succeeded; Linux joins first and
    // undoes it, with the same result).  vfs_poll at assignment: an
    // eventfd signalled earlier injects at once.
    unsigned ready = 0;
    if (const int err = ref.ctx->add_wait_priority_exclusive(ref.wait, ready); err < 0) return err;
    irqfds_.push_back(std::move(irqfd));
    if (ref.resamplefd) {
        auto& r = resamplers_[gsi];
        if (!r) r = std::make_unique<Resampler>();
        r->irqfds.push_back(&ref);
    }
    if (ready) ref.woken(ready);
    return 0;
}

void Vm::on_ack(unsigned intid)
{
    // irqfd_resampler_ack: lower the line, then tell every resamplefd.
    for (auto& [gsi, r] : resamplers_) {
        if (gsi_to_intid(gsi) != static_cast<int>(intid)) continue;
        (void)set_irq(gsi, false);
        for (Irqfd* i : r->irqfds) {
            env_.this_cpu.charge(env_.costs.eventfd_signal);
            i->resamplefd->signal(1);
        }
    }
}

void Vm::shutdown(Irqfd& irqfd)
{
    if (irqfd.wait.queued()) irqfd.ctx->remove_wait(irqfd.wait);
    // irqfd_shutdown: flush_work(&irqfd->inject) -- an injection already
    // queued still happens; dropping it would lose an edge signalled just
    // before the deassign.
    if (irqfd.inject_work.queued()) {
        irqfd.inject_work.cancel();
        irqfd.inject();
    }
    irqfd.shut_down = true;
    if (irqfd.resamplefd) {
        const auto it = resamplers_.find(irqfd.gsi);
        if (it != resamplers_.end()) {
            auto& list = it->second->irqfds;
            list.erase(std::remove(list.begin(), list.end(), &irqfd), list.end());
            if (list.empty()) {
                // The last resampling irqfd of a GSI lowers its line as it goes.
                (void)set_irq(irqfd.gsi, false);
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

// --- forwarding ----------------------------------------------------------------------

int Vm::forward_irq(unsigned host_irq, std::uint32_t gsi)
{
    if (!arch_->can_forward()) return -ENXIO;
    const int intid = gsi_to_intid(gsi);
    if (intid < 0) return intid;
    if (const int err = ensure_vgic(); err < 0) return err;
    return arch_->forward_irq(host_irq, static_cast<unsigned>(intid));
}

void Vm::unforward_irq(unsigned host_irq, std::uint32_t gsi)
{
    const int intid = arch_->forwarded_to(host_irq);
    (void)gsi; // the link knows its guest IRQ; routing may have changed since
    if (intid >= 0) arch_->unforward_irq(host_irq, static_cast<unsigned>(intid));
}

int Vm::map_arch_timer(unsigned vcpu_id, unsigned host_ppi, unsigned guest_ppi)
{
    Vcpu* v = vcpu(vcpu_id);
    if (v == nullptr || host_ppi < 16 || host_ppi >= 32 || guest_ppi < 16 || guest_ppi >= 32) return -EINVAL;
    if (!arch_->can_forward()) return -ENXIO;
    if (const int err = ensure_vgic(); err < 0) return err;
    arch::Vgic& vgic = *arch_->vgic();
    if (vgic.irq(vcpu_id, guest_ppi)->hw) return -EBUSY;
    host::IrqLayer& irqs = env_.irqs;
    // kvm_arch_timer_handler: the vCPU loaded on the CPU that took the PPI
    // gets its timer interrupt (the line is a per-CPU PPI).
    auto handler = [this](unsigned irq, void*) {
        const host::Cpu* cpu = env_.this_cpu.current();
        for (const TimerMap& t : timers_) {
            Vcpu* tv = vcpu(t.vcpu);
            if (t.host_ppi == irq && tv != nullptr && cpu == &tv->pcpu()) {
                if (arch_->vgic()->inject_mapped(t.vcpu, t.guest_ppi) == 0) injected(t.vcpu, t.guest_ppi);
                return host::IrqReturn::handled;
            }
        }
        return host::IrqReturn::none;
    };
    if (!irqs.has_handler(host_ppi)) {
        if (const int err = irqs.request_irq(host_ppi, handler, this, "kvm arch timer"); err < 0) return err;
    }
    if (const int err = irqs.irq_set_vcpu_affinity(host_ppi, &vgic); err < 0) return err;
    (void)irqs.enable_percpu_irq(host_ppi, v->pcpu().id());
    (void)vgic.map_phys_irq(vcpu_id, guest_ppi, host_ppi); // checked above
    timers_.push_back({vcpu_id, host_ppi, guest_ppi});
    return 0;
}

int Vm::inject_forwarded(unsigned host_irq)
{
    const int guest_irq = arch_->forwarded_to(host_irq);
    const arch::VirtualIrq* v = guest_irq >= 0 && arch_->vgic() != nullptr
                                    ? arch_->vgic()->irq(0, static_cast<unsigned>(guest_irq))
                                    : nullptr;
    if (v == nullptr || !v->hw) {
        // Nobody will deactivate it (no guest EOI through a HW list
        // register): the host does, or the IRQ would stay active for ever.
        ++failed_forwarded_;
        (void)env_.irqs.irq_set_irqchip_state(host_irq, host::IrqchipState::active, false);
        return guest_irq < 0 ? -ENOENT : -EINVAL;
    }
    // kvm_vgic_inject_irq for the mapped IRQ, then the injection takes
    // effect (pending in the vgic, the vCPU kicked).
    env_.this_cpu.charge(env_.costs.vgic_inject);
    act([this, host_irq, guest_irq] {
        if (arch_->forwarded_to(host_irq) >= 0) {
            if (arch_->inject_forwarded(host_irq) == 0) injected(0, static_cast<unsigned>(guest_irq));
            return;
        }
        // Unforwarded meanwhile.  Linux's unforward waits for a running
        // handler (synchronize_irq), so its injection lands first and the
        // handover keeps it as a virtual pending; the unforward has already
        // deactivated the physical IRQ.  An edge is kept so; a level line
        // still high fires again into the new mode.
        const arch::Vgic* vgic = arch_->vgic();
        const arch::VirtualIrq* now = vgic != nullptr ? vgic->irq(0, static_cast<unsigned>(guest_irq)) : nullptr;
        if (now != nullptr && now->edge) {
            if (arch_->inject(0, static_cast<unsigned>(guest_irq), true) == 0) injected(0, static_cast<unsigned>(guest_irq));
            (void)arch_->inject(0, static_cast<unsigned>(guest_irq), false);
        }
    });
    return 0;
}

} // namespace fwdsim::kvm
