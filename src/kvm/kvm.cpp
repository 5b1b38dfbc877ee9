// Kvm: virt/kvm/kvm_main.c's file interface (kvm_dev_ioctl_create_vm,
// kvm_vm_ioctl, kvm_device_ioctl) and arm.c's boot-time set-up.
// See include/fwdsim/kvm/kvm.h.
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/kvm/vgic_device.h>

#include <algorithm>
#include <cerrno>

namespace fwdsim::kvm {

Kvm::Kvm(const KvmEnv& env, std::vector<host::Cpu*> cpus, arch::ArchKind arch)
    : env_(env), cpus_(std::move(cpus)), arch_(arch), loaded_(cpus_.size(), nullptr)
{
    env_.loaded = &loaded_;
    env_.cpus = &cpus_;
    pinning_ = [n = static_cast<unsigned>(cpus_.size())](unsigned id) { return n > 1 ? 1 + id % (n - 1) : 0; };
    register_device(kDevTypeArmVgicV2, "vgic-v2", create_vgic_device);
}

Kvm::~Kvm()
{
    // Whatever VMs are left (their files still open) go with the module.
    while (!vms_.empty()) {
        std::unique_ptr<Vm> vm = std::move(vms_.back());
        vms_.pop_back();
        vm->set_release({});
    }
}

int Kvm::init()
{
    // The maintenance handler does nothing: the vgic's state is folded on
    // every exit anyway.  SGI 0 is Linux's IPI_RESCHEDULE: KVM's kick only
    // makes the CPU leave the guest; a wake-up queued on the CPU's wake
    // list (a blocked vCPU's thread) is run by the scheduler's handler.
    auto noop = [](unsigned, void*) { return host::IrqReturn::handled; };
    auto resched = [this](unsigned, void*) {
        if (host::Cpu* c = env_.this_cpu.current()) (void)c->sched_ipi();
        return host::IrqReturn::handled;
    };
    host::IrqLayer& irqs = env_.irqs;
    if (const int err = irqs.request_irq(kMaintenancePpi, noop, &maint_cookie_, "vgic maintenance"); err < 0) return err;
    if (const int err = irqs.request_irq(kKickSgi, resched, &maint_cookie_, "ipi reschedule"); err < 0) {
        (void)irqs.free_irq(kMaintenancePpi, &maint_cookie_);
        return err;
    }
    for (host::Cpu* c : cpus_) (void)irqs.enable_percpu_irq(kMaintenancePpi, c->id());
    // Rises only: the guest takes a virtual interrupt on a rise and reads
    // the line otherwise, so nVIRQ falls need no event of their own.
    env_.gic.add_virq_listener(
        [this](unsigned cpu, bool) {
            if (cpu < loaded_.size() && loaded_[cpu] != nullptr) loaded_[cpu]->virq_rose();
        },
        gic::LineEdges::rising);
    return 0;
}

void Kvm::register_device(std::uint32_t type, std::string name, DeviceFactory factory)
{
    device_types_[type] = DeviceType{std::move(name), std::move(factory)};
}

std::string_view Kvm::device_type_name(std::uint32_t type) const
{
    const auto it = device_types_.find(type);
    return it == device_types_.end() ? std::string_view{"?"} : std::string_view{it->second.name};
}

std::vector<Vm*> Kvm::vms() const
{
    std::vector<Vm*> out;
    for (const auto& v : vms_) out.push_back(v.get());
    return out;
}

Vcpu* Kvm::loaded(unsigned pcpu) const
{
    return pcpu < loaded_.size() ? loaded_[pcpu] : nullptr;
}

template <class F>
int Kvm::with_file(host::Process& proc, int fd, F&& fn)
{
    if (!proc.alive()) return -ESRCH;
    host::FileRef file;
    if (const int err = proc.fget(fd, file); err < 0) return err;
    // kvm_vm_ioctl, kvm_vcpu_ioctl, kvm_device_ioctl: a dead VM's files
    // answer every ioctl with EIO.
    const Vm* vm = nullptr;
    if (auto* v = host::file_cast<VmFile>(file.get())) vm = &v->vm();
    else if (auto* c = host::file_cast<VcpuFile>(file.get())) vm = &c->vcpu().vm();
    else if (auto* d = host::file_cast<DeviceFile>(file.get())) vm = &d->vm();
    if (vm != nullptr && vm->dead()) return -EIO;
    return fn(*file);
}

int Kvm::create_vm(host::Process& proc)
{
    if (!proc.alive()) return -ESRCH;
    auto vm = std::make_unique<Vm>(env_, arch_);
    Vm& ref = *vm;
    vms_.push_back(std::move(vm));
    ref.set_release([this](Vm& dead) {
        const auto it = std::find_if(vms_.begin(), vms_.end(), [&](const auto& p) { return p.get() == &dead; });
        if (it != vms_.end()) vms_.erase(it);
    });
    const int fd = proc.install(host::make_file<VmFile>(ref));
    return fd; // on -EMFILE the file's release already put the VM
}

int Kvm::create_vcpu(host::Process& proc, int vm_fd, unsigned id)
{
    return with_file(proc, vm_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VmFile>(&f);
        if (vf == nullptr) return -ENOTTY;
        const unsigned pcpu = pinning_(id);
        if (pcpu >= cpus_.size()) return -EINVAL;
        Vcpu* vcpu = nullptr;
        if (const int err = vf->vm().create_vcpu(id, *cpus_[pcpu], vcpu); err < 0) return err;
        return proc.install(host::make_file<VcpuFile>(vf->vm(), *vcpu));
    });
}

int Kvm::run(host::Process& proc, int vcpu_fd)
{
    return with_file(proc, vcpu_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VcpuFile>(&f);
        if (vf == nullptr) return -ENOTTY;
        // kvm_vcpu_ioctl KVM_RUN: the first run's checks answer now; the
        // run loop then goes on for as long as the vCPU's thread lives.
        Vcpu& vcpu = vf->vcpu();
        if (const int err = vcpu.vm().first_run(vcpu); err < 0) return err;
        vcpu.run();
        return 0;
    });
}

int Kvm::vcpu_init(host::Process& proc, int vcpu_fd, std::uint32_t target, std::span<const std::uint32_t, 7> features)
{
    return with_file(proc, vcpu_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VcpuFile>(&f);
        return vf == nullptr ? -ENOTTY : vf->vcpu().vm().vcpu_init(vf->vcpu(), target, features);
    });
}

int Kvm::create_device(host::Process& proc, int vm_fd, std::uint32_t type, std::uint32_t flags)
{
    return with_file(proc, vm_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VmFile>(&f);
        if (vf == nullptr) return -ENOTTY;
        // kvm_ioctl_create_device: the type, then TEST answers without
        // creating anything (even when one exists already).
        const auto it = device_types_.find(type);
        if (it == device_types_.end()) return -ENODEV;
        if (flags & kCreateDeviceTest) return 0;
        std::unique_ptr<KvmDevice> dev;
        if (const int err = it->second.factory(vf->vm(), dev); err < 0) return err;
        KvmDevice& d = vf->vm().add_device(std::move(dev));
        const int fd = proc.install(host::make_file<DeviceFile>(vf->vm(), d));
        // No fd: the device is unlinked and destroyed again (the file's
        // release has already put its VM reference).
        if (fd < 0) vf->vm().remove_device(d);
        return fd;
    });
}

int Kvm::set_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr)
{
    return with_file(proc, dev_fd, [&](host::File& f) {
        auto* df = host::file_cast<DeviceFile>(&f);
        return df == nullptr ? -ENOTTY : df->device().set_attr(proc, attr);
    });
}

int Kvm::get_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr)
{
    return with_file(proc, dev_fd, [&](host::File& f) {
        auto* df = host::file_cast<DeviceFile>(&f);
        return df == nullptr ? -ENOTTY : df->device().get_attr(proc, attr);
    });
}

int Kvm::has_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr)
{
    return with_file(proc, dev_fd, [&](host::File& f) {
        auto* df = host::file_cast<DeviceFile>(&f);
        return df == nullptr ? -ENOTTY : df->device().has_attr(attr);
    });
}

int Kvm::irqfd(host::Process& proc, int vm_fd, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd)
{
    return with_file(proc, vm_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VmFile>(&f);
        return vf == nullptr ? -ENOTTY : vf->vm().irqfd(proc, fd, gsi, flags, resamplefd);
    });
}

int Kvm::irq_line(host::Process& proc, int vm_fd, std::uint32_t irq, std::uint32_t level)
{
    return with_file(proc, vm_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VmFile>(&f);
        return vf == nullptr ? -ENOTTY : vf->vm().irq_line(irq, level);
    });
}

int Kvm::set_gsi_routing(host::Process& proc, int vm_fd, std::span<const RoutingEntry> entries)
{
    return with_file(proc, vm_fd, [&](host::File& f) {
        auto* vf = host::file_cast<VmFile>(&f);
        return vf == nullptr ? -ENOTTY : vf->vm().set_gsi_routing(entries);
    });
}

} // namespace fwdsim::kvm
