// Vmm: QEMU's side of VFIO interrupt delivery (hw/vfio/platform.c,
// hw/vfio/pci.c, accel/kvm).  See include/fwdsim/vmm/vmm.h.
#include <fwdsim/host/eventfd.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/vmm/vmm.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace fwdsim::vmm {

const char* delivery_name(Delivery d)
{
    switch (d) {
    case Delivery::none: return "none";
    case Delivery::userspace: return "userspace";
    case Delivery::irqfd: return "irqfd";
    case Delivery::forwarded: return "forwarded";
    }
    return "?";
}

struct Vmm::IrqState {
    IrqPlan plan;
    Delivery mode = Delivery::none;
    /// Bi-modal policy, while forwarded: the VFIO signalling left set up
    /// underneath (userspace or irqfd), which takes over at UNFORWARD_IRQ.
    Delivery kept = Delivery::none;
    bool fell_back = false;
    int trigger_fd = -1;
    int resample_fd = -1;
    bool active = false; ///< userspace, level: raised in the guest, its EOI not seen (QEMU's intx.pending)
    std::unique_ptr<host::UserThread> inject_thread;
};

/// A device's MMIO region as QEMU maps it into the guest (the mmap of the
/// VFIO region, a memslot), with the mmap timer of the userspace path.
struct Vmm::Region {
    std::string device;
    std::uint64_t addr = 0;
    bool mapped = true;
    std::unique_ptr<sim::FunctionEvent> timer;
    std::unique_ptr<host::Work> remap; ///< the I/O thread's timer handler
    /// The IRQ whose level interrupt last took the mmap away: a trapped
    /// access that finds no IRQ active is a round trip its path caused.
    std::optional<Key> unmapped_for;
};

namespace {
constexpr std::uint64_t kGicDistBase = 0x08000000, kGicCpuBase = 0x08010000;
constexpr std::uint32_t kArmTargetGenericV8 = 5;
} // namespace

Vmm::Vmm(const VmmEnv& env, std::string name) : env_(env), proc_(std::move(name)) {}

Vmm::~Vmm()
{
    cancel_acts();
    irqs_.clear(); // threads first: they hold eventfd contexts
    regions_.clear();
    if (proc_.alive()) {
        std::vector<int> none;
        proc_.kill(none); // files close ascending
    }
}

void Vmm::syscall()
{
    env_.this_cpu.charge(env_.costs.syscall);
}

void Vmm::act(std::function<void()> fn)
{
    host::Cpu* cpu = env_.this_cpu.current();
    if (cpu == nullptr) fn();
    else cpu->after_charged(this, std::move(fn));
}

bool Vmm::acts_pending() const
{
    if (env_.io_cpu.has_acts(this)) return true;
    for (const host::Cpu* c : vcpu_cpus_) {
        if (c->has_acts(this)) return true;
    }
    return false;
}

std::uint64_t Vmm::user_round_trips(const IrqPlan& irq) const
{
    const auto it = irq_counts_.find(key(irq));
    return it == irq_counts_.end() ? 0 : it->second.user_round_trips;
}

std::uint64_t Vmm::user_exits(const IrqPlan& irq) const
{
    const auto it = irq_counts_.find(key(irq));
    return it == irq_counts_.end() ? 0 : it->second.user_exits;
}

void Vmm::cancel_acts()
{
    // The VMM's calls in flight die with it: its I/O thread's CPU and its
    // vCPU threads' CPUs.
    env_.io_cpu.cancel_acts(this);
    for (host::Cpu* c : vcpu_cpus_) c->cancel_acts(this);
}

kvm::Vcpu* Vmm::vcpu(unsigned id) const
{
    return vm_ == nullptr ? nullptr : vm_->vcpu(id);
}

int Vmm::set_up_vm(unsigned nr_vcpus, unsigned nr_irqs)
{
    kvm::Kvm& k = env_.kvm;
    const int vm_fd = k.create_vm(proc_);
    if (vm_fd < 0) return vm_fd;
    vm_fd_ = vm_fd;
    vm_ = &host::file_cast<kvm::VmFile>(proc_.peek(vm_fd))->vm();
    vm_->set_user_mmio_handler([this](kvm::Vcpu&, std::uint64_t addr, const std::function<void()>& access) {
        mmio_exit(addr, access);
    });
    const int vgic_fd = k.create_device(proc_, vm_fd, kvm::kDevTypeArmVgicV2);
    if (vgic_fd < 0) return vgic_fd;
    std::uint32_t n = nr_irqs;
    kvm::DeviceAttr nr{0, kvm::kVgicGrpNrIrqs, 0, {reinterpret_cast<std::uint8_t*>(&n), sizeof n}};
    if (const int err = k.set_device_attr(proc_, vgic_fd, nr); err < 0) return err;
    // QEMU's virt board places the distributor and the CPU interface here
    // (hw/arm/virt.c: VIRT_GIC_DIST, VIRT_GIC_CPU); KVM_RUN refuses a vgic
    // without them.
    for (auto [type, base] : {std::pair{kvm::kVgicV2AddrTypeDist, kGicDistBase}, std::pair{kvm::kVgicV2AddrTypeCpu, kGicCpuBase}}) {
        kvm::DeviceAttr addr{0, kvm::kVgicGrpAddr, type, {reinterpret_cast<std::uint8_t*>(&base), sizeof base}};
        if (const int err = k.set_device_attr(proc_, vgic_fd, addr); err < 0) return err;
    }
    for (unsigned id = 0; id < nr_vcpus; ++id) {
        const int fd = k.create_vcpu(proc_, vm_fd, id);
        if (fd < 0) return fd;
        vcpu_fds_.push_back(fd);
        if (kvm::Vcpu* v = vm_->vcpu(id)) vcpu_cpus_.push_back(&v->pcpu());
        // KVM_ARM_VCPU_INIT with the preferred target and PSCI 0.2, as QEMU.
        const std::uint32_t features[7] = {1u << 2, 0, 0, 0, 0, 0, 0};
        if (const int err = k.vcpu_init(proc_, fd, kArmTargetGenericV8, features); err < 0) return err;
    }
    kvm::DeviceAttr init{0, kvm::kVgicGrpCtrl, kvm::kVgicCtrlInit, {}};
    if (const int err = k.set_device_attr(proc_, vgic_fd, init); err < 0) return err;
    const int vfio_fd = k.create_device(proc_, vm_fd, kvm::kDevTypeVfio);
    if (vfio_fd < 0) return vfio_fd;
    vfio_dev_fd_ = vfio_fd;
    return 0;
}

int Vmm::set_forward_policy(vfio::ForwardingPolicy policy)
{
    std::uint32_t value = policy == vfio::ForwardingPolicy::bimodal ? 1 : 0;
    kvm::DeviceAttr a{0, kvm_vfio::kDevVfioDevice, kvm_vfio::kDevVfioDeviceForwardPolicy,
                      {reinterpret_cast<std::uint8_t*>(&value), sizeof value}};
    syscall();
    const int err = env_.kvm.set_device_attr(proc_, vfio_dev_fd_, a);
    if (err == 0) policy_ = policy;
    return err;
}

int Vmm::run_vcpus()
{
    for (int fd : vcpu_fds_) {
        if (const int err = env_.kvm.run(proc_, fd); err < 0) return err;
    }
    return 0;
}

int Vmm::add_device(const std::string& name, unsigned group)
{
    vfio::Vfio& v = env_.vfio;
    if (container_fd_ < 0) {
        const int c = v.open_container(proc_);
        if (c < 0) return c;
        container_fd_ = c;
    }
    int gfd = -1;
    if (const auto it = group_fds_.find(group); it != group_fds_.end()) {
        gfd = it->second;
    } else {
        gfd = v.open_group(proc_, group);
        if (gfd < 0) return gfd;
        group_fds_[group] = gfd;
        if (const int err = v.group_set_container(proc_, gfd, container_fd_); err < 0) return err;
        if (group_fds_.size() == 1) {
            if (const int err = v.set_iommu(proc_, container_fd_, vfio::VFIO_TYPE1_IOMMU); err < 0) return err;
        }
        std::int32_t fd32 = gfd;
        kvm::DeviceAttr add{0, kvm_vfio::kDevVfioGroup, kvm_vfio::kDevVfioGroupAdd,
                            {reinterpret_cast<std::uint8_t*>(&fd32), sizeof fd32}};
        if (vfio_dev_fd_ >= 0) {
            if (const int err = env_.kvm.set_device_attr(proc_, vfio_dev_fd_, add); err < 0) return err;
        }
    }
    const int dfd = v.group_get_device_fd(proc_, gfd, name);
    if (dfd < 0) return dfd;
    device_fds_[name] = dfd;
    // vfio_region_mmap: the device's region is mapped into the guest.
    auto& r = regions_[name];
    if (!r) {
        r = std::make_unique<Region>();
        r->device = name;
        r->addr = kDeviceMmioBase + kDeviceMmioStride * (regions_.size() - 1);
        Region* rp = r.get();
        r->timer = std::make_unique<sim::FunctionEvent>([this, rp] { mmap_timer(*rp); }, "vmm.mmap_timer");
        r->remap = std::make_unique<host::Work>("vmm: mmap enable", [this, rp] {
            // vfio_intp_mmap_enable / vfio_intx_mmap_enable on the I/O thread.
            if (!vm_ || rp->mapped) return;
            rp->mapped = true;
            vm_->set_user_region(rp->addr, true);
        });
    }
    if (vm_ != nullptr) vm_->set_user_region(r->addr, true);
    return dfd;
}

int Vmm::device_fd(const std::string& name) const
{
    const auto it = device_fds_.find(name);
    return it == device_fds_.end() ? -EBADF : it->second;
}

std::uint64_t Vmm::device_mmio(const std::string& name) const
{
    const auto it = regions_.find(name);
    return it == regions_.end() ? 0 : it->second->addr;
}

void Vmm::mmap_timer(Region& r)
{
    // While an IRQ of the device is still active the mmap stays off.
    for (const auto& [k, s] : irqs_) {
        if (s->plan.device == r.device && s->active) {
            env_.kvm.env().events.schedule(*r.timer, env_.kvm.env().events.now() + kMmapTimeout);
            return;
        }
    }
    if (!r.mapped) (void)env_.io_cpu.submit(*r.remap, env_.costs.syscall);
}

void Vmm::userspace_level_irq(IrqState& s)
{
    // vfio_intp_interrupt: the IRQ is active until the guest touches the
    // device; take the mmap away so that touch traps, and push the timer.
    s.active = true;
    Region& r = *regions_.at(s.plan.device);
    r.unmapped_for = key(s.plan);
    if (r.mapped) {
        r.mapped = false;
        syscall(); // memory_region_set_enabled(false) -> KVM_SET_USER_MEMORY_REGION
        vm_->set_user_region(r.addr, false);
    }
    sim::EventQueue& q = env_.kvm.env().events;
    q.deschedule(*r.timer);
    q.schedule(*r.timer, q.now() + kMmapTimeout);
}

void Vmm::mmio_exit(std::uint64_t addr, const std::function<void()>& access)
{
    // kvm_cpu_exec -> address_space_rw -> vfio_region_read/write: the access
    // is a pread/pwrite on the device fd, then vfio_eoi.
    ++user_exits_;
    ++user_round_trips_;
    env_.this_cpu.charge(env_.costs.user_mmio_dispatch);
    syscall();
    act(access);
    // The exit is the interrupt's whose EOI it tells, or else the one whose
    // path left the region unmapped (the access traps until the mmap timer).
    std::optional<Key> cause;
    for (const auto& [name, r] : regions_) {
        if (r->addr == addr) cause = r->unmapped_for;
    }
    for (auto& [k, sp] : irqs_) {
        IrqState& s = *sp;
        const auto r = regions_.find(s.plan.device);
        if (r == regions_.end() || r->second->addr != addr || s.mode != Delivery::userspace || !s.active) continue;
        cause = k;
        // vfio_platform_eoi / vfio_intx_eoi: lower the line, unmask.
        s.active = false;
        const std::uint32_t spi = kvm::irq_line_spi(s.plan.gsi);
        syscall();
        (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
        syscall();
        ++unmasks_;
        const IrqPlan plan = s.plan;
        act([this, plan] {
            (void)env_.vfio.device_set_irqs(proc_, device_fd(plan.device),
                                            vfio::VfioIrqSet::none(vfio::VFIO_IRQ_SET_ACTION_UNMASK, plan.index,
                                                                   plan.subindex, 1));
        });
        break; // a single IRQ of a device is active at a time
    }
    if (cause) {
        IrqCounts& c = irq_counts_[*cause];
        ++c.user_exits;
        ++c.user_round_trips;
    }
}

int Vmm::set_trigger(const IrqPlan& irq, int efd)
{
    syscall();
    const bool msi = irq.msi;
    auto& on = vectors_on_[{irq.device, irq.index}];
    if (msi && on == 0 && efd >= 0) {
        // The first vector turns MSI(-X) on for all the vectors it will
        // ever use, the others without a trigger yet (-1).
        const unsigned n = std::max(irq.vectors, irq.subindex + 1);
        vfio::VfioIrqSet set = vfio::VfioIrqSet::eventfds(vfio::VFIO_IRQ_SET_ACTION_TRIGGER, irq.index, 0, {});
        set.count = n;
        set.data.assign(n * sizeof(std::int32_t), 0xFF); // -1 everywhere
        std::memcpy(set.data.data() + irq.subindex * sizeof(std::int32_t), &efd, sizeof efd);
        set.argsz = vfio::VfioIrqSet::kMinsz + static_cast<std::uint32_t>(set.data.size());
        const int err = env_.vfio.device_set_irqs(proc_, device_fd(irq.device), set);
        if (err == 0) on = n;
        return err;
    }
    if (msi && on == 0) return 0; // tearing down a vector of a mode that is off
    return env_.vfio.device_set_irqs(proc_, device_fd(irq.device),
                                     vfio::VfioIrqSet::eventfds(vfio::VFIO_IRQ_SET_ACTION_TRIGGER, irq.index,
                                                                irq.subindex, {efd}));
}

int Vmm::set_unmask_fd(const IrqPlan& irq, int efd)
{
    syscall();
    return env_.vfio.device_set_irqs(proc_, device_fd(irq.device),
                                     vfio::VfioIrqSet::eventfds(vfio::VFIO_IRQ_SET_ACTION_UNMASK, irq.index,
                                                                irq.subindex, {efd}));
}

int Vmm::forward_attr(const IrqPlan& irq, std::uint64_t which)
{
    kvm_vfio::ForwardedIrqArg arg{static_cast<std::uint32_t>(device_fd(irq.device)), irq.index, irq.subindex, irq.gsi};
    kvm::DeviceAttr a{0, kvm_vfio::kDevVfioDevice, which, {reinterpret_cast<std::uint8_t*>(&arg), sizeof arg}};
    syscall();
    return env_.kvm.set_device_attr(proc_, vfio_dev_fd_, a);
}

int Vmm::unmask(const IrqPlan& irq)
{
    // QEMU unmasks after every change of a level IRQ's delivery ("in case we
    // missed an EOI"): the previous mode may have left it masked with its
    // unmask in flight.  A line still high fires again at once.
    syscall();
    return env_.vfio.device_set_irqs(proc_, device_fd(irq.device),
                                     vfio::VfioIrqSet::none(vfio::VFIO_IRQ_SET_ACTION_UNMASK, irq.index, irq.subindex, 1));
}

Delivery Vmm::delivery(const IrqPlan& irq) const
{
    const auto it = irqs_.find(key(irq));
    return it == irqs_.end() ? Delivery::none : it->second->mode;
}

bool Vmm::fell_back(const IrqPlan& irq) const
{
    const auto it = irqs_.find(key(irq));
    return it != irqs_.end() && it->second->fell_back;
}

void Vmm::tear_down(IrqState& s)
{
    const IrqPlan& p = s.plan;
    if (s.mode == Delivery::forwarded) {
        (void)forward_attr(p, kvm_vfio::kDevVfioDeviceUnforwardIrq);
        s.mode = s.kept; // bi-modal: the signalling underneath goes too
        s.kept = Delivery::none;
    }
    switch (s.mode) {
    case Delivery::forwarded: break;
    case Delivery::irqfd:
    case Delivery::userspace:
        (void)set_trigger(p, -1);
        if (p.level && s.mode == Delivery::irqfd) (void)set_unmask_fd(p, -1);
        if (s.mode == Delivery::irqfd) (void)env_.kvm.irqfd(proc_, vm_fd_, s.trigger_fd, p.gsi, kvm::kIrqfdFlagDeassign, -1);
        break;
    case Delivery::none: break;
    }
    // An edge signalled that the I/O thread has not read yet is still owed
    // to the guest: read the eventfd and inject it before the thread and
    // the eventfd go (QEMU tests and clears its EventNotifier when it
    // rewires a vector), or the switch would lose it.
    if (s.inject_thread && !p.level && s.trigger_fd >= 0) {
        host::EventfdCtxRef trigger;
        std::uint64_t count = 0;
        if (host::eventfd_ctx_fdget(proc_, s.trigger_fd, trigger) == 0 && trigger->read(count) == 0 && count > 0) {
            const std::uint32_t spi = kvm::irq_line_spi(p.gsi);
            syscall();
            ++injections_;
            (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 1);
            (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
        }
    }
    if (s.active && vm_ != nullptr) {
        // Leaving the userspace path with the IRQ raised in the guest: QEMU
        // lowers it (pci_irq_deassert) so the next mode starts clean.
        const std::uint32_t spi = kvm::irq_line_spi(p.gsi);
        syscall();
        (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
    }
    s.active = false;
    if (s.mode == Delivery::userspace && vm_ != nullptr) {
        // The region goes back into the guest now rather than when the mmap
        // timer would map it: a trapped access mid-handler folds a level
        // line an irqfd still holds high back to pending, and the guest
        // would take it again on every access until the timer.
        if (const auto r = regions_.find(p.device); r != regions_.end() && !r->second->mapped) {
            r->second->mapped = true;
            syscall();
            vm_->set_user_region(r->second->addr, true);
        }
    }
    s.inject_thread.reset();
    for (int* fd : {&s.trigger_fd, &s.resample_fd}) {
        if (*fd >= 0) {
            syscall();
            (void)proc_.close(*fd);
        }
        *fd = -1;
    }
    s.mode = Delivery::none;
    s.fell_back = false;
}

int Vmm::deliver(const IrqPlan& irq, Delivery mode)
{
    if (!proc_.alive()) return -ESRCH;
    if (device_fd(irq.device) < 0) return -EBADF;
    auto& slot = irqs_[key(irq)];
    if (!slot) slot = std::make_unique<IrqState>();
    IrqState& s = *slot;
    const Delivery from = s.mode;
    if (from == Delivery::none) s.plan = irq;
    // What the switch's calls charge where the VMM makes them (its I/O
    // thread's CPU): the cost of the switch itself, by direction.
    SwitchCost* cost = nullptr;
    if (from != Delivery::none && from != mode) {
        cost = &switch_costs_[{from, mode}];
        ++cost->count;
    }
    const sim::Cycles charged_before = env_.this_cpu.charged();
    const auto account = [this, cost, charged_before] {
        if (cost != nullptr) cost->cycles += (env_.this_cpu.charged() - charged_before).count();
    };
    int err = 0;
    if (policy_ == vfio::ForwardingPolicy::bimodal && switch_bimodal(s, mode, err)) {
        account();
        return err;
    }
    tear_down(s);
    s.plan = irq;
    account();
    if (mode == Delivery::none) return 0;
    // The new mode is set up once the teardown's calls have taken their
    // time (charge, then act): under the exclusive policy the host IRQ has
    // no handler in between, and an assertion waits in the GIC meanwhile.
    // Outside a CPU (set-up, tests) it follows at once and its errno is
    // returned; from a CPU the IRQ is left with no delivery if it fails.
    auto result = std::make_shared<int>(1);
    act([this, sp = &s, mode, cost, result] {
        const sim::Cycles before = env_.this_cpu.charged();
        *result = set_up(*sp, mode);
        if (cost != nullptr) cost->cycles += (env_.this_cpu.charged() - before).count();
    });
    return *result == 1 ? 0 : *result;
}

bool Vmm::switch_bimodal(IrqState& s, Delivery mode, int& err)
{
    const IrqPlan& p = s.plan;
    if (s.mode == Delivery::forwarded && mode != Delivery::forwarded) {
        // UNFORWARD_IRQ: the next interrupt signals the trigger that stayed
        // set.  Another signalling than the one kept is torn down and set up
        // as under the exclusive policy.
        (void)forward_attr(p, kvm_vfio::kDevVfioDeviceUnforwardIrq);
        s.mode = s.kept;
        s.kept = Delivery::none;
        if (s.mode != mode) return false;
        // QEMU unmasks after every change of a level IRQ's delivery.
        if (p.level) err = unmask(p);
        return true;
    }
    if (mode != Delivery::forwarded || s.mode == Delivery::forwarded) return false;
    // FORWARD_IRQ with the trigger set.  An IRQ with no delivery yet gets
    // irqfd underneath first, what QEMU sets up with KVM.
    if (s.mode == Delivery::none) {
        err = set_up(s, Delivery::irqfd);
        if (err < 0) return true;
    }
    err = forward_attr(p, kvm_vfio::kDevVfioDeviceForwardIrq);
    if (err == 0) {
        s.kept = s.mode;
        s.mode = Delivery::forwarded;
    }
    return true; // refused: the IRQ keeps the signalling it had
}

int Vmm::set_up(IrqState& s, Delivery mode)
{
    const IrqPlan& irq = s.plan;
    if (mode == Delivery::forwarded) {
        kvm::DeviceAttr probe{0, kvm_vfio::kDevVfioDevice, kvm_vfio::kDevVfioDeviceForwardIrq, {}};
        if (env_.kvm.has_device_attr(proc_, vfio_dev_fd_, probe) == -ENXIO) {
            s.fell_back = true; // the arch cannot forward: irqfd it is
            mode = Delivery::irqfd;
        } else {
            const int err = forward_attr(irq, kvm_vfio::kDevVfioDeviceForwardIrq);
            if (err == 0) s.mode = Delivery::forwarded;
            return err;
        }
    }
    if (mode == Delivery::none) return 0;

    syscall();
    s.trigger_fd = host::eventfd_create(proc_);
    if (s.trigger_fd < 0) return s.trigger_fd;
    if (irq.level && mode == Delivery::irqfd) {
        syscall();
        s.resample_fd = host::eventfd_create(proc_);
        if (s.resample_fd < 0) return s.resample_fd;
    }
    const std::uint32_t spi = kvm::irq_line_spi(irq.gsi);
    int err = 0;
    if (mode == Delivery::irqfd) {
        err = env_.kvm.irqfd(proc_, vm_fd_, s.trigger_fd, irq.gsi, irq.level ? kvm::kIrqfdFlagResample : 0,
                             s.resample_fd);
        // vfio-pci takes an unmask eventfd only once INTx is on, so the
        // trigger goes first (as QEMU's vfio_intx_enable_kvm finds it).
        if (err == 0) err = set_trigger(irq, s.trigger_fd);
        if (err == 0 && irq.level) err = set_unmask_fd(irq, s.resample_fd);
        if (err == 0 && irq.level) err = unmask(irq);
        s.mode = mode;
        if (err < 0) tear_down(s); // undo whatever part was done
        return err;
    } else {
        // The I/O thread injects; for a level IRQ the guest's next device
        // access tells it of the EOI (mmio_exit).
        host::EventfdCtxRef trigger;
        (void)host::eventfd_ctx_fdget(proc_, s.trigger_fd, trigger);
        s.inject_thread = std::make_unique<host::UserThread>(env_.io_cpu, env_.costs, "vmm: inject");
        IrqState* sp = &s;
        s.inject_thread->wait(std::move(trigger), [this, sp, spi](std::uint64_t) {
            ++injections_;
            ++user_round_trips_;
            ++irq_counts_[key(sp->plan)].user_round_trips;
            if (sp->plan.level) userspace_level_irq(*sp);
            // KVM_IRQ_LINE once the ioctl's entry has run.  QEMU's big lock
            // keeps a delivery change out of the handler.  A level IRQ whose
            // delivery changed first is no longer the I/O thread's (its line
            // stays high and fires into the new mode); an edge the read
            // consumed is injected all the same, or it would be lost.
            syscall();
            act([this, sp, spi] {
                if (sp->plan.level && (sp->mode != Delivery::userspace || !sp->active)) return;
                (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 1);
                if (!sp->plan.level) {
                    syscall();
                    (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
                }
            });
        });
    }
    if (err == 0) err = set_trigger(irq, s.trigger_fd);
    if (err == 0 && irq.level) err = unmask(irq);
    s.mode = mode;
    if (err < 0) tear_down(s); // undo whatever part was done
    return err;
}

void Vmm::kill(sim::Rng& rng)
{
    cancel_acts();
    for (auto& [k, s] : irqs_) s->inject_thread.reset(); // the threads die with the process
    for (auto& [n, r] : regions_) {
        r->timer.reset();
        r->remap.reset();
    }
    if (vm_ != nullptr) vm_->set_user_mmio_handler({});
    proc_.kill(rng);
}

} // namespace fwdsim::vmm
