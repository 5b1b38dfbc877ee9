// KvmDevice: a device created with KVM_CREATE_DEVICE (struct kvm_device and
// its kvm_device_ops), and the attribute calls made on its file
// (KVM_SET_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR).
//
// Device types are registered with kvm::Kvm by the layer that implements
// them (kvm_register_device_ops): the vgic-v2 by KVM itself, the kvm-vfio
// device by kvm_vfio.  A device lives as long as its VM: the VM's
// destruction destroys it (kvm_destroy_devices), whatever order the files
// were closed in.
#pragma once

#include <fwdsim/host/process.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

namespace fwdsim::kvm {

class Vm;

// include/uapi/linux/kvm.h
constexpr std::uint32_t kDevTypeVfio = 4;
constexpr std::uint32_t kDevTypeArmVgicV2 = 5;
constexpr std::uint32_t kCreateDeviceTest = 1u << 0; ///< KVM_CREATE_DEVICE_TEST

/// struct kvm_device_attr; `data` is the user memory at attr.addr (an
/// empty span models an address that cannot be read or written: -EFAULT).
struct DeviceAttr {
    std::uint32_t flags = 0;
    std::uint32_t group = 0;
    std::uint64_t attr = 0;
    std::span<std::uint8_t> data;

    /// copy_from_user of a T: false (EFAULT) when the memory is too small.
    template <class T>
    bool read(T& out) const
    {
        if (data.size() < sizeof(T)) return false;
        std::memcpy(&out, data.data(), sizeof(T));
        return true;
    }
    template <class T>
    bool write(const T& in) const
    {
        if (data.size() < sizeof(T)) return false;
        std::memcpy(data.data(), &in, sizeof(T));
        return true;
    }
};

class KvmDevice {
public:
    virtual ~KvmDevice() = default;
    virtual std::string_view name() const = 0;
    /// Errors are Linux's: -ENXIO for an unknown group or attribute.
    virtual int set_attr(host::Process& caller, const DeviceAttr& attr) = 0;
    /// A device without a get_attr op answers -EPERM
    /// (kvm_main.c kvm_device_ioctl_attr: no accessor).
    virtual int get_attr(host::Process& caller, const DeviceAttr& attr)
    {
        (void)caller;
        (void)attr;
        return -EPERM;
    }
    virtual int has_attr(const DeviceAttr& attr) = 0;
};

/// kvm_device_ops.create: 0 and the device, or -errno (e.g. -EBUSY for a
/// second kvm-vfio device in a VM).
using DeviceFactory = std::function<int(Vm& vm, std::unique_ptr<KvmDevice>& out)>;

} // namespace fwdsim::kvm
