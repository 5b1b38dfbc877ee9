// Vfio: containers, groups and the files that stand for them
// (drivers/vfio/vfio_main.c, group.c, container.c), and the external-user
// API kvm-vfio uses.
#include <fwdsim/vfio/vfio.h>

#include <algorithm>
#include <cerrno>

namespace fwdsim::vfio {

Device* Group::find_device(std::string_view name) const
{
    for (Device* d : devices_)
        if (d->name() == name) return d;
    return nullptr;
}

void group_detach_container(Group& g)
{
    ContainerFile* c = g.container();
    if (!c) return;
    auto& groups = c->groups();
    groups.erase(std::remove(groups.begin(), groups.end(), &g), groups.end());
    // The IOMMU model goes with the container's last group
    // (__vfio_container_detach_group -> iommu driver release).
    if (groups.empty()) c->set_iommu_type(0);
    g.container_.reset();
}

GroupFile::GroupFile(Group& g) : group_(GroupRef::acquire(&g))
{
    g.opened_ = true;
}

void GroupFile::release()
{
    // Device files hold this file, so no device of the group is open here.
    group_detach_container(*group_);
    group_->opened_ = false;
    group_.reset();
}

DeviceFile::DeviceFile(Device& d, host::FileRef group_file)
    : device_(DeviceRef::acquire(&d)), group_file_(std::move(group_file))
{
    d.open_device();
}

void DeviceFile::release()
{
    device_->close_device();
    device_.reset();
    group_file_.reset();
}

Vfio::~Vfio() = default;

Group& Vfio::add_group(unsigned id)
{
    auto& g = groups_[id];
    if (!g) g = std::make_unique<Group>(id);
    return *g;
}

Device& Vfio::add_device(unsigned group_id, std::unique_ptr<Device> device)
{
    Group& g = add_group(group_id);
    Device& d = *device;
    d.set_group(&g);
    g.devices_.push_back(&d);
    devices_.push_back(std::move(device));
    return d;
}

void Vfio::add_foreign_device(unsigned group_id) { ++add_group(group_id).foreign_devices_; }

Group* Vfio::group(unsigned id)
{
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second.get();
}

Device* Vfio::device(std::string_view name)
{
    for (auto& d : devices_)
        if (d->name() == name) return d.get();
    return nullptr;
}

std::vector<Device*> Vfio::devices() const
{
    std::vector<Device*> v;
    for (auto& d : devices_) v.push_back(d.get());
    return v;
}

std::vector<Group*> Vfio::groups() const
{
    std::vector<Group*> v;
    for (auto& [id, g] : groups_) v.push_back(g.get());
    return v;
}

std::vector<std::string> Vfio::released_state_violations() const
{
    std::vector<std::string> v;
    for (auto& d : devices_) {
        if (d->refcount() != 1)
            v.push_back("device " + d->name() + " holds " + std::to_string(d->refcount() - 1) + " extra reference(s)");
        if (d->open_count()) v.push_back("device " + d->name() + " is still open");
        for (IrqContext* c : d->irq_contexts())
            for (auto& s : c->released_state_violations()) v.push_back("device " + d->name() + ": " + s);
    }
    for (auto& [id, g] : groups_) {
        const std::string name = "group " + std::to_string(id);
        if (g->refcount() != 1) v.push_back(name + " holds " + std::to_string(g->refcount() - 1) + " extra reference(s)");
        if (g->opened()) v.push_back(name + " is still open");
        if (g->container()) v.push_back(name + " is still in a container");
    }
    return v;
}

namespace {
/// fdget + "is this file one of ours": -EBADF, or -ENOTTY when the ioctl
/// reaches a file that does not implement it.
template <class T>
int file_of(host::Process& proc, int fd, host::FileRef& ref, T*& out)
{
    if (int err = proc.fget(fd, ref)) return err;
    out = host::file_cast<T>(ref.get());
    return out ? 0 : -ENOTTY;
}

bool iommu_supported(unsigned long type) { return type == VFIO_TYPE1_IOMMU || type == VFIO_TYPE1v2_IOMMU; }
} // namespace

int Vfio::open_container(host::Process& proc)
{
    return proc.install(host::make_file<ContainerFile>());
}

int Vfio::open_group(host::Process& proc, unsigned group_id)
{
    Group* g = group(group_id);
    if (!g) return -ENOENT; // no /dev/vfio/N
    if (g->opened()) return -EBUSY;
    return proc.install(host::make_file<GroupFile>(*g));
}

int Vfio::get_api_version(host::Process& proc, int container_fd)
{
    host::FileRef ref;
    ContainerFile* c = nullptr;
    if (int err = file_of(proc, container_fd, ref, c)) return err;
    return VFIO_API_VERSION;
}

int Vfio::check_extension(host::Process& proc, int container_fd, unsigned long ext)
{
    host::FileRef ref;
    ContainerFile* c = nullptr;
    if (int err = file_of(proc, container_fd, ref, c)) return err;
    // vfio_container_ioctl_check_extension -> type1's: TYPE1, TYPE1v2 and
    // VFIO_UNMAP_ALL are 1 with or without an IOMMU set.
    return iommu_supported(ext) || ext == VFIO_UNMAP_ALL ? 1 : 0;
}

int Vfio::group_get_status(host::Process& proc, int group_fd, VfioGroupStatus& status)
{
    host::FileRef ref;
    GroupFile* gf = nullptr;
    if (int err = file_of(proc, group_fd, ref, gf)) return err;
    if (status.argsz < 8) return -EINVAL;
    Group& g = gf->group();
    status.flags = (g.viable() ? VFIO_GROUP_FLAGS_VIABLE : 0) | (g.container() ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
    return 0;
}

int Vfio::group_set_container(host::Process& proc, int group_fd, int container_fd)
{
    host::FileRef gref;
    GroupFile* gf = nullptr;
    if (int err = file_of(proc, group_fd, gref, gf)) return err;
    // vfio_group_ioctl_set_container: fdget, a container already set, then
    // the fd's kind: a container attaches (vfio_container_attach_group:
    // EPERM when DMA is owned elsewhere), anything else is EBADFD.
    host::FileRef cref;
    if (int err = proc.fget(container_fd, cref)) return err;
    Group& g = gf->group();
    if (g.container()) return -EINVAL;
    auto* cf = host::file_cast<ContainerFile>(cref.get());
    if (!cf) return -EBADFD;
    if (!g.viable()) return -EPERM;
    g.container_ = host::Ref<ContainerFile>::acquire(cf);
    cf->groups().push_back(&g);
    return 0;
}

int Vfio::group_unset_container(host::Process& proc, int group_fd)
{
    host::FileRef gref;
    GroupFile* gf = nullptr;
    if (int err = file_of(proc, group_fd, gref, gf)) return err;
    Group& g = gf->group();
    if (!g.container()) return -EINVAL;
    // Devices still open keep the group in use (vfio_group_unset_container).
    for (Device* d : g.devices())
        if (d->open_count()) return -EBUSY;
    group_detach_container(g);
    return 0;
}

int Vfio::set_iommu(host::Process& proc, int container_fd, unsigned long type)
{
    host::FileRef ref;
    ContainerFile* c = nullptr;
    if (int err = file_of(proc, container_fd, ref, c)) return err;
    if (c->groups().empty() || c->iommu_type() != 0) return -EINVAL;
    // vfio_ioctl_set_iommu: a driver whose check_extension says yes is
    // opened; type1's open refuses a type other than TYPE1/TYPE1v2 (EINVAL);
    // none saying yes leaves ENODEV.
    if (type == VFIO_UNMAP_ALL) return -EINVAL;
    if (!iommu_supported(type)) return -ENODEV;
    c->set_iommu_type(static_cast<unsigned>(type));
    return 0;
}

int Vfio::group_get_device_fd(host::Process& proc, int group_fd, std::string_view name)
{
    host::FileRef gref;
    GroupFile* gf = nullptr;
    if (int err = file_of(proc, group_fd, gref, gf)) return err;
    // vfio_group_ioctl_get_device_fd: the name first (ENODEV), then
    // vfio_df_group_open wants a container with an IOMMU (EINVAL).
    Group& g = gf->group();
    Device* d = g.find_device(name);
    if (!d) return -ENODEV;
    if (!g.container() || g.container()->iommu_type() == 0) return -EINVAL;
    return proc.install(host::make_file<DeviceFile>(*d, gref));
}

int Vfio::device_get_info(host::Process& proc, int device_fd, VfioDeviceInfo& info)
{
    host::FileRef ref;
    DeviceFile* df = nullptr;
    if (int err = file_of(proc, device_fd, ref, df)) return err;
    return df->device().get_info(info);
}

int Vfio::device_get_irq_info(host::Process& proc, int device_fd, VfioIrqInfo& info)
{
    host::FileRef ref;
    DeviceFile* df = nullptr;
    if (int err = file_of(proc, device_fd, ref, df)) return err;
    return df->device().get_irq_info(info);
}

int Vfio::device_set_irqs(host::Process& proc, int device_fd, const VfioIrqSet& set)
{
    host::FileRef ref;
    DeviceFile* df = nullptr;
    if (int err = file_of(proc, device_fd, ref, df)) return err;
    return df->device().set_irqs(proc, set);
}

int device_get_from_file(host::File& file, DeviceRef& out)
{
    auto* df = host::file_cast<DeviceFile>(&file);
    if (!df) return -EINVAL;
    out = DeviceRef::acquire(&df->device());
    return 0;
}

int group_get_from_file(host::File& file, GroupRef& out)
{
    auto* gf = host::file_cast<GroupFile>(&file);
    if (!gf) return -EINVAL;
    out = GroupRef::acquire(&gf->group());
    return 0;
}

} // namespace fwdsim::vfio
