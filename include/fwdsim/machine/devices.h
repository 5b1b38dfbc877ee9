// Wiring physical devices: the one place a device interrupt's wire into the
// GIC, its traffic source and its VFIO device are made, for every machine of
// this layer (Machine from a scenario, the vmm-script machine).
//
// A device interrupt is a dev::InterruptSource driving a dev::IrqLine into
// a GIC input -- an SPI for a platform or PCI device (INTx, or an MSI-X
// vector as GICv2m turns it into an SPI), the PPI of one CPU for the arch
// timer -- with the host IRQ layer told its trigger.  Its VFIO device is a
// vfio-platform device with one resource per listed interrupt, or a vfio-pci
// device with INTx and/or MSI-X vectors, as the DeviceConfig lists them.
#pragma once

#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/irq_line.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/machine/config.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/vfio/device.h>
#include <fwdsim/vfio/irq_context.h>

#include <memory>
#include <string>

namespace fwdsim::machine {

/// One device interrupt's physical side.
struct IrqWire {
    std::unique_ptr<dev::IrqLine> line;
    std::unique_ptr<dev::InterruptSource> source;
};

/// Wires interrupt `irq` of a device of kind `kind`: a PPI of CPU `ppi_cpu`
/// for the timer, else an SPI whose trigger the host IRQ layer is told.
IrqWire wire_irq(HostBoard& board, sim::EventQueue& events, DeviceKind kind, const DeviceIrqConfig& irq,
                 unsigned ppi_cpu, std::string name, std::unique_ptr<dev::Traffic> traffic, sim::Rng rng);

/// The MSI-X vectors device `d` lists (the highest subindex + 1).
unsigned msix_vectors(const DeviceConfig& d);

/// The VFIO device for `d` (not the timer: KVM's, not VFIO's).
std::unique_ptr<vfio::Device> make_vfio_device(const DeviceConfig& d, const vfio::IrqContextEnv& env);

} // namespace fwdsim::machine
