// The kvm-vfio device.  See include/fwdsim/kvm_vfio/kvm_vfio.h and, for
// every errno and its reason, docs/kvm-vfio.md.
#include <fwdsim/kvm_vfio/kvm_vfio.h>

#include <algorithm>
#include <cerrno>

namespace fwdsim::kvm_vfio {

KvmVfioDevice::~KvmVfioDevice()
{
    // kvm_vfio_destroy: unforward everything, then drop the groups.
    while (!forwarded_.empty()) unforward_entry(forwarded_.front());
    groups_.clear();
    devices_.clear();
}

int KvmVfioDevice::has_attr(const kvm::DeviceAttr& a)
{
    switch (a.group) {
    case kDevVfioGroup:
        return a.attr == kDevVfioGroupAdd || a.attr == kDevVfioGroupDel ? 0 : -ENXIO;
    case kDevVfioDevice:
        // Forwarding is an arch capability: without it the attributes do
        // not exist, and a VMM that asks falls back to irqfd.
        if (!vm_.can_forward()) return -ENXIO;
        return a.attr == kDevVfioDeviceForwardIrq || a.attr == kDevVfioDeviceUnforwardIrq ||
                       a.attr == kDevVfioDeviceForwardPolicy
                   ? 0
                   : -ENXIO;
    default: return -ENXIO;
    }
}

int KvmVfioDevice::set_attr(host::Process& caller, const kvm::DeviceAttr& a)
{
    if (has_attr(a) != 0) return -ENXIO;
    if (a.group == kDevVfioGroup) return a.attr == kDevVfioGroupAdd ? group_add(caller, a) : group_del(caller, a);
    if (a.attr == kDevVfioDeviceForwardPolicy) return set_policy(a);
    return a.attr == kDevVfioDeviceForwardIrq ? forward(caller, a) : unforward(caller, a);
}

int KvmVfioDevice::set_policy(const kvm::DeviceAttr& a)
{
    std::uint32_t value = 0;
    if (!a.read(value)) return -EFAULT;
    if (value > 1) return -EINVAL;
    // Entries were made under the old policy: their VFIO side assumed it.
    if (!forwarded_.empty()) return -EBUSY;
    policy_ = value == 1 ? vfio::ForwardingPolicy::bimodal : vfio::ForwardingPolicy::exclusive;
    return 0;
}

namespace {
int device_from_fd(host::Process& caller, std::int32_t fd, vfio::DeviceRef& out)
{
    host::FileRef file;
    if (const int err = caller.fget(fd, file); err < 0) return err;
    return vfio::device_get_from_file(*file, out);
}
} // namespace

bool KvmVfioDevice::known(const vfio::Device& dev) const
{
    return std::any_of(groups_.begin(), groups_.end(), [&](const auto& g) { return g.get() == dev.group(); }) ||
           std::any_of(devices_.begin(), devices_.end(), [&](const auto& d) { return d.get() == &dev; });
}

// virt/kvm/vfio.c kvm_vfio_file_add (6.18): get_user of an s32 fd, fdget,
// then a VFIO group file or (6.5+) a VFIO device file (vfio_file_is_valid),
// else EINVAL; the same file twice is EEXIST.
int KvmVfioDevice::group_add(host::Process& caller, const kvm::DeviceAttr& a)
{
    std::int32_t fd = 0;
    if (!a.read(fd)) return -EFAULT;
    host::FileRef file;
    if (const int err = caller.fget(fd, file); err < 0) return err;
    vfio::GroupRef group;
    if (vfio::group_get_from_file(*file, group) == 0) {
        for (const auto& g : groups_) {
            if (g.get() == group.get()) return -EEXIST;
        }
        groups_.push_back(std::move(group));
        return 0;
    }
    vfio::DeviceRef device;
    if (vfio::device_get_from_file(*file, device) < 0) return -EINVAL;
    for (const auto& d : devices_) {
        if (d.get() == device.get()) return -EEXIST;
    }
    devices_.push_back(std::move(device));
    return 0;
}

// kvm_vfio_file_del: get_user, fdget, then the file is looked up in the
// list whatever its kind: none there is ENOENT.
int KvmVfioDevice::group_del(host::Process& caller, const kvm::DeviceAttr& a)
{
    std::int32_t fd = 0;
    if (!a.read(fd)) return -EFAULT;
    host::FileRef file;
    if (const int err = caller.fget(fd, file); err < 0) return err;
    vfio::GroupRef group;
    vfio::DeviceRef device;
    if (vfio::group_get_from_file(*file, group) == 0) {
        const auto it = std::find_if(groups_.begin(), groups_.end(), [&](const auto& g) { return g.get() == group.get(); });
        if (it == groups_.end()) return -ENOENT;
        groups_.erase(it);
    } else if (vfio::device_get_from_file(*file, device) == 0) {
        const auto it = std::find_if(devices_.begin(), devices_.end(), [&](const auto& d) { return d.get() == device.get(); });
        if (it == devices_.end()) return -ENOENT;
        devices_.erase(it);
    } else {
        return -ENOENT;
    }
    // A device no longer known to KVM can no longer be forwarded through it.
    for (auto e = forwarded_.begin(); e != forwarded_.end();) {
        ForwardedIrq& entry = *e++;
        if (!known(entry.device())) unforward_entry(entry);
    }
    return 0;
}

ForwardedIrq* KvmVfioDevice::find(const vfio::Device& dev, unsigned index, unsigned subindex)
{
    for (auto& e : forwarded_) {
        if (&e.device() == &dev && e.index() == index && e.subindex() == subindex) return &e;
    }
    return nullptr;
}

int KvmVfioDevice::forward(host::Process& caller, const kvm::DeviceAttr& a)
{
    ForwardedIrqArg arg;
    if (!a.read(arg)) return -EFAULT;
    vfio::DeviceRef device; // the entry's reference, if it is registered
    if (const int err = device_from_fd(caller, static_cast<std::int32_t>(arg.fd), device); err < 0) return err;
    if (!known(*device)) return -EINVAL;
    if (find(*device, arg.index, arg.subindex) != nullptr) return -EINVAL;
    const int host_irq = device->host_irq(arg.index, arg.subindex); // the bus driver decodes the index
    if (host_irq < 0) return host_irq;
    if (const int intid = vm_.gsi_to_intid(arg.gsi); intid < 0) return intid;

    auto* entry = new ForwardedIrq(vm_, std::move(device), arg.index, arg.subindex, arg.gsi,
                                   static_cast<unsigned>(host_irq));
    // VFIO first (it owns the host IRQ and refuses with -EBUSY while its
    // own signalling is set up), then the arch link; a refusal of the
    // second undoes the first, so nothing is left half-changed.
    if (const int err = entry->device().set_forwarded(arg.index, arg.subindex, *entry, policy_); err < 0) {
        delete entry;
        return err;
    }
    if (const int err = vm_.forward_irq(static_cast<unsigned>(host_irq), arg.gsi); err < 0) {
        entry->device().clear_forwarded(arg.index, arg.subindex);
        delete entry;
        return err;
    }
    forwarded_.push_back(*entry);
    return 0;
}

int KvmVfioDevice::unforward(host::Process& caller, const kvm::DeviceAttr& a)
{
    ForwardedIrqArg arg;
    if (!a.read(arg)) return -EFAULT;
    vfio::DeviceRef device;
    if (const int err = device_from_fd(caller, static_cast<std::int32_t>(arg.fd), device); err < 0) return err;
    ForwardedIrq* entry = find(*device, arg.index, arg.subindex);
    if (entry == nullptr) return -EINVAL;
    unforward_entry(*entry);
    return 0;
}

void KvmVfioDevice::unforward_entry(ForwardedIrq& entry)
{
    // VFIO first: once clear_forwarded has returned no handler can call
    // the entry, so no interrupt can meet a half-unlinked arch and be
    // dropped; free_irq hands a physical active state back.  Then the arch
    // unlinks (host_irq, INTID), and the entry and its device reference go.
    entry.device().clear_forwarded(entry.index(), entry.subindex());
    vm_.unforward_irq(entry.host_irq(), entry.gsi());
    forwarded_.erase(forwarded_.iterator_to(entry));
    delete &entry;
}

void register_device(kvm::Kvm& kvm)
{
    kvm.register_device(kvm::kDevTypeVfio, "vfio", [](kvm::Vm& vm, std::unique_ptr<kvm::KvmDevice>& out) {
        for (kvm::KvmDevice* d : vm.devices()) {
            if (dynamic_cast<KvmVfioDevice*>(d) != nullptr) return -EBUSY; // one per VM (kvm_vfio_create)
        }
        out = std::make_unique<KvmVfioDevice>(vm);
        return 0;
    });
}

} // namespace fwdsim::kvm_vfio
