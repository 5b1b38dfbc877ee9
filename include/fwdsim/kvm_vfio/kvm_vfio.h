// The kvm-vfio device (KVM_DEV_TYPE_VFIO; virt/kvm/vfio.c), with the
// forwarding attributes of the seed series and the semantics its review
// converged on.
//
// KVM_DEV_VFIO_GROUP ADD/DEL take a VFIO group fd and keep a reference to
// the group.  KVM_DEV_VFIO_DEVICE FORWARD_IRQ/UNFORWARD_IRQ take
// {fd, index, subindex, gsi}: the fd is resolved to a VFIO device through
// VFIO's external-user API (its errno propagated), the bus driver resolves
// (index, subindex) to a host IRQ, and from then on only
// (kvm, host_irq, guest_irq) goes down to KVM and the arch.  Each forwarded
// IRQ is one ForwardedIrq on an intrusive list (as the kernel's list_head)
// and holds exactly one device reference, taken when it is registered and
// dropped when it is unregistered.  Unforwarding cannot fail; destroying the
// device -- which the VM's destruction does, however the VMM's files were
// closed -- unforwards everything and drops every reference.  The errno of
// each refusal, and why, is in docs/kvm-vfio.md.
#pragma once

#include <fwdsim/kvm/device.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/vfio/vfio.h>

#include <boost/intrusive/list.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::kvm_vfio {

// include/uapi/linux/kvm.h, and the seed series for the DEVICE group.
constexpr std::uint32_t kDevVfioGroup = 1;
constexpr std::uint64_t kDevVfioGroupAdd = 1;
constexpr std::uint64_t kDevVfioGroupDel = 2;
constexpr std::uint32_t kDevVfioDevice = 2;
constexpr std::uint64_t kDevVfioDeviceForwardIrq = 1;
constexpr std::uint64_t kDevVfioDeviceUnforwardIrq = 2;
/// fwdsim's policy attribute (u32: 0 exclusive, 1 bi-modal); -EBUSY while
/// any IRQ is forwarded, -EINVAL for another value.
constexpr std::uint64_t kDevVfioDeviceForwardPolicy = 3;

/// The attribute argument of FORWARD_IRQ / UNFORWARD_IRQ
/// (struct kvm_arch_forwarded_irq in the seed).
struct ForwardedIrqArg {
    std::uint32_t fd = 0;
    std::uint32_t index = 0;
    std::uint32_t subindex = 0;
    std::uint32_t gsi = 0;
};

/// One forwarded IRQ: the entry on the device's list, the consumer VFIO's
/// handler injects through, and the owner of one device reference.
class ForwardedIrq final : public boost::intrusive::list_base_hook<>, public vfio::ForwardedIrqConsumer {
public:
    ForwardedIrq(kvm::Vm& vm, vfio::DeviceRef device, unsigned index, unsigned subindex, std::uint32_t gsi,
                 unsigned host_irq)
        : vm_(vm), device_(std::move(device)), index_(index), subindex_(subindex), gsi_(gsi), host_irq_(host_irq)
    {
    }
    void inject(unsigned host_irq) override { (void)vm_.inject_forwarded(host_irq); }

    vfio::Device& device() const { return *device_; }
    unsigned index() const { return index_; }
    unsigned subindex() const { return subindex_; }
    std::uint32_t gsi() const { return gsi_; }
    unsigned host_irq() const { return host_irq_; }

private:
    kvm::Vm& vm_;
    vfio::DeviceRef device_;
    unsigned index_;
    unsigned subindex_;
    std::uint32_t gsi_;
    unsigned host_irq_;
};

class KvmVfioDevice final : public kvm::KvmDevice {
public:
    explicit KvmVfioDevice(kvm::Vm& vm) : vm_(vm) {}
    ~KvmVfioDevice() override;

    std::string_view name() const override { return "kvm-vfio"; }
    int set_attr(host::Process& caller, const kvm::DeviceAttr& attr) override;
    int has_attr(const kvm::DeviceAttr& attr) override;

    const boost::intrusive::list<ForwardedIrq>& forwarded() const { return forwarded_; }
    /// The VFIO files KVM_DEV_VFIO_FILE ADD took: group files and (Linux
    /// 6.5+) device files.
    const std::vector<vfio::GroupRef>& groups() const { return groups_; }
    const std::vector<vfio::DeviceRef>& device_files() const { return devices_; }
    vfio::ForwardingPolicy policy() const { return policy_; }

private:
    int group_add(host::Process& caller, const kvm::DeviceAttr& attr);
    int group_del(host::Process& caller, const kvm::DeviceAttr& attr);
    int forward(host::Process& caller, const kvm::DeviceAttr& attr);
    int unforward(host::Process& caller, const kvm::DeviceAttr& attr);
    int set_policy(const kvm::DeviceAttr& attr);
    /// Unregisters one entry: the arch link, then VFIO's mode, then the
    /// entry and its device reference.  Cannot fail.
    void unforward_entry(ForwardedIrq& entry);
    ForwardedIrq* find(const vfio::Device& dev, unsigned index, unsigned subindex);

    kvm::Vm& vm_;
    std::vector<vfio::GroupRef> groups_;
    std::vector<vfio::DeviceRef> devices_;
    /// Whether `dev` was made known to KVM: its group file or a file of it added.
    bool known(const vfio::Device& dev) const;
    boost::intrusive::list<ForwardedIrq> forwarded_;
    vfio::ForwardingPolicy policy_ = vfio::ForwardingPolicy::exclusive;
};

/// Registers the kvm-vfio device type (KVM_DEV_TYPE_VFIO) with `kvm`; a
/// second one in the same VM is refused with -EBUSY.
void register_device(kvm::Kvm& kvm);

} // namespace fwdsim::kvm_vfio
