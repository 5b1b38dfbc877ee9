// PlatformDevice: the vfio-platform bus driver for one platform device
// (drivers/vfio/platform/vfio_platform_common.c, vfio_platform_irq.c).
//
// Each IRQ resource of the device is one IRQ index with count 1, backed by
// one host IRQ: level IRQs report EVENTFD | MASKABLE | AUTOMASKED, edge IRQs
// EVENTFD.  SET_IRQS rules of its own: start must be 0 and count 1 (or 0
// with DATA_NONE to disable the trigger); MASK/UNMASK only on a maskable
// index; MASK with DATA_EVENTFD is not supported (-EINVAL, as Linux); UNMASK
// with DATA_EVENTFD registers (fd) or removes (-1) the unmask eventfd
// (virqfd); a TRIGGER eventfd on a forwarded IRQ -> -EBUSY.  The device
// reports VFIO_DEVICE_FLAGS_PLATFORM.  (index, 0) is the only subindex.
#pragma once

#include <fwdsim/vfio/device.h>
#include <fwdsim/vfio/irq_context.h>

#include <memory>
#include <string>
#include <vector>

namespace fwdsim::vfio::platform {

struct PlatformIrq {
    unsigned host_irq = 0;
    bool level = true;
};

class PlatformDevice final : public Device {
public:
    PlatformDevice(std::string name, const IrqContextEnv& env, const std::vector<PlatformIrq>& irqs,
                   unsigned num_regions = 1);
    ~PlatformDevice() override;

    std::vector<IrqContext*> irq_contexts() override;

protected:
    unsigned bus_num_irqs() const override;
    IrqIndexInfo bus_irq_info(unsigned index) const override;
    int bus_check_set_irqs(const IrqSetRequest& req) override;
    void bus_apply_set_irqs(IrqSetRequest& req) override;
    IrqContext* bus_irq_context(unsigned index, unsigned subindex) override;
    void bus_close() override;
    unsigned bus_num_regions() const override { return num_regions_; }

private:
    std::vector<std::unique_ptr<IrqContext>> irqs_;
    unsigned num_regions_;
};

} // namespace fwdsim::vfio::platform
