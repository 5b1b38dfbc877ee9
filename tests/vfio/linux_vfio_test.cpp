// VFIO as Linux 6.18 answers it, where the research found fwdsim departed:
// drivers/vfio/vfio_main.c (vfio_set_irqs_validate_and_prepare),
// platform/vfio_platform_irq.c (vfio_platform_set_irqs_ioctl),
// pci/vfio_pci_intrs.c (vfio_pci_set_irqs_ioctl,
// vfio_pci_set_ctx_trigger_single), virqfd.c (vfio_virqfd_enable),
// group.c (vfio_group_ioctl_set_container, vfio_group_ioctl_get_device_fd,
// vfio_group_ioctl_get_status, vfio_group_ioctl_unset_container) and
// container.c (vfio_container_ioctl_check_extension, vfio_ioctl_set_iommu).
// docs/linux-conformance.md §3; the rest of SET_IRQS is in set_irqs_test.cpp.
#include "vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::vfio;
using namespace fwdsim::test;

TEST_CASE("vfio_main.c vfio_set_irqs_validate_and_prepare leaves the ACTION to the bus: zero or several actions are ENOTTY")
{
    VfioFixture f;
    for (std::uint32_t actions : {0u, MASK | UNMASK, MASK | TRIGGER, MASK | UNMASK | TRIGGER}) {
        INFO("actions " << actions);
        // vfio_platform_set_irqs_ioctl and vfio_pci_set_irqs_ioctl: no handler.
        expect_error(f, f.pfd, VfioIrqSet::none(actions, 0, 0, 1), -ENOTTY);
        expect_error(f, f.qfd, VfioIrqSet::none(actions, VFIO_PCI_INTX_IRQ_INDEX, 0, 1), -ENOTTY);
        expect_error(f, f.qfd, VfioIrqSet::none(actions, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1), -ENOTTY);
    }
    // The core's own checks still come first.
    expect_error(f, f.pfd, VfioIrqSet::none(0, 5, 0, 1), -EINVAL);  // index
    expect_error(f, f.pfd, VfioIrqSet::none(0, 0, 1, 1), -EINVAL);  // start
    auto two_data = VfioIrqSet::none(0, 0, 0, 1);
    two_data.flags |= VFIO_IRQ_SET_DATA_BOOL;
    expect_error(f, f.pfd, two_data, -EINVAL);
}

TEST_CASE("virqfd.c vfio_virqfd_enable: a mask or unmask eventfd already armed is EBUSY, after the fd lookup")
{
    VfioFixture f;
    const int e1 = f.new_eventfd(), e2 = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {e1})) == 0);
    expect_error(f, f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {e2}), -EBUSY);
    expect_error(f, f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {e1}), -EBUSY);
    expect_error(f, f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {99}), -EBADF); // the fd first
    // -1 disarms; then it may be armed again.
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {-1})) == 0);
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {e2})) == 0);
    // The mask virqfd is a slot of its own.
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(MASK, 0, 0, {e1})) == 0);
    expect_error(f, f.pfd, VfioIrqSet::eventfds(MASK, 0, 0, {e2}), -EBUSY);
    // PCI INTx unmask (vfio_pci_set_intx_unmask), with INTx on.
    const int t = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, {t})) == 0);
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, {e1})) == 0);
    expect_error(f, f.qfd, VfioIrqSet::eventfds(UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, {e2}), -EBUSY);
}

TEST_CASE("vfio_pci_intrs.c vfio_pci_set_ctx_trigger_single: NONE without a trigger is EINVAL; an fd below -1 changes nothing")
{
    VfioFixture f;
    auto* pci = dynamic_cast<vfio::pci::PciDevice*>(f.pci);
    REQUIRE(pci != nullptr);
    expect_error(f, f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1), -EINVAL);
    const int e = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, {e})) == 0);
    REQUIRE(pci->req_trigger() != nullptr);
    CHECK(f.set_irqs(f.qfd, VfioIrqSet::none(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1)) == 0); // a loopback signal
    CHECK(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, {-2})) == 0);
    CHECK(pci->req_trigger() != nullptr); // kept
    CHECK(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, {-1})) == 0);
    CHECK(pci->req_trigger() == nullptr); // -1 clears
}

TEST_CASE("group.c vfio_group_ioctl_set_container: EBADF, a container already set (EINVAL) before the fd's kind, EBADFD")
{
    VfioFixture f;
    const int e = f.new_eventfd();
    CHECK(f.vfio.group_set_container(f.vmm, f.g1, 99) == -EBADF);
    CHECK(f.vfio.group_set_container(f.vmm, f.g1, e) == -EINVAL); // g1 is in a container already
    const int g3 = f.vfio.open_group(f.vmm, 3);
    REQUIRE(g3 >= 0);
    CHECK(f.vfio.group_set_container(f.vmm, g3, e) == -EBADFD);
    CHECK(f.vfio.group_set_container(f.vmm, g3, f.pfd) == -EBADFD);
    CHECK(f.vfio.group_set_container(f.vmm, g3, f.cfd) == -EPERM); // not viable: DMA owned by another driver
}

TEST_CASE("group.c vfio_group_ioctl_get_device_fd: an unknown name is ENODEV before the container check")
{
    VfioFixture f;
    const int g3 = f.vfio.open_group(f.vmm, 3); // in no container
    REQUIRE(g3 >= 0);
    CHECK(f.vfio.group_get_device_fd(f.vmm, g3, "nope") == -ENODEV);
    CHECK(f.vfio.group_get_device_fd(f.vmm, g3, "plat3") == -EINVAL);
}

TEST_CASE("container.c check_extension and set_iommu: type1 answers VFIO_UNMAP_ALL; a type it does not open is EINVAL")
{
    VfioFixture f;
    const int c = f.vfio.open_container(f.vmm);
    CHECK(f.vfio.check_extension(f.vmm, c, VFIO_TYPE1_IOMMU) == 1);
    CHECK(f.vfio.check_extension(f.vmm, c, VFIO_TYPE1v2_IOMMU) == 1);
    CHECK(f.vfio.check_extension(f.vmm, c, VFIO_UNMAP_ALL) == 1);
    CHECK(f.vfio.check_extension(f.vmm, c, 2) == 0); // SPAPR_TCE
    CHECK(f.vfio.check_extension(f.vmm, f.cfd, VFIO_UNMAP_ALL) == 1); // with an IOMMU set too
    // SET_IOMMU on a container with a group and no IOMMU yet: type1's
    // check says yes to UNMAP_ALL, its open refuses it (EINVAL); no driver
    // says yes to SPAPR_TCE (ENODEV).
    CHECK(f.vfio.set_iommu(f.vmm, c, VFIO_TYPE1v2_IOMMU) == -EINVAL); // no group yet
    CHECK(f.vfio.group_unset_container(f.vmm, f.g1) == -EBUSY);       // plat0 is open
    REQUIRE(f.vmm.close(f.pfd) == 0);
    REQUIRE(f.vfio.group_unset_container(f.vmm, f.g1) == 0);
    REQUIRE(f.vfio.group_set_container(f.vmm, f.g1, c) == 0);
    CHECK(f.vfio.set_iommu(f.vmm, c, VFIO_UNMAP_ALL) == -EINVAL);
    CHECK(f.vfio.set_iommu(f.vmm, c, 2) == -ENODEV);
    CHECK(f.vfio.set_iommu(f.vmm, c, VFIO_TYPE1_IOMMU) == 0);
}

TEST_CASE("group.c vfio_group_ioctl_get_status: VIABLE and CONTAINER_SET")
{
    VfioFixture f;
    VfioGroupStatus s;
    s.argsz = sizeof s;
    REQUIRE(f.vfio.group_get_status(f.vmm, f.g1, s) == 0);
    CHECK(s.flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET));
    const int g3 = f.vfio.open_group(f.vmm, 3);
    REQUIRE(f.vfio.group_get_status(f.vmm, g3, s) == 0);
    CHECK(s.flags == 0); // not viable, in no container
    s.argsz = 4;
    CHECK(f.vfio.group_get_status(f.vmm, g3, s) == -EINVAL);
}
