// Two interrupts of one VM on different delivery paths: each row shows the
// maintenance, user-space round trips and exits its own path caused, not
// its VM's shared out by deliveries.  The counts come from where they
// happen: the vgic's EOI maintenance of the guest IRQ, the VMM's I/O
// thread and trapped accesses for the device IRQ.
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <string>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

void periodic(DeviceIrqConfig& irq, double rate)
{
    irq.traffic.kind = TrafficConfig::Kind::periodic;
    irq.traffic.rate_per_s = rate;
    irq.traffic.jitter_us = 0;
}

/// headline.yaml's level platform device on `first`, and a second one in
/// the same VM (its own IOMMU group and SPI) on `second`, at other rates.
ScenarioConfig two_devices(DeliveryMode first, DeliveryMode second)
{
    ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/headline.yaml");
    c.outputs = {};
    REQUIRE(c.devices.size() == 1);
    DeviceConfig other = c.devices.at(0);
    other.name = "plat1";
    other.iommu_group = c.devices.at(0).iommu_group + 1;
    other.irqs.at(0).host_irq = other.irqs.at(0).guest_irq = c.devices.at(0).irqs.at(0).host_irq + 1;
    c.devices.push_back(other);
    c.devices.at(0).irqs.at(0).delivery = first;
    c.devices.at(1).irqs.at(0).delivery = second;
    periodic(c.devices.at(0).irqs.at(0), 1000);
    periodic(c.devices.at(1).irqs.at(0), 1300);
    return c;
}

/// msix_irqfd.yaml's two vectors, the second in user space.
ScenarioConfig msix_pair()
{
    ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/msix_irqfd.yaml");
    c.outputs = {};
    DeviceConfig& d = c.devices.at(0);
    REQUIRE(d.irqs.size() == 2);
    d.irqs.at(0).delivery = DeliveryMode::irqfd;
    d.irqs.at(1).delivery = DeliveryMode::userspace;
    periodic(d.irqs.at(0), 1000);
    periodic(d.irqs.at(1), 1300);
    c.duration_us = 20000;
    c.warmup_us = 2000;
    return c;
}

const IrqResult& row(const RunResult& r, const std::string& name)
{
    for (const IrqResult& i : r.irqs)
        if (i.name == name) return i;
    FAIL("no row " << name);
    return r.irqs.front();
}

/// The window's edges may cut one interrupt's steps in two.
constexpr double kEdge = 0.06;

} // namespace

TEST_CASE("a level IRQ on irqfd beside one in user space: each row shows its own round trips, maintenance and VMM exits")
{
    const RunResult r = run_scenario(two_devices(DeliveryMode::irqfd, DeliveryMode::userspace));
    const IrqResult& fd = row(r, "plat0.0");
    const IrqResult& user = row(r, "plat1.0");
    REQUIRE(fd.delivered > 10);
    REQUIRE(user.delivered > 10);
    INFO("irqfd: user " << fd.user_round_trips << " maint " << fd.maintenance_irqs << " of " << fd.delivered
                        << "; userspace: user " << user.user_round_trips << " maint " << user.maintenance_irqs << " of "
                        << user.delivered);
    // irqfd never goes to user space; the resampler needs the EOI maintenance.
    CHECK(fd.user_round_trips == 0);
    CHECK(fd.exits.at("mmio_user") == 0);
    CHECK(fd.per_irq(fd.maintenance_irqs) == Approx(1.0).margin(kEdge));
    CHECK(fd.per_irq(fd.exits.at("maintenance")) == Approx(1.0).margin(kEdge));
    // QEMU's INTx: the I/O thread's wake-up, then the trapped access that
    // tells the EOI; the line is level, so its LR asks for EOI maintenance too.
    CHECK(user.per_irq(user.user_round_trips) == Approx(2.0).margin(kEdge));
    CHECK(user.per_irq(user.exits.at("mmio_user")) == Approx(1.0).margin(kEdge));
    CHECK(user.per_irq(user.maintenance_irqs) == Approx(1.0).margin(kEdge));
    // Each its own unmask (VFIO's, per IRQ context, as before).
    CHECK(fd.per_irq(fd.vfio_unmasks) == Approx(1.0).margin(kEdge));
    CHECK(user.per_irq(user.vfio_unmasks) == Approx(1.0).margin(kEdge));
}

TEST_CASE("MSI-X vectors on irqfd and in user space: only the user-space one makes a round trip, neither a maintenance")
{
    const RunResult r = run_scenario(msix_pair());
    const IrqResult& fd = row(r, "pci0.0");
    const IrqResult& user = row(r, "pci0.1");
    REQUIRE(fd.delivered > 10);
    REQUIRE(user.delivered > 10);
    INFO("irqfd: user " << fd.user_round_trips << " of " << fd.delivered << "; userspace: user " << user.user_round_trips
                        << " of " << user.delivered);
    CHECK(fd.user_round_trips == 0);
    CHECK(user.per_irq(user.user_round_trips) == Approx(1.0).margin(kEdge));
    CHECK(fd.maintenance_irqs == 0);
    CHECK(user.maintenance_irqs == 0);
}

TEST_CASE("a forwarded IRQ beside one on irqfd: the forwarded one has no maintenance, the irqfd one one per interrupt")
{
    const RunResult r = run_scenario(two_devices(DeliveryMode::forwarded, DeliveryMode::irqfd));
    const IrqResult& fwd = row(r, "plat0.0");
    const IrqResult& fd = row(r, "plat1.0");
    REQUIRE(fwd.delivered > 10);
    REQUIRE(fd.delivered > 10);
    INFO("forwarded: maint " << fwd.maintenance_irqs << " of " << fwd.delivered << "; irqfd: maint " << fd.maintenance_irqs
                             << " of " << fd.delivered);
    CHECK(fwd.maintenance_irqs == 0);
    CHECK(fwd.exits.at("maintenance") == 0);
    CHECK(fwd.vfio_unmasks == 0);
    CHECK(fd.per_irq(fd.maintenance_irqs) == Approx(1.0).margin(kEdge));
    CHECK(fd.per_irq(fd.vfio_unmasks) == Approx(1.0).margin(kEdge));
    CHECK(fwd.user_round_trips == 0);
    CHECK(fd.user_round_trips == 0);
}

TEST_CASE("three paths in one VM under load: no row is charged another path's maintenance or round trips")
{
    // 100 k/s each, Poisson: interrupts overlap, coalesce and share exits.
    ScenarioConfig c = two_devices(DeliveryMode::irqfd, DeliveryMode::userspace);
    DeviceConfig third = c.devices.at(1);
    third.name = "plat2";
    third.iommu_group = c.devices.at(1).iommu_group + 1;
    third.irqs.at(0).host_irq = third.irqs.at(0).guest_irq = c.devices.at(1).irqs.at(0).host_irq + 1;
    third.irqs.at(0).delivery = DeliveryMode::forwarded;
    c.devices.push_back(third);
    for (DeviceConfig& d : c.devices) {
        d.irqs.at(0).traffic.kind = TrafficConfig::Kind::poisson;
        d.irqs.at(0).traffic.rate_per_s = 100000;
    }
    const RunResult r = run_scenario(c);
    const IrqResult& fd = row(r, "plat0.0");
    const IrqResult& user = row(r, "plat1.0");
    const IrqResult& fwd = row(r, "plat2.0");
    REQUIRE(fd.delivered > 100);
    REQUIRE(user.delivered > 100);
    REQUIRE(fwd.delivered > 100);
    CHECK(fwd.maintenance_irqs == 0);
    CHECK(fwd.exits.at("maintenance") == 0);
    CHECK(fwd.exits.at("mmio_user") == 0);
    CHECK(fwd.user_round_trips == 0);
    CHECK(fd.exits.at("mmio_user") == 0);
    CHECK(fd.user_round_trips == 0);
    CHECK(fd.maintenance_irqs > 0);
    CHECK(user.exits.at("mmio_user") == user.delivered); // each handler's access tells its EOI
    CHECK(user.user_round_trips == 2 * user.delivered);
}

TEST_CASE("a trapped access to a region the user-space path unmapped is that path's, whoever's handler made it")
{
    // One platform device, two IRQs: index 0 level in user space (QEMU takes
    // the mmap away until its EOI is seen), index 1 an edge on irqfd whose
    // handler touches the same registers and so traps too.
    ScenarioConfig c = two_devices(DeliveryMode::userspace, DeliveryMode::irqfd);
    DeviceIrqConfig second = c.devices.at(1).irqs.at(0);
    second.index = 1;
    second.trigger = TriggerKind::edge;
    c.devices.at(0).irqs.push_back(second);
    c.devices.pop_back();
    const RunResult r = run_scenario(c);
    const IrqResult& user = row(r, "plat0.0");
    const IrqResult& fd = row(r, "plat0.1");
    REQUIRE(user.delivered > 10);
    REQUIRE(fd.delivered > 10);
    INFO("userspace: mmio_user " << user.exits.at("mmio_user") << " of " << user.delivered << "; irqfd: mmio_user "
                                 << fd.exits.at("mmio_user") << " of " << fd.delivered);
    CHECK(fd.exits.at("mmio_user") == 0);
    CHECK(fd.user_round_trips == 0);
    // Its own EOI's trap, and the irqfd handler's that found the region unmapped.
    CHECK(user.exits.at("mmio_user") > user.delivered + fd.delivered / 2);
    CHECK(user.user_round_trips == user.delivered + user.exits.at("mmio_user"));
}

TEST_CASE("two level IRQs of one device, one in user space and one on irqfd, are each delivered with one maintenance")
{
    // The irqfd handler's trapped accesses used to livelock this machine: its
    // level interrupt, still high while active, went back into the LR as
    // pending+active, so each EOI left it pending, the guest took it again,
    // no maintenance let KVM resample, and every trap told the VMM the user-
    // space IRQ's EOI before the guest had taken it (0 of 19 delivered).
    ScenarioConfig c = two_devices(DeliveryMode::userspace, DeliveryMode::irqfd);
    DeviceIrqConfig second = c.devices.at(1).irqs.at(0);
    second.index = 1;
    c.devices.at(0).irqs.push_back(second);
    c.devices.pop_back();
    const RunResult r = run_scenario(c);
    for (const char* name : {"plat0.0", "plat0.1"}) {
        const IrqResult& i = row(r, name);
        INFO(name << ": raised " << i.raised << ", delivered " << i.delivered << ", maintenance " << i.maintenance_irqs);
        CHECK(i.delivered + 1 >= i.raised);
        CHECK(i.maintenance_irqs + 1 >= i.delivered);
        CHECK(i.maintenance_irqs <= i.delivered + 1);
    }
    CHECK(row(r, "plat0.1").user_round_trips == 0);
}
