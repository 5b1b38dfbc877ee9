// Containers, groups, device files, and the external-user API
// (linux-semantics.md §1, "Containers, groups, devices").
#include "vfio_fixture.h"

#include <algorithm>
#include <cerrno>

using namespace fwdsim;
using fwdsim::test::VfioFixture;

TEST_CASE("a group can be opened once at a time: a second open fails with EBUSY")
{
    VfioFixture f;
    host::Process other("other");
    CHECK(f.vfio.open_group(other, 1) == -EBUSY);
    CHECK(f.vfio.open_group(f.vmm, 1) == -EBUSY);
    CHECK(f.vfio.open_group(other, 99) == -ENOENT);
    CHECK(other.open_count() == 0);
}

TEST_CASE("SET_CONTAINER on a group that is not viable fails with EPERM")
{
    VfioFixture f;
    int g3 = f.vfio.open_group(f.vmm, 3);
    REQUIRE(g3 >= 0);
    vfio::VfioGroupStatus st;
    REQUIRE(f.vfio.group_get_status(f.vmm, g3, st) == 0);
    CHECK(st.flags == 0);
    CHECK(f.vfio.group_set_container(f.vmm, g3, f.cfd) == -EPERM);
    CHECK(f.vfio.group(3)->container() == nullptr);
}

TEST_CASE("group status reports viable and container-set")
{
    VfioFixture f;
    vfio::VfioGroupStatus st;
    REQUIRE(f.vfio.group_get_status(f.vmm, f.g1, st) == 0);
    CHECK(st.flags == (vfio::VFIO_GROUP_FLAGS_VIABLE | vfio::VFIO_GROUP_FLAGS_CONTAINER_SET));
    st.argsz = 4;
    CHECK(f.vfio.group_get_status(f.vmm, f.g1, st) == -EINVAL);
}

TEST_CASE("SET_IOMMU needs a group (EINVAL), a supported type (ENODEV), and is set once (EINVAL)")
{
    VfioFixture f;
    int c2 = f.vfio.open_container(f.vmm);
    CHECK(f.vfio.set_iommu(f.vmm, c2, vfio::VFIO_TYPE1v2_IOMMU) == -EINVAL);
    CHECK(f.vfio.set_iommu(f.vmm, f.cfd, vfio::VFIO_TYPE1v2_IOMMU) == -EINVAL); // already set
    CHECK(f.vfio.check_extension(f.vmm, c2, vfio::VFIO_TYPE1_IOMMU) == 1);
    CHECK(f.vfio.check_extension(f.vmm, c2, 42) == 0);
    CHECK(f.vfio.get_api_version(f.vmm, c2) == vfio::VFIO_API_VERSION);

    vfio::Vfio v; // outlives the process that holds its files
    host::Process p("p2");
    vfio::IrqContextEnv env = f.env;
    v.add_device(7, std::make_unique<vfio::platform::PlatformDevice>("d", env, std::vector<vfio::platform::PlatformIrq>{}));
    int c = v.open_container(p);
    int g = v.open_group(p, 7);
    REQUIRE(v.group_set_container(p, g, c) == 0);
    CHECK(v.set_iommu(p, c, 8) == -ENODEV);
    CHECK(v.group_get_device_fd(p, g, "d") == -EINVAL); // no IOMMU yet
    REQUIRE(v.set_iommu(p, c, vfio::VFIO_TYPE1_IOMMU) == 0);
    CHECK(v.group_get_device_fd(p, g, "nope") == -ENODEV);
    CHECK(v.group_get_device_fd(p, g, "d") >= 0);
}

TEST_CASE("GET_DEVICE_FD before the group has a container fails with EINVAL")
{
    VfioFixture f;
    vfio::Vfio v; // outlives the process that holds its files
    host::Process p("p2");
    v.add_device(7, std::make_unique<vfio::platform::PlatformDevice>("d", f.env, std::vector<vfio::platform::PlatformIrq>{}));
    int g = v.open_group(p, 7);
    CHECK(v.group_get_device_fd(p, g, "d") == -EINVAL);
    CHECK(v.group_unset_container(p, g) == -EINVAL);
}

TEST_CASE("fds that are not open give EBADF; an ioctl on the wrong kind of file gives ENOTTY")
{
    VfioFixture f;
    int efd = f.new_eventfd();
    CHECK(f.vfio.group_set_container(f.vmm, 77, f.cfd) == -EBADF);
    CHECK(f.vfio.group_set_container(f.vmm, efd, f.cfd) == -ENOTTY);
    CHECK(f.vfio.set_iommu(f.vmm, f.g1, 1) == -ENOTTY);
    vfio::VfioIrqInfo info;
    CHECK(f.vfio.device_get_irq_info(f.vmm, f.g1, info) == -ENOTTY);
    CHECK(f.vfio.device_get_irq_info(f.vmm, 77, info) == -EBADF);
    // A container argument that is not a container: EBADFD
    // (vfio_group_ioctl_set_container, Linux 6.18).
    int g3 = f.vfio.open_group(f.vmm, 3);
    CHECK(f.vfio.group_set_container(f.vmm, g3, efd) == -EBADFD);
    CHECK(f.vfio.group_set_container(f.vmm, g3, 77) == -EBADF);
}

TEST_CASE("a device file keeps its group open: the group is released with the last device file")
{
    VfioFixture f;
    host::Process other("other");
    REQUIRE(f.vmm.close(f.g1) == 0);
    CHECK(f.vfio.group(1)->opened());
    CHECK(f.vfio.open_group(other, 1) == -EBUSY);
    CHECK(f.plat->open_count() == 1);
    REQUIRE(f.vmm.close(f.pfd) == 0);
    CHECK_FALSE(f.vfio.group(1)->opened());
    CHECK(f.vfio.group(1)->container() == nullptr);
    CHECK(f.plat->open_count() == 0);
    CHECK(f.vfio.open_group(other, 1) >= 0);
}

TEST_CASE("UNSET_CONTAINER with a device open fails with EBUSY; the last group takes the IOMMU with it")
{
    VfioFixture f;
    CHECK(f.vfio.group_unset_container(f.vmm, f.g1) == -EBUSY);
    REQUIRE(f.vmm.close(f.pfd) == 0);
    REQUIRE(f.vmm.close(f.qfd) == 0);
    REQUIRE(f.vfio.group_unset_container(f.vmm, f.g1) == 0);
    auto* c = host::file_cast<vfio::ContainerFile>(f.vmm.peek(f.cfd));
    REQUIRE(c);
    CHECK(c->iommu_type() == vfio::VFIO_TYPE1v2_IOMMU); // group 2 still attached
    REQUIRE(f.vfio.group_unset_container(f.vmm, f.g2) == 0);
    CHECK(c->iommu_type() == 0);
}

TEST_CASE("device_get_from_file takes a device reference; another kind of file gives EINVAL")
{
    VfioFixture f;
    const unsigned base = f.plat->refcount();
    CHECK(base == 2); // the binding and the open device file
    vfio::DeviceRef d;
    REQUIRE(vfio::device_get_from_file(*f.vmm.peek(f.pfd), d) == 0);
    CHECK(d.get() == f.plat);
    CHECK(f.plat->refcount() == base + 1);
    vfio::DeviceRef bad;
    int efd = f.new_eventfd();
    CHECK(vfio::device_get_from_file(*f.vmm.peek(efd), bad) == -EINVAL);
    CHECK(vfio::device_get_from_file(*f.vmm.peek(f.g1), bad) == -EINVAL);
    CHECK_FALSE(bad);
    // The reference outlives the fd.
    REQUIRE(f.vmm.close(f.pfd) == 0);
    CHECK(f.plat->refcount() == base);
    vfio::device_put(*d.release());
    CHECK(f.plat->refcount() == base - 1);
}

TEST_CASE("group_get_from_file takes a group reference; a device file gives EINVAL")
{
    VfioFixture f;
    const unsigned base = f.vfio.group(1)->refcount();
    vfio::GroupRef g;
    REQUIRE(vfio::group_get_from_file(*f.vmm.peek(f.g1), g) == 0);
    CHECK(g->id() == 1);
    CHECK(f.vfio.group(1)->refcount() == base + 1);
    vfio::GroupRef bad;
    CHECK(vfio::group_get_from_file(*f.vmm.peek(f.pfd), bad) == -EINVAL);
    g.reset();
    CHECK(f.vfio.group(1)->refcount() == base);
}

TEST_CASE("DEVICE_GET_INFO reports the bus flag and the IRQ index count; a short argsz is EINVAL")
{
    VfioFixture f;
    vfio::VfioDeviceInfo i;
    REQUIRE(f.vfio.device_get_info(f.vmm, f.pfd, i) == 0);
    CHECK(i.flags == vfio::VFIO_DEVICE_FLAGS_PLATFORM);
    CHECK(i.num_irqs == 2);
    REQUIRE(f.vfio.device_get_info(f.vmm, f.qfd, i) == 0);
    CHECK((i.flags & vfio::VFIO_DEVICE_FLAGS_PCI) != 0);
    CHECK(i.num_irqs == vfio::VFIO_PCI_NUM_IRQS);
    vfio::VfioDeviceInfo s;
    s.argsz = 8;
    CHECK(f.vfio.device_get_info(f.vmm, f.pfd, s) == -EINVAL);
    CHECK(s.flags == 0);
}

TEST_CASE("every order of closing a VMM's VFIO and eventfd files leaves VFIO fully released")
{
    std::vector<int> order{0, 1, 2, 3, 4, 5};
    int permutations = 0, failures = 0;
    do {
        VfioFixture f;
        const int trig = f.new_eventfd(), unmask = f.new_eventfd();
        REQUIRE(f.set_irqs(f.pfd, vfio::VfioIrqSet::eventfds(vfio::VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, {trig})) == 0);
        REQUIRE(f.set_irqs(f.pfd, vfio::VfioIrqSet::eventfds(vfio::VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, {unmask})) == 0);
        f.chip.set_line(40, true); // in flight: masked by VFIO, waiting for the unmask
        f.queue.run_until_idle();
        REQUIRE(f.plat->irq_context(0, 0)->masked());
        REQUIRE(f.vmm.close(f.qfd) == 0);
        REQUIRE(f.vmm.close(f.g2) == 0);
        const std::vector<int> fds{f.cfd, f.g1, f.pfd, trig, unmask, f.new_eventfd()};
        std::vector<int> close_order;
        for (int i : order) close_order.push_back(fds[static_cast<std::size_t>(i)]);
        f.vmm.kill(close_order);
        f.queue.run_until_idle();
        const auto v = f.vfio.released_state_violations();
        if (!v.empty()) {
            ++failures;
            UNSCOPED_INFO(v.front());
        }
        ++permutations;
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(permutations == 720);
    CHECK(failures == 0);
}

TEST_CASE("released_state_violations reports what an owner left behind")
{
    VfioFixture f;
    CHECK_FALSE(f.vfio.released_state_violations().empty()); // the VMM still holds everything
    vfio::DeviceRef held;
    REQUIRE(vfio::device_get_from_file(*f.vmm.peek(f.pfd), held) == 0);
    std::vector<int> none;
    f.vmm.kill(none);
    const auto v = f.vfio.released_state_violations();
    REQUIRE(v.size() == 1);
    CHECK(v[0] == "device plat0 holds 1 extra reference(s)");
    held.reset();
    CHECK(f.vfio.released_state_violations().empty());
}
