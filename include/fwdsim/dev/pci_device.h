// PciDevice: a PCI function with legacy INTx and MSI-X vectors.
//
// INTx is a level line, shared-wire semantics, serviced by the driver; each
// MSI-X vector is an edge (a message write) with its own mask bit, and a
// masked vector keeps one message pending (the PBA bit) until unmasked.  On
// an ARM host with a GICv2 an MSI reaches the GIC through a frame such as
// GICv2m as an edge SPI, so every vector is wired to one SPI.  Until MSI-X
// is enabled every vector behaves as masked.
#pragma once

#include <fwdsim/dev/interrupt_source.h>

#include <memory>
#include <string>
#include <vector>

namespace fwdsim::dev {

class PciDevice {
public:
    PciDevice(std::string name, std::unique_ptr<InterruptSource> intx,
              std::vector<std::unique_ptr<InterruptSource>> msix_vectors);

    const std::string& name() const { return name_; }
    InterruptSource& intx() { return *intx_; }
    unsigned msix_count() const { return static_cast<unsigned>(msix_.size()); }
    InterruptSource& msix(unsigned vector) { return *msix_.at(vector); }

    /// MSI-X Enable in the capability's control register.
    void set_msix_enabled(bool enabled);
    bool msix_enabled() const { return msix_enabled_; }

private:
    std::string name_;
    std::unique_ptr<InterruptSource> intx_;
    std::vector<std::unique_ptr<InterruptSource>> msix_;
    bool msix_enabled_ = false;
};

} // namespace fwdsim::dev
