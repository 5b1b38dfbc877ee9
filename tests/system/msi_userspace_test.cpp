// An MSI-X vector delivered through user space takes QEMU's path, not a
// hidden irqfd: hw/vfio/pci.c vfio_msi_interrupt runs on the VMM's I/O
// thread once it is woken on the vector's eventfd, read()s the eventfd, and
// msix_notify writes the vector's message to the GICv2m frame, which pulses
// the SPI with KVM_IRQ_LINE 1 then 0 (hw/intc/arm_gicv2m.c gicv2m_set_irq,
// arm_gic_kvm.c).  No EOI reaches the VMM: an MSI needs no unmask and the
// device's BAR stays mapped, so the guest's handler never exits to it.
// Every count here is found by perturbing the profile or read from the run.
#include <fwdsim/scenario/path_steps.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

/// msix_irqfd.yaml's first vector alone, every 1 ms exactly (each interrupt
/// takes the path of an interrupt alone), delivered by `mode`.
ScenarioConfig one_vector(DeliveryMode mode)
{
    ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/msix_irqfd.yaml");
    DeviceConfig& d = c.devices.at(0);
    d.irqs.resize(1);
    DeviceIrqConfig& irq = d.irqs.at(0);
    REQUIRE(irq.index == 2); // VFIO_PCI_MSIX_IRQ_INDEX
    REQUIRE(irq.trigger == TriggerKind::edge);
    irq.delivery = mode;
    irq.traffic.kind = TrafficConfig::Kind::periodic;
    irq.traffic.rate_per_s = 1000;
    irq.traffic.jitter_us = 0;
    c.duration_us = 20000;
    c.warmup_us = 2000; // past the guest's set-up: the window holds interrupts alone
    c.outputs = {};
    return c;
}

std::map<std::string, std::int64_t> counts(const PathSteps& p)
{
    std::map<std::string, std::int64_t> got;
    for (const PathStep& s : p.steps) got[s.primitive] = s.count;
    return got;
}

/// The primitives that tell the VMM's path from irqfd's, and the VMM's
/// other round trip (the trapped device access INTx pays).
const std::vector<std::string> kKeys{"kvm.irqfd_inject", "kvm.irq_line",        "host.eventfd_signal",
                                     "host.sched_wakeup", "host.return_to_user", "host.syscall",
                                     "vmm.mmio_dispatch", "kvm.memslot_update",  "kvm.world_switch_exit"};

} // namespace

TEST_CASE("an MSI-X vector in user space reaches the guest after the I/O thread's wake-up, read(2) and KVM_IRQ_LINE")
{
    const sim::CostProfile& profile = sim::CostProfile::builtin_default();
    const PathSteps irqfd = path_steps(one_vector(DeliveryMode::irqfd), profile, PathMetric::to_ack, 1000, kKeys);
    const PathSteps user = path_steps(one_vector(DeliveryMode::userspace), profile, PathMetric::to_ack, 1000, kKeys);
    INFO("irqfd " << irqfd.latency << ", userspace " << user.latency);
    // Both: vfio_msihandler signals the vector's eventfd.  irqfd: the
    // irqfd's injection work.  User space: the thread's wake-up and return
    // from its poll, the read(2), then KVM_IRQ_LINE 1 (its syscall and the
    // vgic injection); the line's fall follows the injection, off this path.
    CHECK(counts(irqfd) == std::map<std::string, std::int64_t>{{"kvm.irqfd_inject", 1}, {"host.eventfd_signal", 1}});
    CHECK(counts(user) == std::map<std::string, std::int64_t>{{"kvm.irq_line", 1},
                                                              {"host.eventfd_signal", 1},
                                                              {"host.sched_wakeup", 1},
                                                              {"host.return_to_user", 1},
                                                              {"host.syscall", 2}});
    const auto c = [&](const char* key) { return static_cast<std::int64_t>(profile.get(key).count()); };
    const std::int64_t round_trip = c("host.sched_wakeup") + c("host.return_to_user") + 2 * c("host.syscall") + c("kvm.irq_line");
    CHECK(static_cast<std::int64_t>(user.latency) >= static_cast<std::int64_t>(irqfd.latency) - c("kvm.irqfd_inject") + round_trip);
    // Both paths are made of primitives only: every primitive's count
    // adds up to the latency, to the cycle.
    for (DeliveryMode m : {DeliveryMode::irqfd, DeliveryMode::userspace}) {
        const PathSteps all = path_steps(one_vector(m), profile, PathMetric::to_ack, 1);
        INFO(to_string(m));
        CHECK(all.sum == static_cast<std::int64_t>(all.latency));
    }
}

TEST_CASE("an MSI-X vector in user space costs the host the round trip and both KVM_IRQ_LINE calls of the pulse")
{
    const sim::CostProfile& profile = sim::CostProfile::builtin_default();
    const PathSteps irqfd = path_steps(one_vector(DeliveryMode::irqfd), profile, PathMetric::host_cycles, 1000, kKeys);
    const PathSteps user = path_steps(one_vector(DeliveryMode::userspace), profile, PathMetric::host_cycles, 1000, kKeys);
    const auto got_irqfd = counts(irqfd), got_user = counts(user);
    INFO("irqfd " << irqfd.latency << ", userspace " << user.latency << " host cycles per interrupt");
    CHECK(got_irqfd.count("kvm.irqfd_inject") == 1);
    CHECK(got_irqfd.count("kvm.irq_line") == 0);
    CHECK(got_irqfd.count("host.sched_wakeup") == 0);
    CHECK(got_user.count("kvm.irqfd_inject") == 0);
    CHECK(got_user.at("host.sched_wakeup") == 1);
    CHECK(got_user.at("host.return_to_user") == 1);
    CHECK(got_user.at("kvm.irq_line") == 2);                                     // KVM_IRQ_LINE 1, then 0
    CHECK(got_user.at("host.syscall") - got_irqfd.count("host.syscall") == 3);   // read(2) + two ioctls
    CHECK(got_user.count("vmm.mmio_dispatch") == 0);                            // no exit to the VMM
    CHECK(got_user.count("kvm.memslot_update") == 0);                           // the BAR stays mapped
    CHECK(got_user.at("kvm.world_switch_exit") == got_irqfd.at("kvm.world_switch_exit"));
}

TEST_CASE("an MSI-X vector in user space: one round trip to the VMM per interrupt, no more exits than irqfd")
{
    const RunResult irqfd = run_scenario(one_vector(DeliveryMode::irqfd));
    const RunResult user = run_scenario(one_vector(DeliveryMode::userspace));
    const IrqResult& i = irqfd.irqs.at(0);
    const IrqResult& u = user.irqs.at(0);
    REQUIRE(i.delivered > 0);
    REQUIRE(u.delivered == i.delivered);
    // INTx in user space makes two (the I/O thread's wake-up and the
    // trapped device access, docs/delivery-paths.md); an MSI only the first.
    CHECK(u.per_irq(u.user_round_trips) == Approx(1.0));
    CHECK(i.user_round_trips == 0);
    CHECK(u.exits.at("mmio_user") == 0);
    CHECK(u.exits == i.exits);
    CHECK(u.maintenance_irqs == 0);
    CHECK(u.vfio_unmasks == 0);
    CHECK(u.to_ack.percentile(50) > i.to_ack.percentile(50));
    CHECK(u.per_irq(u.host_cycles) > i.per_irq(i.host_cycles));
}

TEST_CASE("switching an MSI-X vector from irqfd to user space while it runs moves its latency to the user-space path's")
{
    const RunResult irqfd = run_scenario(one_vector(DeliveryMode::irqfd));
    const RunResult user = run_scenario(one_vector(DeliveryMode::userspace));
    ScenarioConfig c = one_vector(DeliveryMode::irqfd);
    // Only interrupts raised after the switch are measured (the window opens at 2 ms).
    c.vmm.switches.push_back(ModeSwitch{.at_us = 1500, .device = "pci0", .irq = 0, .delivery = DeliveryMode::userspace});
    const RunResult switched = run_scenario(c);
    const IrqResult& s = switched.irqs.at(0);
    REQUIRE(s.lost == 0);
    REQUIRE(s.delivered > 0);
    INFO("irqfd " << irqfd.irqs.at(0).to_ack.percentile(50) << ", userspace " << user.irqs.at(0).to_ack.percentile(50)
                  << ", switched " << s.to_ack.percentile(50));
    CHECK(s.to_ack.percentile(50) == user.irqs.at(0).to_ack.percentile(50));
    CHECK(s.to_ack.percentile(50) > irqfd.irqs.at(0).to_ack.percentile(50));
    CHECK(s.per_irq(s.user_round_trips) == Approx(1.0));
}
