// VFIO_DEVICE_GET_IRQ_INFO as each bus driver reports it (linux-semantics.md §1).
#include "vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::vfio;
using fwdsim::test::VfioFixture;

namespace {
VfioIrqInfo info_of(VfioFixture& f, int fd, std::uint32_t index, int& err)
{
    VfioIrqInfo i;
    i.index = index;
    err = f.vfio.device_get_irq_info(f.vmm, fd, i);
    return i;
}
} // namespace

TEST_CASE("vfio-platform: a level IRQ is EVENTFD|MASKABLE|AUTOMASKED, an edge IRQ is EVENTFD, count 1")
{
    VfioFixture f;
    int err = 0;
    auto level = info_of(f, f.pfd, 0, err);
    REQUIRE(err == 0);
    CHECK(level.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED));
    CHECK(level.count == 1);
    auto edge = info_of(f, f.pfd, 1, err);
    REQUIRE(err == 0);
    CHECK(edge.flags == VFIO_IRQ_INFO_EVENTFD);
    CHECK(edge.count == 1);
}

TEST_CASE("vfio-pci: INTx, MSI, MSI-X, ERR and REQ report Linux's flags and counts")
{
    VfioFixture f;
    int err = 0;
    auto intx = info_of(f, f.qfd, VFIO_PCI_INTX_IRQ_INDEX, err);
    CHECK(intx.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED));
    CHECK(intx.count == 1);
    auto msi = info_of(f, f.qfd, VFIO_PCI_MSI_IRQ_INDEX, err);
    CHECK(msi.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE));
    CHECK(msi.count == 2);
    auto msix = info_of(f, f.qfd, VFIO_PCI_MSIX_IRQ_INDEX, err);
    CHECK(msix.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE));
    CHECK(msix.count == 8);
    auto er = info_of(f, f.qfd, VFIO_PCI_ERR_IRQ_INDEX, err);
    CHECK(er.flags == VFIO_IRQ_INFO_EVENTFD);
    CHECK(er.count == 1);
    auto req = info_of(f, f.qfd, VFIO_PCI_REQ_IRQ_INDEX, err);
    CHECK(req.flags == VFIO_IRQ_INFO_EVENTFD);
    CHECK(req.count == 1);
}

TEST_CASE("vfio-pci: a conventional PCI function without a pin reports ERR and INTx with count 0")
{
    VfioFixture f;
    pci::PciConfig cfg;
    cfg.has_intx = false;
    cfg.pcie = false;
    pci::PciDevice d("legacy", f.env, cfg);
    VfioIrqInfo i;
    i.index = VFIO_PCI_ERR_IRQ_INDEX;
    REQUIRE(d.get_irq_info(i) == 0);
    CHECK(i.count == 0);
    i.index = VFIO_PCI_INTX_IRQ_INDEX;
    REQUIRE(d.get_irq_info(i) == 0);
    CHECK(i.count == 0);
    CHECK(d.host_irq(VFIO_PCI_INTX_IRQ_INDEX, 0) == -EINVAL);
}

TEST_CASE("GET_IRQ_INFO with an index past the last one, or a short argsz, fails with EINVAL")
{
    VfioFixture f;
    int err = 0;
    info_of(f, f.pfd, 2, err);
    CHECK(err == -EINVAL);
    info_of(f, f.qfd, VFIO_PCI_NUM_IRQS, err);
    CHECK(err == -EINVAL);
    VfioIrqInfo s;
    s.argsz = VfioIrqInfo::kMinsz - 1;
    CHECK(f.vfio.device_get_irq_info(f.vmm, f.pfd, s) == -EINVAL);
    CHECK(s.count == 0);
}
