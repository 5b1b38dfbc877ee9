// Device: a device bound to VFIO (struct vfio_device), with the core's
// share of its ioctls and the bus-driver operations beneath them.
//
// The core (this class) owns reference counting, DEVICE_GET_INFO,
// DEVICE_GET_IRQ_INFO, and the generic half of DEVICE_SET_IRQS
// (vfio_set_irqs_validate_and_prepare: argsz, flags, index, start/count
// range, data size) plus resolving eventfd entries in the caller's process.
// A bus driver (vfio::platform::PlatformDevice, vfio::pci::PciDevice)
// subclasses it: it reports its IRQ indexes, checks the rules that are its
// own (maskability, start/count per index, interrupt-mode conflicts), applies
// a validated request, and is the only code that maps (index, subindex) to
// an IrqContext and so to a host IRQ.  Every error leaves the device
// unchanged: all checks and all fd lookups happen before any change.
//
// External users (kvm-vfio): host_irq(), set_forwarded(), clear_forwarded()
// act on one (index, subindex); get()/put() count references -- one is held
// by the VFIO core for the device's binding, one by each open device file,
// one by each external user.
#pragma once

#include <fwdsim/host/process.h>
#include <fwdsim/host/ref.h>
#include <fwdsim/vfio/forwarded_irq_consumer.h>
#include <fwdsim/vfio/irq_context.h>
#include <fwdsim/vfio/uapi.h>

#include <cassert>
#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::vfio {

class Group;

/// One IRQ index as GET_IRQ_INFO reports it.
struct IrqIndexInfo {
    std::uint32_t flags = 0;
    std::uint32_t count = 0;
};

/// A SET_IRQS request after the core's validation: data decoded, eventfd
/// entries resolved (null = -1, tear down).
struct IrqSetRequest {
    std::uint32_t index = 0;
    std::uint32_t start = 0;
    std::uint32_t count = 0;
    std::uint32_t action = 0;    ///< one VFIO_IRQ_SET_ACTION_*
    std::uint32_t data_type = 0; ///< one VFIO_IRQ_SET_DATA_*
    std::vector<std::uint8_t> bools;
    std::vector<std::int32_t> fds;
    std::vector<host::EventfdCtxRef> eventfds;
};

class Device {
public:
    Device(std::string name, std::uint32_t device_flags);
    virtual ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const std::string& name() const { return name_; }
    Group* group() const { return group_; }

    void get() { ++refcount_; }
    void put()
    {
        assert(refcount_ > 0);
        --refcount_;
    }
    unsigned refcount() const { return refcount_; }
    /// Open device files (vfio_device open_count).
    unsigned open_count() const { return open_count_; }

    // --- ioctls ------------------------------------------------------------------
    int get_info(VfioDeviceInfo& info) const;
    int get_irq_info(VfioIrqInfo& info) const;
    /// VFIO_DEVICE_SET_IRQS; eventfd entries are fds of `caller`.
    int set_irqs(host::Process& caller, const VfioIrqSet& set);

    // --- for kvm-vfio (external user) --------------------------------------------
    /// The host IRQ behind (index, subindex), or -EINVAL.
    int host_irq(unsigned index, unsigned subindex);
    /// -EINVAL: no such IRQ or already forwarded; -EBUSY: VFIO signalling
    /// set (exclusive policy only).
    int set_forwarded(unsigned index, unsigned subindex, ForwardedIrqConsumer& consumer,
                      ForwardingPolicy policy = ForwardingPolicy::exclusive);
    /// Cannot fail; a no-op for an IRQ that is not forwarded.
    void clear_forwarded(unsigned index, unsigned subindex);
    bool is_forwarded(unsigned index, unsigned subindex);

    /// The context behind (index, subindex), or null (tests, invariants).
    IrqContext* irq_context(unsigned index, unsigned subindex) { return bus_irq_context(index, subindex); }
    /// Every context with a host IRQ, for invariant checks.
    virtual std::vector<IrqContext*> irq_contexts() = 0;

    // --- called by the core's files ------------------------------------------------
    void open_device();
    void close_device();
    void set_group(Group* g) { group_ = g; }

protected:
    /// Number of IRQ indexes (vfio_device_info.num_irqs).
    virtual unsigned bus_num_irqs() const = 0;
    virtual IrqIndexInfo bus_irq_info(unsigned index) const = 0;
    /// The driver's own rules for a request the core validated; 0 or -errno.
    /// Must not change state.
    virtual int bus_check_set_irqs(const IrqSetRequest& req) = 0;
    /// Applies a checked request; cannot fail.
    virtual void bus_apply_set_irqs(IrqSetRequest& req) = 0;
    virtual IrqContext* bus_irq_context(unsigned index, unsigned subindex) = 0;
    /// Last device file closed: tear down all VFIO signalling.
    virtual void bus_close() = 0;
    virtual unsigned bus_num_regions() const { return 0; }

private:
    std::string name_;
    std::uint32_t device_flags_;
    Group* group_ = nullptr;
    unsigned refcount_ = 1; ///< the core's binding reference
    unsigned open_count_ = 0;
};

using DeviceRef = host::Ref<Device>;

} // namespace fwdsim::vfio
