#include <fwdsim/dev/platform_device.h>

#include <stdexcept>

namespace fwdsim::dev {

PlatformDevice::PlatformDevice(std::string name, std::vector<IrqResource> resources)
    : name_(std::move(name)), resources_(std::move(resources)), sources_(resources_.size())
{
}

InterruptSource& PlatformDevice::attach(unsigned index, std::unique_ptr<InterruptSource> source)
{
    if (index >= resources_.size()) {
        throw std::out_of_range("PlatformDevice::attach: " + name_ + " has no IRQ resource " + std::to_string(index));
    }
    if (source->trigger() != resources_[index].trigger) {
        throw std::invalid_argument("PlatformDevice::attach: trigger of " + source->name() +
                                    " does not match resource " + std::to_string(index) + " of " + name_);
    }
    sources_[index] = std::move(source);
    return *sources_[index];
}

} // namespace fwdsim::dev
