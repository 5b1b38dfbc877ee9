// PlatformDevice: a memory-mapped device with fixed interrupt resources.
//
// The physical device a vfio-platform driver passes through: a name and an
// ordered list of IRQ resources (VFIO IRQ index i is resource i), each an
// InterruptSource that is level- or edge-triggered and wired to a GIC SPI.
// The guest's driver reaches the device's registers directly (the MMIO
// region is mapped into the guest), which is why service() is called by the
// guest model with no exit.
#pragma once

#include <fwdsim/dev/interrupt_source.h>

#include <memory>
#include <string>
#include <vector>

namespace fwdsim::dev {

struct IrqResource {
    unsigned spi = 0;            ///< the GIC INTID the line is wired to
    Trigger trigger = Trigger::level;
};

class PlatformDevice {
public:
    PlatformDevice(std::string name, std::vector<IrqResource> resources);

    const std::string& name() const { return name_; }
    const std::vector<IrqResource>& resources() const { return resources_; }

    /// Attaches the source that drives resource `index` (owned by the device).
    InterruptSource& attach(unsigned index, std::unique_ptr<InterruptSource> source);
    InterruptSource& irq(unsigned index) { return *sources_.at(index); }
    const InterruptSource& irq(unsigned index) const { return *sources_.at(index); }
    bool attached(unsigned index) const { return index < sources_.size() && sources_[index] != nullptr; }

private:
    std::string name_;
    std::vector<IrqResource> resources_;
    std::vector<std::unique_ptr<InterruptSource>> sources_;
};

} // namespace fwdsim::dev
