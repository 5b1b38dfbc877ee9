// Vmm: QEMU's side of VFIO interrupt delivery (hw/vfio/platform.c,
// hw/vfio/pci.c, accel/kvm).  See include/fwdsim/vmm/vmm.h.
#include <fwdsim/host/eventfd.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/vmm/vmm.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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
    bool fell_back = false;
    int trigger_fd = -1;
    int resample_fd = -1;
    int eoi_irqfd = -1; ///< userspace: the irqfd that only carries the resampler
    std::unique_ptr<host::UserThread> inject_thread;
    std::unique_ptr<host::UserThread> eoi_thread;
};

Vmm::Vmm(const VmmEnv& env, std::string name) : env_(env), proc_(std::move(name)) {}

Vmm::~Vmm()
{
    irqs_.clear(); // threads first: they hold eventfd contexts
    if (proc_.alive()) {
        std::vector<int> none;
        proc_.kill(none); // files close ascending
    }
}

void Vmm::syscall()
{
    env_.this_cpu.charge(env_.costs.syscall);
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
    const int vgic_fd = k.create_device(proc_, vm_fd, kvm::kDevTypeArmVgicV2);
    if (vgic_fd < 0) return vgic_fd;
    std::uint32_t n = nr_irqs;
    kvm::DeviceAttr nr{0, kvm::kVgicGrpNrIrqs, 0, {reinterpret_cast<std::uint8_t*>(&n), sizeof n}};
    if (const int err = k.set_device_attr(proc_, vgic_fd, nr); err < 0) return err;
    for (unsigned id = 0; id < nr_vcpus; ++id) {
        const int fd = k.create_vcpu(proc_, vm_fd, id);
        if (fd < 0) return fd;
        vcpu_fds_.push_back(fd);
    }
    kvm::DeviceAttr init{0, kvm::kVgicGrpCtrl, kvm::kVgicCtrlInit, {}};
    if (const int err = k.set_device_attr(proc_, vgic_fd, init); err < 0) return err;
    const int vfio_fd = k.create_device(proc_, vm_fd, kvm::kDevTypeVfio);
    if (vfio_fd < 0) return vfio_fd;
    vfio_dev_fd_ = vfio_fd;
    return 0;
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
    return dfd;
}

int Vmm::device_fd(const std::string& name) const
{
    const auto it = device_fds_.find(name);
    return it == device_fds_.end() ? -EBADF : it->second;
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
    switch (s.mode) {
    case Delivery::forwarded: (void)forward_attr(p, kvm_vfio::kDevVfioDeviceUnforwardIrq); break;
    case Delivery::irqfd:
    case Delivery::userspace:
        (void)set_trigger(p, -1);
        if (p.level) (void)set_unmask_fd(p, -1);
        if (s.mode == Delivery::irqfd) {
            (void)env_.kvm.irqfd(proc_, vm_fd_, s.trigger_fd, p.gsi, kvm::kIrqfdFlagDeassign, -1);
        } else if (s.eoi_irqfd >= 0) {
            (void)env_.kvm.irqfd(proc_, vm_fd_, s.eoi_irqfd, p.gsi, kvm::kIrqfdFlagDeassign, -1);
        }
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
            const std::uint32_t spi = (kvm::kArmIrqTypeSpi << kvm::kArmIrqTypeShift) | (p.gsi + 32);
            syscall();
            ++injections_;
            (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 1);
            (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
        }
    }
    s.inject_thread.reset();
    s.eoi_thread.reset();
    for (int* fd : {&s.trigger_fd, &s.resample_fd, &s.eoi_irqfd}) {
        if (*fd >= 0) (void)proc_.close(*fd);
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
    tear_down(s);
    s.plan = irq;

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

    s.trigger_fd = host::eventfd_create(proc_);
    if (s.trigger_fd < 0) return s.trigger_fd;
    if (irq.level) {
        s.resample_fd = host::eventfd_create(proc_);
        if (s.resample_fd < 0) return s.resample_fd;
    }
    const std::uint32_t spi = (kvm::kArmIrqTypeSpi << kvm::kArmIrqTypeShift) | (irq.gsi + 32);
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
        // The I/O thread injects; for a level IRQ a resampler tells it of
        // the guest's EOI and it unmasks through VFIO.
        host::EventfdCtxRef trigger;
        (void)host::eventfd_ctx_fdget(proc_, s.trigger_fd, trigger);
        s.inject_thread = std::make_unique<host::UserThread>(env_.io_cpu, env_.costs, "vmm: inject");
        s.inject_thread->wait(std::move(trigger), [this, spi, level = irq.level](std::uint64_t) {
            syscall();
            ++injections_;
            (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 1);
            if (!level) (void)env_.kvm.irq_line(proc_, vm_fd_, spi, 0);
        });
        if (irq.level) {
            s.eoi_irqfd = host::eventfd_create(proc_);
            if (s.eoi_irqfd < 0) return s.eoi_irqfd;
            err = env_.kvm.irqfd(proc_, vm_fd_, s.eoi_irqfd, irq.gsi, kvm::kIrqfdFlagResample, s.resample_fd);
            host::EventfdCtxRef resample;
            (void)host::eventfd_ctx_fdget(proc_, s.resample_fd, resample);
            s.eoi_thread = std::make_unique<host::UserThread>(env_.io_cpu, env_.costs, "vmm: eoi");
            s.eoi_thread->wait(std::move(resample), [this, irq](std::uint64_t) {
                syscall();
                ++unmasks_;
                (void)env_.vfio.device_set_irqs(
                    proc_, device_fd(irq.device),
                    vfio::VfioIrqSet::none(vfio::VFIO_IRQ_SET_ACTION_UNMASK, irq.index, irq.subindex, 1));
            });
        }
    }
    if (err == 0) err = set_trigger(irq, s.trigger_fd);
    if (err == 0 && irq.level) err = unmask(irq);
    s.mode = mode;
    if (err < 0) tear_down(s); // undo whatever part was done
    return err;
}

void Vmm::kill(sim::Rng& rng)
{
    for (auto& [k, s] : irqs_) {
        s->inject_thread.reset(); // the threads die with the process
        s->eoi_thread.reset();
    }
    proc_.kill(rng);
}

} // namespace fwdsim::vmm
