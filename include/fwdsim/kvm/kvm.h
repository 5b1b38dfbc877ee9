// Kvm: the KVM module of one host (/dev/kvm) and the calls a VMM makes on
// its files: KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_RUN, KVM_CREATE_DEVICE,
// KVM_{SET,GET,HAS}_DEVICE_ATTR, KVM_IRQFD, KVM_IRQ_LINE,
// KVM_SET_GSI_ROUTING -- each 0/fd or -errno with Linux's rules: a fd that
// is not open -> -EBADF; an ioctl on a file that does not have it -> -ENOTTY;
// a dead caller -> -ESRCH; an unknown device type -> -ENODEV; any VM,
// vCPU or device ioctl on a VM marked dead (kvm_vm_dead) -> -EIO.
//
// init() does what kvm_arch_init and the vgic probe do at boot: it requests
// the vgic maintenance interrupt (PPI 25) and the kick IPI on every CPU, and
// routes each CPU's nVIRQ to the vCPU loaded there.  Device types are
// registered by the layers that implement them (the vgic-v2 here, the
// kvm-vfio device by kvm_vfio).  vCPU i runs on the physical CPU the pinning
// policy names (by default CPU i + 1, leaving CPU 0 to the host).
#pragma once

#include <fwdsim/gic/registers.h>
#include <fwdsim/host/file.h>
#include <fwdsim/host/process.h>
#include <fwdsim/kvm/device.h>
#include <fwdsim/kvm/vm.h>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fwdsim::kvm {

/// The vgic maintenance interrupt KVM requests: the board's GICH output
/// (include/fwdsim/gic/registers.h).
constexpr unsigned kMaintenancePpi = gic::maintenance_ppi;

class VmFile final : public host::File {
public:
    explicit VmFile(Vm& vm) : vm_(&vm) {}
    std::string_view kind() const override { return "kvm-vm"; }
    Vm& vm() { return *vm_; }

protected:
    void release() override { vm_->put(); }

private:
    Vm* vm_;
};

class VcpuFile final : public host::File {
public:
    VcpuFile(Vm& vm, Vcpu& vcpu) : vm_(&vm), vcpu_(&vcpu) { vm.get(); }
    std::string_view kind() const override { return "kvm-vcpu"; }
    Vcpu& vcpu() { return *vcpu_; }

protected:
    /// The vCPU's thread is gone with its file: it leaves KVM_RUN.
    void release() override
    {
        vcpu_->stop();
        vm_->put();
    }

private:
    Vm* vm_;
    Vcpu* vcpu_;
};

class DeviceFile final : public host::File {
public:
    DeviceFile(Vm& vm, KvmDevice& dev) : vm_(&vm), dev_(&dev) { vm.get(); }
    std::string_view kind() const override { return "kvm-device"; }
    KvmDevice& device() { return *dev_; }
    Vm& vm() { return *vm_; }

protected:
    void release() override { vm_->put(); }

private:
    Vm* vm_;
    KvmDevice* dev_;
};

class Kvm {
public:
    Kvm(const KvmEnv& env, std::vector<host::Cpu*> cpus, arch::ArchKind arch = arch::ArchKind::arm);
    ~Kvm();
    Kvm(const Kvm&) = delete;
    Kvm& operator=(const Kvm&) = delete;

    /// Boot-time set-up (see above); the IRQ layer's errno on failure.
    int init();
    arch::ArchKind arch() const { return arch_; }
    const KvmEnv& env() const { return env_; }
    const std::vector<host::Cpu*>& cpus() const { return cpus_; }

    /// kvm_register_device_ops.
    void register_device(std::uint32_t type, std::string name, DeviceFactory factory);
    /// The physical CPU vCPU `id` runs on.
    void set_pinning(std::function<unsigned(unsigned vcpu_id)> policy) { pinning_ = std::move(policy); }

    // --- calls on files of `proc` --------------------------------------------
    int create_vm(host::Process& proc);
    int create_vcpu(host::Process& proc, int vm_fd, unsigned id);
    /// KVM_RUN: the first run's checks (Vm::first_run), then the run loop.
    int run(host::Process& proc, int vcpu_fd);
    /// KVM_ARM_VCPU_INIT (Vm::vcpu_init).
    int vcpu_init(host::Process& proc, int vcpu_fd, std::uint32_t target, std::span<const std::uint32_t, 7> features);
    /// KVM_CREATE_DEVICE; `flags` kCreateDeviceTest answers whether the
    /// type exists and creates nothing.
    int create_device(host::Process& proc, int vm_fd, std::uint32_t type, std::uint32_t flags = 0);
    int set_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr);
    int get_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr);
    int has_device_attr(host::Process& proc, int dev_fd, const DeviceAttr& attr);
    int irqfd(host::Process& proc, int vm_fd, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd);
    int irq_line(host::Process& proc, int vm_fd, std::uint32_t irq, std::uint32_t level);
    int set_gsi_routing(host::Process& proc, int vm_fd, std::span<const RoutingEntry> entries);

    // --- inspection -----------------------------------------------------------------
    std::vector<Vm*> vms() const;
    /// The vCPU loaded on physical CPU `pcpu`, or null.
    Vcpu* loaded(unsigned pcpu) const;
    /// Device type names, for messages ("vfio", "vgic-v2").
    std::string_view device_type_name(std::uint32_t type) const;

private:
    template <class F>
    int with_file(host::Process& proc, int fd, F&& fn);

    KvmEnv env_;
    std::vector<host::Cpu*> cpus_;
    arch::ArchKind arch_;
    std::vector<Vcpu*> loaded_;
    std::function<unsigned(unsigned)> pinning_;
    struct DeviceType {
        std::string name;
        DeviceFactory factory;
    };
    std::map<std::uint32_t, DeviceType> device_types_;
    std::vector<std::unique_ptr<Vm>> vms_;
    int maint_cookie_ = 0; ///< dev_id of KVM's own interrupt handlers
};

} // namespace fwdsim::kvm
