// VFIO_DEVICE_SET_IRQS validation: each rule of linux-semantics.md §1 with
// its errno, and the device left exactly as it was after every error.
#include "vfio_fixture.h"

#include <cerrno>
#include <limits>

using namespace fwdsim;
using namespace fwdsim::vfio;
using namespace fwdsim::test;

TEST_CASE("SET_IRQS with argsz smaller than the header fails with EINVAL")
{
    VfioFixture f;
    auto s = VfioIrqSet::none(TRIGGER, 0, 0, 1);
    s.argsz = VfioIrqSet::kMinsz - 1;
    expect_error(f, f.pfd, s, -EINVAL);
}

TEST_CASE("SET_IRQS with a flag outside the DATA and ACTION masks fails with EINVAL")
{
    VfioFixture f;
    auto s = VfioIrqSet::none(TRIGGER, 0, 0, 1);
    s.flags |= 1u << 6;
    expect_error(f, f.pfd, s, -EINVAL);
}

TEST_CASE("SET_IRQS needs exactly one data type (EINVAL); zero or several actions are the bus's ENOTTY")
{
    VfioFixture f;
    auto two_data = VfioIrqSet::none(TRIGGER, 0, 0, 1);
    two_data.flags |= VFIO_IRQ_SET_DATA_BOOL;
    expect_error(f, f.pfd, two_data, -EINVAL);
    auto no_data = VfioIrqSet::none(TRIGGER, 0, 0, 1);
    no_data.flags = TRIGGER;
    expect_error(f, f.pfd, no_data, -EINVAL);
    // vfio_platform_set_irqs_ioctl dispatches on the action: none matches.
    auto no_action = VfioIrqSet::none(0, 0, 0, 1);
    expect_error(f, f.pfd, no_action, -ENOTTY);
    auto two_actions = VfioIrqSet::none(MASK | UNMASK, 0, 0, 1);
    expect_error(f, f.pfd, two_actions, -ENOTTY);
}

TEST_CASE("SET_IRQS on an index past the last one fails with EINVAL")
{
    VfioFixture f;
    expect_error(f, f.pfd, VfioIrqSet::none(TRIGGER, 2, 0, 1), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_NUM_IRQS, 0, 1), -EINVAL);
}

TEST_CASE("SET_IRQS with start + count overflowing or beyond the index's count fails with EINVAL")
{
    VfioFixture f;
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 4, std::numeric_limits<std::uint32_t>::max() - 2), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 6, 3), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 8, 0), -EINVAL);
    expect_error(f, f.pfd, VfioIrqSet::none(TRIGGER, 0, 1, 0), -EINVAL); // platform: start must be 0
    expect_error(f, f.pfd, VfioIrqSet::none(TRIGGER, 0, 0, 2), -EINVAL);
}

TEST_CASE("SET_IRQS with count 0 is valid only with DATA_NONE (EINVAL otherwise)")
{
    VfioFixture f;
    auto b = VfioIrqSet::bools(TRIGGER, 0, 0, {1});
    b.count = 0;
    expect_error(f, f.pfd, b, -EINVAL);
    auto e = VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()});
    e.count = 0;
    expect_error(f, f.pfd, e, -EINVAL);
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 0, 0, 0)) == 0);
}

TEST_CASE("SET_IRQS with argsz too small for count entries fails with EINVAL; missing data is EFAULT")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    auto e = VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {efd, efd});
    e.argsz -= 1;
    expect_error(f, f.qfd, e, -EINVAL);
    auto short_data = VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {efd, efd});
    short_data.data.resize(5);
    expect_error(f, f.qfd, short_data, -EFAULT);
    auto b = VfioIrqSet::bools(MASK, 0, 0, {1});
    b.argsz = VfioIrqSet::kMinsz;
    expect_error(f, f.pfd, b, -EINVAL);
}

TEST_CASE("SET_IRQS with an eventfd entry that is not open fails with EBADF")
{
    VfioFixture f;
    expect_error(f, f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {99}), -EBADF);
}

TEST_CASE("SET_IRQS with an eventfd entry that is not an eventfd fails with EINVAL")
{
    VfioFixture f;
    expect_error(f, f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.g1}), -EINVAL);
}

TEST_CASE("a bad fd late in an MSI-X eventfd array fails with EBADF and enables no vector")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    expect_error(f, f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {efd, efd, 99}), -EBADF);
    auto* p = dynamic_cast<pci::PciDevice*>(f.pci);
    CHECK(p->irq_mode() == pci::PciDevice::IrqMode::none);
}

TEST_CASE("MASK and UNMASK on an IRQ that is not maskable fail with EINVAL (vfio-platform edge)")
{
    VfioFixture f;
    expect_error(f, f.pfd, VfioIrqSet::none(MASK, 1, 0, 1), -EINVAL);
    expect_error(f, f.pfd, VfioIrqSet::none(UNMASK, 1, 0, 1), -EINVAL);
    expect_error(f, f.pfd, VfioIrqSet::none(MASK, 0, 0, 0), -EINVAL); // count must be 1
}

TEST_CASE("MASK and UNMASK on MSI and MSI-X fail with ENOTTY (vfio-pci exports no masking)")
{
    VfioFixture f;
    expect_error(f, f.qfd, VfioIrqSet::none(MASK, VFIO_PCI_MSI_IRQ_INDEX, 0, 1), -ENOTTY);
    expect_error(f, f.qfd, VfioIrqSet::none(UNMASK, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1), -ENOTTY);
    expect_error(f, f.qfd, VfioIrqSet::none(MASK, VFIO_PCI_ERR_IRQ_INDEX, 0, 1), -ENOTTY);
}

TEST_CASE("vfio-pci INTx MASK before INTx is enabled fails with EINVAL; MASK with an eventfd is ENOTTY")
{
    VfioFixture f;
    expect_error(f, f.qfd, VfioIrqSet::none(MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1), -EINVAL);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, {f.new_eventfd()})) == 0);
    expect_error(f, f.qfd, VfioIrqSet::eventfds(MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, {f.new_eventfd()}), -ENOTTY);
    CHECK(f.set_irqs(f.qfd, VfioIrqSet::none(MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1)) == 0);
}

TEST_CASE("vfio-pci: enabling MSI while INTx is on fails with EINVAL")
{
    VfioFixture f;
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, {f.new_eventfd()})) == 0);
    expect_error(f, f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, {f.new_eventfd()}), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0), -EINVAL);
}

TEST_CASE("vfio-pci: MSI-X cannot grow once enabled (NORESIZE), EINVAL")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {efd, efd})) == 0);
    expect_error(f, f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 2, {efd}), -EINVAL);
    CHECK(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 1, {-1})) == 0);
}

TEST_CASE("vfio-pci: a loopback trigger on an index that is not enabled fails with EINVAL")
{
    VfioFixture f;
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 1), -EINVAL);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 0), -EINVAL);
}

TEST_CASE("SET_IRQS of a host IRQ owned by another driver fails with EBUSY")
{
    VfioFixture f;
    int owner = 0;
    REQUIRE(f.irqs.request_irq(40, [](unsigned, void*) { return host::IrqReturn::handled; }, &owner) == 0);
    expect_error(f, f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()}), -EBUSY);
}
