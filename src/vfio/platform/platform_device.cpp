// PlatformDevice: vfio_platform_irq.c's SET_IRQS handlers
// (vfio_platform_set_irq_mask/unmask/trigger) and IRQ info.
#include <fwdsim/vfio/platform/platform_device.h>

#include <cerrno>

namespace fwdsim::vfio::platform {

PlatformDevice::PlatformDevice(std::string name, const IrqContextEnv& env,
                               const std::vector<PlatformIrq>& irqs, unsigned num_regions)
    : Device(name, VFIO_DEVICE_FLAGS_PLATFORM), num_regions_(num_regions)
{
    for (std::size_t i = 0; i < irqs.size(); ++i) {
        irqs_.push_back(std::make_unique<IrqContext>(env, irqs[i].host_irq, irqs[i].level,
                                                     "vfio-platform:" + name + ":" + std::to_string(i)));
        // The resource's trigger type programs the host IRQ (platform_get_irq
        // with the device tree's flags).
        env.irqs.irq_set_irq_type(irqs[i].host_irq, irqs[i].level ? host::IrqTrigger::level : host::IrqTrigger::edge);
    }
}

PlatformDevice::~PlatformDevice() = default;

std::vector<IrqContext*> PlatformDevice::irq_contexts()
{
    std::vector<IrqContext*> v;
    for (auto& c : irqs_) v.push_back(c.get());
    return v;
}

unsigned PlatformDevice::bus_num_irqs() const { return static_cast<unsigned>(irqs_.size()); }

IrqIndexInfo PlatformDevice::bus_irq_info(unsigned index) const
{
    const IrqContext& c = *irqs_.at(index);
    IrqIndexInfo i;
    i.count = 1;
    i.flags = VFIO_IRQ_INFO_EVENTFD;
    if (c.automasked()) i.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    return i;
}

IrqContext* PlatformDevice::bus_irq_context(unsigned index, unsigned subindex)
{
    if (index >= irqs_.size() || subindex != 0) return nullptr;
    return irqs_[index].get();
}

int PlatformDevice::bus_check_set_irqs(const IrqSetRequest& req)
{
    IrqContext& c = *irqs_[req.index];
    const bool eventfd = req.data_type == VFIO_IRQ_SET_DATA_EVENTFD;
    switch (req.action) {
    case VFIO_IRQ_SET_ACTION_MASK:
    case VFIO_IRQ_SET_ACTION_UNMASK:
        if (req.start != 0 || req.count != 1) return -EINVAL;
        if (!(bus_irq_info(req.index).flags & VFIO_IRQ_INFO_MASKABLE)) return -EINVAL;
        return 0;
    case VFIO_IRQ_SET_ACTION_TRIGGER:
        if (req.count == 0) return 0; // DATA_NONE, count 0: disable
        if (req.start != 0 || req.count != 1) return -EINVAL;
        if (eventfd) return req.fds[0] >= 0 ? c.can_set_trigger() : 0;
        // A loopback trigger on a forwarded IRQ would inject an interrupt the
        // physical GIC never raised.
        if (c.forwarded()) return -EBUSY;
        return 0;
    default: return -ENOTTY; // vfio_platform_set_irqs_ioctl: no handler for this action
    }
}

void PlatformDevice::bus_apply_set_irqs(IrqSetRequest& req)
{
    IrqContext& c = *irqs_[req.index];
    const bool flag = req.data_type == VFIO_IRQ_SET_DATA_NONE ||
                      (req.data_type == VFIO_IRQ_SET_DATA_BOOL && req.bools[0]);
    switch (req.action) {
    case VFIO_IRQ_SET_ACTION_MASK:
        if (req.data_type == VFIO_IRQ_SET_DATA_EVENTFD) c.set_mask_eventfd(std::move(req.eventfds[0]));
        else if (flag) c.mask();
        break;
    case VFIO_IRQ_SET_ACTION_UNMASK:
        if (req.data_type == VFIO_IRQ_SET_DATA_EVENTFD) c.set_unmask_eventfd(std::move(req.eventfds[0]));
        else if (flag) c.unmask();
        break;
    case VFIO_IRQ_SET_ACTION_TRIGGER:
        if (req.count == 0) c.set_trigger({});
        else if (req.data_type == VFIO_IRQ_SET_DATA_EVENTFD) c.set_trigger(std::move(req.eventfds[0]));
        else if (flag) c.fire();
        break;
    default: break;
    }
}

void PlatformDevice::bus_close()
{
    for (auto& c : irqs_) c->release();
}

} // namespace fwdsim::vfio::platform
