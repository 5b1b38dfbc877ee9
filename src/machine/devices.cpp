// Wiring physical devices.  See include/fwdsim/machine/devices.h.
#include <fwdsim/machine/devices.h>

#include <fwdsim/host/irq_layer.h>
#include <fwdsim/machine/gic_lines.h>
#include <fwdsim/vfio/pci/pci_device.h>
#include <fwdsim/vfio/platform/platform_device.h>

#include <algorithm>

namespace fwdsim::machine {

IrqWire wire_irq(HostBoard& board, sim::EventQueue& events, DeviceKind kind, const DeviceIrqConfig& irq,
                 unsigned ppi_cpu, std::string name, std::unique_ptr<dev::Traffic> traffic, sim::Rng rng)
{
    const bool level = irq.trigger == TriggerKind::level;
    IrqWire w;
    if (kind == DeviceKind::timer) {
        w.line = std::make_unique<GicPpiLine>(*board.gic, ppi_cpu, irq.host_irq);
    } else {
        (void)board.irqs->irq_set_irq_type(irq.host_irq, level ? host::IrqTrigger::level : host::IrqTrigger::edge);
        w.line = std::make_unique<GicSpiLine>(*board.gic, irq.host_irq);
    }
    w.source = std::make_unique<dev::InterruptSource>(events, std::move(name), level ? dev::Trigger::level : dev::Trigger::edge,
                                                      *w.line, std::move(traffic), std::move(rng));
    return w;
}

unsigned msix_vectors(const DeviceConfig& d)
{
    unsigned n = 0;
    for (const DeviceIrqConfig& ic : d.irqs) {
        if (ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX) n = std::max(n, ic.subindex + 1);
    }
    return n;
}

std::unique_ptr<vfio::Device> make_vfio_device(const DeviceConfig& d, const vfio::IrqContextEnv& env)
{
    if (d.kind == DeviceKind::platform) {
        std::vector<vfio::platform::PlatformIrq> irqs;
        for (const DeviceIrqConfig& ic : d.irqs) irqs.push_back({ic.host_irq, ic.trigger == TriggerKind::level});
        return std::make_unique<vfio::platform::PlatformDevice>(d.name, env, irqs);
    }
    vfio::pci::PciConfig pci;
    pci.has_intx = false;
    pci.msix_irqs.assign(msix_vectors(d), 0);
    for (const DeviceIrqConfig& ic : d.irqs) {
        if (ic.index == vfio::VFIO_PCI_INTX_IRQ_INDEX) {
            pci.has_intx = true;
            pci.intx_irq = ic.host_irq;
        } else {
            pci.msix_irqs[ic.subindex] = ic.host_irq;
        }
    }
    return std::make_unique<vfio::pci::PciDevice>(d.name, env, pci);
}

} // namespace fwdsim::machine
