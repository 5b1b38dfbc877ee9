// vfio-pci interrupt modes: INTx, MSI, MSI-X, ERR and REQ (vfio_pci_intrs.c).
#include "vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::vfio;
using namespace fwdsim::test;

namespace {
pci::PciDevice& as_pci(Device* d) { return *dynamic_cast<pci::PciDevice*>(d); }
} // namespace

TEST_CASE("INTx is an automasked level interrupt, unmasked by UNMASK")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, {efd})) == 0);
    CHECK(as_pci(f.pci).irq_mode() == pci::PciDevice::IrqMode::intx);
    f.chip.set_line(42, true);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 1);
    CHECK(f.irqs.depth(42) == 1);
    f.chip.set_line(42, false);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1)) == 0);
    CHECK(f.irqs.depth(42) == 0);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 0)) == 0);
    CHECK(as_pci(f.pci).irq_mode() == pci::PciDevice::IrqMode::none);
    CHECK(f.irqs.released_state_violations(42).empty());
}

TEST_CASE("MSI-X: each vector has its own host IRQ and signals its own eventfd")
{
    VfioFixture f;
    const int a = f.new_eventfd(), b = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {a, -1, b})) == 0);
    auto& p = as_pci(f.pci);
    CHECK(p.irq_mode() == pci::PciDevice::IrqMode::msix);
    CHECK(p.enabled_vectors() == 3);
    CHECK(f.pci->host_irq(VFIO_PCI_MSIX_IRQ_INDEX, 2) == 50);
    CHECK(f.pci->host_irq(VFIO_PCI_MSIX_IRQ_INDEX, 8) == -EINVAL);
    CHECK(f.pci->host_irq(VFIO_PCI_ERR_IRQ_INDEX, 0) == -EINVAL);
    f.chip.pulse(48);
    f.chip.pulse(50);
    f.chip.pulse(50);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(a).count() == 1);
    CHECK(f.ctx_of(b).count() == 1); // two edges before the handler ran: one latch, one signal
    CHECK_FALSE(f.pci->irq_context(VFIO_PCI_MSIX_IRQ_INDEX, 1)->requested());
    // Loopback on vector 0 and 2 (vector 1 has no trigger).
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3)) == 0);
    CHECK(f.ctx_of(a).count() == 2);
    CHECK(f.ctx_of(b).count() == 2);
    // Count 0 with DATA_NONE turns MSI-X off and frees every vector.
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0)) == 0);
    CHECK(p.irq_mode() == pci::PciDevice::IrqMode::none);
    for (unsigned irq = 48; irq < 56; ++irq) CHECK(f.irqs.released_state_violations(irq).empty());
}

TEST_CASE("MSI: enabling vectors and tearing one down with -1")
{
    VfioFixture f;
    const int a = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, {a, a})) == 0);
    CHECK(f.pci->irq_context(VFIO_PCI_MSI_IRQ_INDEX, 1)->requested());
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 1, {-1})) == 0);
    CHECK_FALSE(f.pci->irq_context(VFIO_PCI_MSI_IRQ_INDEX, 1)->requested());
    CHECK(f.pci->irq_context(VFIO_PCI_MSI_IRQ_INDEX, 0)->requested());
}

TEST_CASE("ERR and REQ eventfds are signalled by the driver and by a loopback trigger")
{
    VfioFixture f;
    auto& p = as_pci(f.pci);
    CHECK_FALSE(p.signal_error());
    const int e = f.new_eventfd(), r = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, {e})) == 0);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, {r})) == 0);
    CHECK(p.signal_error());
    CHECK(p.signal_request());
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, 1)) == 0);
    CHECK(f.ctx_of(e).count() == 2);
    CHECK(f.ctx_of(r).count() == 1);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, 0)) == 0);
    CHECK(p.err_trigger() == nullptr);
}

TEST_CASE("closing the pci device file turns interrupts off and frees their host IRQs")
{
    VfioFixture f;
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.vmm.close(f.qfd) == 0);
    CHECK(as_pci(f.pci).irq_mode() == pci::PciDevice::IrqMode::none);
    CHECK(f.irqs.released_state_violations(48).empty());
}
