// Vfio: the VFIO core's containers, IOMMU groups and their files, and the
// external-user API kvm-vfio uses (drivers/vfio/vfio_main.c, group.c,
// container.c).
//
// A Vfio instance is the host's VFIO subsystem: it knows the IOMMU groups
// and the devices bound to VFIO in each (add_group, add_device); a group
// with a device bound to another host driver is not viable.  Processes reach
// it with the calls a VMM makes, on file descriptors of that process:
// open_container (open /dev/vfio/vfio), open_group (open /dev/vfio/N),
// group_set_container, set_iommu, group_get_device_fd, ... -- each 0/fd or
// -errno with Linux's rules:
// * a group can be open once at a time (-EBUSY); SET_CONTAINER on a group
//   that is not viable -> -EPERM, on a group that has one -> -EINVAL;
//   SET_IOMMU on a container with no group (or one already set) -> -EINVAL,
//   an unsupported type -> -ENODEV; GET_DEVICE_FD before the group's
//   container has an IOMMU -> -EINVAL, an unknown name -> -ENODEV;
//   UNSET_CONTAINER with a device still open -> -EBUSY, without a container
//   -> -EINVAL.  A fd that is not open -> -EBADF; an ioctl made on a file
//   that does not have it -> -ENOTTY; a container fd argument that is not a
//   container -> -EINVAL.  Only one process can hold a group, so a device is
//   never open in two processes at once.
// * Files hold references as Linux's do: a device file holds its device and
//   its group file; a group holds its container file while attached.  The
//   group file's release detaches it from its container; the container's
//   IOMMU goes with its last group.
// External users: device_get_from_file / group_get_from_file take a
// reference (-EINVAL for a file of another kind); the caller puts it.
#pragma once

#include <fwdsim/host/file.h>
#include <fwdsim/host/process.h>
#include <fwdsim/vfio/device.h>
#include <fwdsim/vfio/uapi.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fwdsim::vfio {

class Container;
class Group;

class ContainerFile final : public host::File {
public:
    ContainerFile() = default;
    std::string_view kind() const override { return "vfio-container"; }
    std::vector<Group*>& groups() { return groups_; }
    unsigned iommu_type() const { return iommu_type_; }
    void set_iommu_type(unsigned t) { iommu_type_ = t; }

private:
    std::vector<Group*> groups_;
    unsigned iommu_type_ = 0; ///< 0: none set
};

/// An IOMMU group (struct vfio_group).
class Group {
public:
    explicit Group(unsigned id) : id_(id) {}
    unsigned id() const { return id_; }
    bool viable() const { return foreign_devices_ == 0; }
    bool opened() const { return opened_; }
    ContainerFile* container() const { return container_.get(); }
    const std::vector<Device*>& devices() const { return devices_; }
    Device* find_device(std::string_view name) const;

    void get() { ++refcount_; }
    void put() { assert(refcount_ > 0); --refcount_; }
    /// The core's reference plus one per group file and per external user.
    unsigned refcount() const { return refcount_; }

private:
    friend class Vfio;
    friend class GroupFile;
    friend void group_detach_container(Group& g);
    unsigned id_;
    unsigned refcount_ = 1;
    unsigned foreign_devices_ = 0;
    bool opened_ = false;
    host::Ref<ContainerFile> container_;
    std::vector<Device*> devices_;
};

using GroupRef = host::Ref<Group>;

class GroupFile final : public host::File {
public:
    explicit GroupFile(Group& g);
    std::string_view kind() const override { return "vfio-group"; }
    Group& group() { return *group_; }

protected:
    void release() override;

private:
    GroupRef group_;
};

class DeviceFile final : public host::File {
public:
    DeviceFile(Device& d, host::FileRef group_file);
    std::string_view kind() const override { return "vfio-device"; }
    Device& device() { return *device_; }

protected:
    void release() override;

private:
    DeviceRef device_;
    host::FileRef group_file_;
};

class Vfio {
public:
    Vfio() = default;
    ~Vfio();
    Vfio(const Vfio&) = delete;
    Vfio& operator=(const Vfio&) = delete;

    // --- the host's configuration ---------------------------------------------------
    Group& add_group(unsigned id);
    /// Binds a device to VFIO in group `group_id` (created if needed).
    Device& add_device(unsigned group_id, std::unique_ptr<Device> device);
    /// A device in the group bound to a host driver: the group is not viable.
    void add_foreign_device(unsigned group_id);
    Group* group(unsigned id);
    Device* device(std::string_view name);
    std::vector<Device*> devices() const;
    std::vector<Group*> groups() const;

    /// design.md §5 for VFIO, once every user is gone: each device holds
    /// only its binding reference and is not open, each group only the
    /// core's reference, not open, in no container; every IRQ context
    /// released (IrqContext::released_state_violations).  Empty when clean.
    std::vector<std::string> released_state_violations() const;

    // --- user interface (fds of `proc`) -----------------------------------------
    int open_container(host::Process& proc);
    /// -ENOENT for no such group, -EBUSY when already open.
    int open_group(host::Process& proc, unsigned group_id);
    int get_api_version(host::Process& proc, int container_fd);
    int check_extension(host::Process& proc, int container_fd, unsigned long ext);
    int group_get_status(host::Process& proc, int group_fd, VfioGroupStatus& status);
    int group_set_container(host::Process& proc, int group_fd, int container_fd);
    int group_unset_container(host::Process& proc, int group_fd);
    int set_iommu(host::Process& proc, int container_fd, unsigned long type);
    int group_get_device_fd(host::Process& proc, int group_fd, std::string_view name);
    int device_get_info(host::Process& proc, int device_fd, VfioDeviceInfo& info);
    int device_get_irq_info(host::Process& proc, int device_fd, VfioIrqInfo& info);
    int device_set_irqs(host::Process& proc, int device_fd, const VfioIrqSet& set);

private:
    std::map<unsigned, std::unique_ptr<Group>> groups_;
    std::vector<std::unique_ptr<Device>> devices_;
};

/// Detaches a group from its container (GROUP_UNSET_CONTAINER's work, also
/// run by the group file's release).
void group_detach_container(Group& g);

// --- external-user API (kvm-vfio) ----------------------------------------------------
/// A new reference to the device of a VFIO device file; -EINVAL otherwise.
int device_get_from_file(host::File& file, DeviceRef& out);
/// A new reference to the group of a VFIO group file; -EINVAL otherwise.
int group_get_from_file(host::File& file, GroupRef& out);
inline void device_put(Device& d) { d.put(); }
inline void group_put(Group& g) { g.put(); }

} // namespace fwdsim::vfio
