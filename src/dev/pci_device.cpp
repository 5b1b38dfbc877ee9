#include <fwdsim/dev/pci_device.h>

#include <stdexcept>

namespace fwdsim::dev {

PciDevice::PciDevice(std::string name, std::unique_ptr<InterruptSource> intx,
                     std::vector<std::unique_ptr<InterruptSource>> msix_vectors)
    : name_(std::move(name)), intx_(std::move(intx)), msix_(std::move(msix_vectors))
{
    if (!intx_ || intx_->trigger() != Trigger::level) {
        throw std::invalid_argument("PciDevice " + name_ + ": INTx must be a level source");
    }
    for (const auto& v : msix_) {
        if (!v || v->trigger() != Trigger::edge) {
            throw std::invalid_argument("PciDevice " + name_ + ": MSI-X vectors must be edge sources");
        }
    }
    // Vectors start masked until the driver enables MSI-X, as after reset.
    for (auto& v : msix_) {
        v->set_masked(true);
    }
}

void PciDevice::set_msix_enabled(bool enabled)
{
    msix_enabled_ = enabled;
    // The Enable bit gates every vector at once, like the Function Mask.
    for (auto& v : msix_) {
        v->set_masked(!enabled);
    }
}

} // namespace fwdsim::dev
