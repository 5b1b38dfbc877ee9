// ForwardedIrqConsumer: the upward interface through which a VFIO bus
// driver's IRQ handler, in forwarded mode, hands a physical interrupt to
// whoever forwards it to a guest (kvm-vfio, which injects it into the vgic
// as a mapped interrupt).
//
// Contract: inject(host_irq) is called from hard-IRQ context on the CPU
// that took the interrupt, in the same instant as the handler runs, once per
// interrupt acknowledged while the IRQ is forwarded.  The physical IRQ is
// then active in the GIC (the host has dropped its priority, and -- because
// the forwarder set a vCPU affinity on the host IRQ -- will not deactivate
// it); the consumer owns that active state until the guest's EOI through a
// HW list register deactivates it, or it hands it back on unforward.  Once
// Device::clear_forwarded() has returned, inject() is never called again
// for that IRQ, so the consumer may be destroyed.
#pragma once

namespace fwdsim::vfio {

class ForwardedIrqConsumer {
public:
    virtual void inject(unsigned host_irq) = 0;

protected:
    ~ForwardedIrqConsumer() = default;
};

} // namespace fwdsim::vfio
