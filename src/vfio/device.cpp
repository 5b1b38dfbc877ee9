// Device: the VFIO core's half of the device ioctls
// (vfio_main.c: vfio_set_irqs_validate_and_prepare; the GET_INFO and
// GET_IRQ_INFO handlers of the bus drivers share their argsz/index checks).
#include <fwdsim/vfio/device.h>

#include <fwdsim/host/eventfd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

namespace fwdsim::vfio {

Device::Device(std::string name, std::uint32_t device_flags)
    : name_(std::move(name)), device_flags_(device_flags)
{
}

Device::~Device() = default;

int Device::get_info(VfioDeviceInfo& info) const
{
    if (info.argsz < VfioDeviceInfo::kMinsz) return -EINVAL;
    info.flags = device_flags_;
    info.num_regions = bus_num_regions();
    info.num_irqs = bus_num_irqs();
    return 0;
}

int Device::get_irq_info(VfioIrqInfo& info) const
{
    if (info.argsz < VfioIrqInfo::kMinsz) return -EINVAL;
    if (info.index >= bus_num_irqs()) return -EINVAL;
    IrqIndexInfo i = bus_irq_info(info.index);
    info.flags = i.flags;
    info.count = i.count;
    return 0;
}

int Device::set_irqs(host::Process& caller, const VfioIrqSet& set)
{
    constexpr std::uint32_t minsz = VfioIrqSet::kMinsz;
    if (set.argsz < minsz) return -EINVAL;
    if (set.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) return -EINVAL;
    const std::uint32_t data_type = set.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    const std::uint32_t action = set.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    // vfio_set_irqs_validate_and_prepare: exactly one data type; the
    // ACTION bits are the bus driver's dispatch (ENOTTY unless exactly one
    // of MASK, UNMASK, TRIGGER).
    if (std::popcount(data_type) != 1) return -EINVAL;
    if (set.index >= bus_num_irqs()) return -EINVAL;
    if (set.count >= std::numeric_limits<std::uint32_t>::max() - set.start) return -EINVAL;
    const IrqIndexInfo info = bus_irq_info(set.index);
    if (set.start >= info.count || set.start + set.count > info.count) return -EINVAL;
    // Count 0 means "all of this index" and only makes sense without data.
    if (set.count == 0 && data_type != VFIO_IRQ_SET_DATA_NONE) return -EINVAL;

    std::size_t size = 0;
    if (data_type == VFIO_IRQ_SET_DATA_BOOL) size = sizeof(std::uint8_t);
    if (data_type == VFIO_IRQ_SET_DATA_EVENTFD) size = sizeof(std::int32_t);
    const std::size_t data_bytes = size * set.count;
    if (size) {
        if (set.argsz - minsz < data_bytes) return -EINVAL;
        if (set.data.size() < data_bytes) return -EFAULT; // copy_from_user of data[]
    }

    IrqSetRequest req;
    req.index = set.index;
    req.start = set.start;
    req.count = set.count;
    req.action = action;
    req.data_type = data_type;
    if (data_type == VFIO_IRQ_SET_DATA_BOOL) req.bools.assign(set.data.begin(), set.data.begin() + static_cast<std::ptrdiff_t>(data_bytes));
    if (data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
        req.fds.resize(set.count);
        std::memcpy(req.fds.data(), set.data.data(), data_bytes);
    }

    if (int err = bus_check_set_irqs(req)) return err;

    // Every eventfd is looked up before anything changes, so a bad fd late
    // in the array leaves the device as it was.
    if (data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
        req.eventfds.resize(req.fds.size());
        for (std::size_t i = 0; i < req.fds.size(); ++i) {
            if (req.fds[i] < 0) continue; // -1: tear this one down
            if (int err = host::eventfd_ctx_fdget(caller, req.fds[i], req.eventfds[i])) return err;
        }
    }
    // vfio_virqfd_enable: once its fd is looked up, a mask or unmask
    // virqfd already armed is EBUSY (-1 disarms it instead).
    const bool virqfd = data_type == VFIO_IRQ_SET_DATA_EVENTFD &&
                        (action == VFIO_IRQ_SET_ACTION_MASK || action == VFIO_IRQ_SET_ACTION_UNMASK);
    if (virqfd && req.count == 1 && req.fds[0] >= 0) {
        const IrqContext* c = bus_irq_context(req.index, req.start);
        if (c != nullptr && (action == VFIO_IRQ_SET_ACTION_MASK ? c->has_mask_eventfd() : c->has_unmask_eventfd()))
            return -EBUSY;
    }
    bus_apply_set_irqs(req);
    return 0;
}

int Device::host_irq(unsigned index, unsigned subindex)
{
    IrqContext* c = bus_irq_context(index, subindex);
    return c ? static_cast<int>(c->host_irq()) : -EINVAL;
}

int Device::set_forwarded(unsigned index, unsigned subindex, ForwardedIrqConsumer& consumer, ForwardingPolicy policy)
{
    IrqContext* c = bus_irq_context(index, subindex);
    if (!c) return -EINVAL;
    return c->set_forwarded(consumer, policy);
}

void Device::clear_forwarded(unsigned index, unsigned subindex)
{
    if (IrqContext* c = bus_irq_context(index, subindex)) c->clear_forwarded();
}

bool Device::is_forwarded(unsigned index, unsigned subindex)
{
    IrqContext* c = bus_irq_context(index, subindex);
    return c && c->forwarded();
}

void Device::open_device()
{
    ++open_count_;
}

void Device::close_device()
{
    if (open_count_ == 0) return;
    if (--open_count_ == 0) bus_close();
}

} // namespace fwdsim::vfio
