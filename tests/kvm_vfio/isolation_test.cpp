// Isolation: what one VMM or guest does cannot reach another's devices or
// interrupts, nor the host's.  Two VMMs share one host: the first owns
// plat0 (IOMMU group 1); the second has its own VM.
#include "kvm_vfio_fixture.h"

#include <fwdsim/gic/registers.h>

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::test;

namespace {

struct TwoVmms : KvmVfioWorld {
    TwoVmms()
    {
        vm2_fd = kvm->create_vm(vmm2);
        REQUIRE(vm2_fd >= 0);
        REQUIRE(kvm->create_vcpu(vmm2, vm2_fd, 0) >= 0);
        REQUIRE(kvm->create_device(vmm2, vm2_fd, kvm::kDevTypeArmVgicV2) >= 0);
        kv2_fd = kvm->create_device(vmm2, vm2_fd, kvm::kDevTypeVfio);
        REQUIRE(kv2_fd >= 0);
        REQUIRE(vm().ensure_vgic() == 0);
        REQUIRE(vm2().ensure_vgic() == 0);
        sim::Cycles c{};
        for (kvm::Vm* v : {&vm(), &vm2()}) {
            v->arch().vgic()->dist_write(0, gic::gicd::ctlr, 1, c);
            v->arch().vgic()->dist_write(0, gic::gicd::isenabler + 4, ~0u, c);
            v->arch().vgic()->dist_write(0, gic::gicd::isenabler + 8, ~0u, c);
        }
    }
    kvm::Vm& vm2() { return host::file_cast<kvm::VmFile>(vmm2.peek(vm2_fd))->vm(); }
    int forward2(std::int32_t fd, unsigned index, std::uint32_t gsi)
    {
        kvm_vfio::ForwardedIrqArg arg{static_cast<std::uint32_t>(fd), index, 0, gsi};
        kvm::DeviceAttr a{0, kvm_vfio::kDevVfioDevice, kvm_vfio::kDevVfioDeviceForwardIrq,
                          {reinterpret_cast<std::uint8_t*>(&arg), sizeof arg}};
        return kvm->set_device_attr(vmm2, kv2_fd, a);
    }
    /// Physical state of the device's two host IRQs, for before/after.
    std::string physical()
    {
        std::string s;
        for (unsigned irq : {kLevelIrq, kEdgeIrq})
            s += std::to_string(gic->is_pending(irq)) + std::to_string(gic->is_active(irq)) + std::to_string(gic->is_enabled(irq));
        return s;
    }
    bool any_pending(kvm::Vm& v)
    {
        for (unsigned id = 32; id < v.arch().vgic()->nr_irqs(); ++id)
            if (v.arch().vgic()->irq(0, id)->pending() || v.arch().vgic()->irq(0, id)->active) return true;
        return false;
    }

    host::Process vmm2{"vmm2"};
    int vm2_fd = -1, kv2_fd = -1;
};

} // namespace

TEST_CASE("isolation: a device held by one VMM cannot be opened or forwarded by another")
{
    TwoVmms w;
    CHECK(w.vfio.open_group(w.vmm2, 1) == -EBUSY); // one holder of a group at a time
    // A fd number is looked up in the caller's own table: the second VMM
    // cannot name the first one's device file, whatever number it tries.
    for (int fd = 0; fd < 64; ++fd) {
        const int err = w.forward2(fd, 0, 16);
        CHECK((err == -EBADF || err == -EINVAL));
    }
    // Its own fds of another kind are refused by VFIO, not forwarded.
    CHECK(w.forward2(w.vm2_fd, 0, 16) == -EINVAL);
    CHECK(w.plat->refcount() == 2); // binding + the first VMM's file: nothing taken
}

TEST_CASE("isolation: a VMM cannot forward a device whose group it did not add to its kvm-vfio device")
{
    TwoVmms w;
    const std::string before = w.state();
    CHECK(w.forward(w.pfd, 0, 0, 16) == -EINVAL); // group 1 not added yet
    CHECK(w.state() == before);
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK(w.forward(w.pfd, 0, 0, 16) == 0);
}

TEST_CASE("isolation: a guest cannot deactivate, raise or clear a physical interrupt it does not own")
{
    TwoVmms w;
    // The host owns both device IRQs; make them pending and active as a
    // host handler in progress would leave them.
    w.gic->write(gic::Block::gicd, 0, gic::gicd::isenabler + 4, (1u << (kLevelIrq - 32)) | (1u << (kEdgeIrq - 32)));
    w.gic->write(gic::Block::gicd, 0, gic::gicd::isactiver + 4, 1u << (kLevelIrq - 32));
    w.gic->write(gic::Block::gicd, 0, gic::gicd::ispendr + 4, 1u << (kEdgeIrq - 32));
    const std::string phys = w.physical();
    // The guest on CPU 1 completes and deactivates the host's INTIDs through
    // its virtual CPU interface: no list register names them, so nothing
    // reaches the physical distributor.
    const unsigned pcpu = 1;
    for (std::uint32_t id : {kLevelIrq, kEdgeIrq, 1023u}) {
        w.gic->write(gic::Block::gicv, pcpu, gic::gicc::eoir, id);
        w.gic->write(gic::Block::gicv, pcpu, gic::gicc::dir, id);
    }
    // Its emulated distributor: every set/clear register, every bit.
    sim::Cycles c{};
    arch::Vgic& vgic = *w.vm().arch().vgic();
    for (std::uint32_t base : {gic::gicd::ispendr, gic::gicd::icpendr, gic::gicd::isactiver, gic::gicd::icactiver,
                               gic::gicd::icenabler, gic::gicd::isenabler}) {
        for (std::uint32_t word = 0; word < 8; ++word) vgic.dist_write(0, base + 4 * word, ~0u, c);
    }
    vgic.dist_write(0, gic::gicd::sgir, (2u << 24) | 5u, c);
    CHECK(w.physical() == phys);
    // ... nor another VM's: the second VM saw none of it.
    CHECK_FALSE(w.any_pending(w.vm2()));
}

TEST_CASE("isolation: a killed VMM's interrupts cannot reach another VM")
{
    TwoVmms w;
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    REQUIRE(w.forward(w.pfd, 1, 0, 17) == 0);
    w.vmm.kill(std::vector<int>{}); // ascending close order
    REQUIRE(w.vfio.released_state_violations().empty());
    // The device keeps interrupting with nobody listening.
    w.gic->set_spi_level(kEdgeIrq, true);
    w.gic->set_spi_level(kEdgeIrq, false);
    w.gic->set_spi_level(kLevelIrq, true);
    w.run();
    CHECK_FALSE(w.any_pending(w.vm2()));
    // Once the second VMM takes the device, its interrupts go there only.
    const int cfd = w.vfio.open_container(w.vmm2);
    const int gfd = w.vfio.open_group(w.vmm2, 1);
    REQUIRE(gfd >= 0);
    REQUIRE(w.vfio.group_set_container(w.vmm2, gfd, cfd) == 0);
    REQUIRE(w.vfio.set_iommu(w.vmm2, cfd, vfio::VFIO_TYPE1v2_IOMMU) == 0);
    const int pfd = w.vfio.group_get_device_fd(w.vmm2, gfd, "plat0");
    REQUIRE(pfd >= 0);
    std::int32_t g32 = gfd;
    kvm::DeviceAttr add{0, kvm_vfio::kDevVfioGroup, kvm_vfio::kDevVfioGroupAdd, {reinterpret_cast<std::uint8_t*>(&g32), sizeof g32}};
    REQUIRE(w.kvm->set_device_attr(w.vmm2, w.kv2_fd, add) == 0);
    REQUIRE(w.forward2(pfd, 0, 16) == 0);
    w.run();
    CHECK(w.vm2().arch().vgic()->irq(0, 48)->pending()); // the level line, still high, now reaches VM 2
}
