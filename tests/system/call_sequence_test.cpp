// The call sequences of linux-semantics.md §6, checked event by event: the
// system is stepped one event at a time and each change of where the
// interrupt is (device line, physical GIC, VFIO mask, virtual interrupt,
// vCPU state, exits) is recorded; the expected milestones must appear in
// order, and the ones a path must not have must not appear at all.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

/// One interrupt on an idle, booted system; returns every distinct state.
std::vector<std::string> one_interrupt(TriggerKind trigger, DeliveryMode mode)
{
    ScenarioConfig c;
    c.name = "sequence";
    c.vms = {VmConfig{"vm0", 1, {1}}};
    DeviceIrqConfig irq;
    irq.index = trigger == TriggerKind::level ? 0 : 1;
    irq.trigger = trigger;
    irq.host_irq = 48 + irq.index;
    irq.guest_irq = irq.host_irq;
    irq.delivery = mode;
    // One assertion, at 50 us: long after the guest has booted and idled.
    irq.traffic.kind = TrafficConfig::Kind::trace;
    c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1, {}}};
    DeviceIrqConfig other = irq; // the device's other IRQ, set up but silent
    other.index = 1 - irq.index;
    other.trigger = trigger == TriggerKind::level ? TriggerKind::edge : TriggerKind::level;
    other.host_irq = 48 + other.index;
    other.guest_irq = other.host_irq;
    other.traffic = {};
    irq.traffic = {};
    if (irq.index == 0) c.devices[0].irqs = {irq, other};
    else c.devices[0].irqs = {other, irq};
    System sys(c, load_profile(c));
    sys.start();
    sys.run_for(sys.us(50));
    const std::string name = "plat0." + std::to_string(irq.index);
    sys.raise(name);
    std::vector<std::string> seen{sys.observe(name)};
    for (int i = 0; i < 20000 && sys.events().step(); ++i) {
        const std::string now = sys.observe(name);
        if (now != seen.back()) seen.push_back(now);
        if (sys.events().now() > sys.us(120)) break;
    }
    return seen;
}

/// Whether the milestones (substrings) appear in `seen` in this order.
bool in_order(const std::vector<std::string>& seen, const std::vector<std::string>& milestones, std::string& missing)
{
    std::size_t at = 0;
    for (const std::string& m : milestones) {
        while (at < seen.size() && seen[at].find(m) == std::string::npos) ++at;
        if (at == seen.size()) {
            missing = m;
            return false;
        }
    }
    return true;
}

bool anywhere(const std::vector<std::string>& seen, const std::string& what)
{
    for (const auto& s : seen)
        if (s.find(what) != std::string::npos) return true;
    return false;
}

std::string dump(const std::vector<std::string>& seen)
{
    std::string out;
    for (const auto& s : seen) out += s + "\n";
    return out;
}

} // namespace

TEST_CASE("(a) a level IRQ via irqfd + resamplefd, event by event")
{
    const auto seen = one_interrupt(TriggerKind::level, DeliveryMode::irqfd);
    INFO(dump(seen));
    std::string missing;
    CHECK(in_order(seen,
                   {"line=1 phys=P-E",            // the device raises its line: pending in the GIC
                    "phys=PAE",                   // the host acknowledges it (the line keeps it pending too)
                    "phys=PA- vfio=masked",       // the VFIO handler masks it (disable_irq_nosync) ...
                    "phys=P-- vfio=masked",       // ... and the host deactivates it (DIR)
                    "virq=P--",                   // the irqfd's injection work makes the virtual IRQ pending
                    "lr=PE vcpu=guest",           // the woken vCPU enters with it in an LR with the EOI bit
                    "lr=AE",                      // the guest acknowledges it (GICV_IAR)
                    "line=0",                     // its handler services the device
                    "maintenance=1",              // its EOI raised the maintenance interrupt: an exit
                    "phys=--E vfio=open"},        // the resamplefd unmasks through virqfd (enable_irq)
                   missing));
    INFO("missing milestone: " << missing);
    CHECK(missing.empty());
    CHECK(anywhere(seen, "serviced=1"));
}

TEST_CASE("(b) a forwarded level IRQ: no mask, no maintenance, the guest's EOI deactivates it")
{
    const auto seen = one_interrupt(TriggerKind::level, DeliveryMode::forwarded);
    INFO(dump(seen));
    std::string missing;
    CHECK(in_order(seen,
                   {"line=1 phys=P-E",    // raised
                    "phys=PAE",           // the host acknowledges it; its handler injects the mapped IRQ
                    "virq=P-H",           // pending as a mapped (HW) virtual IRQ; the host left it active
                    "lr=PH vcpu=guest",   // the vCPU enters with an HW list register (no EOI bit)
                    "lr=AH",              // the guest acknowledges it
                    "line=0 phys=--E"},   // serviced; the guest's EOI deactivated the physical IRQ
                   missing));
    INFO("missing milestone: " << missing);
    CHECK(missing.empty());
    CHECK_FALSE(anywhere(seen, "vfio=masked"));
    CHECK_FALSE(anywhere(seen, "maintenance="));
    CHECK_FALSE(anywhere(seen, "phys=---")); // the host never deactivated it itself
    CHECK(anywhere(seen, "serviced=1"));
}

TEST_CASE("(c) an edge IRQ via irqfd: no mask, no maintenance")
{
    const auto seen = one_interrupt(TriggerKind::edge, DeliveryMode::irqfd);
    INFO(dump(seen));
    std::string missing;
    CHECK(in_order(seen, {"phys=P-E", "phys=-AE", "phys=--E", "virq=P--", "lr=P vcpu=guest", "lr=A vcpu", "serviced=1"},
                   missing));
    INFO("missing milestone: " << missing);
    CHECK(missing.empty());
    CHECK_FALSE(anywhere(seen, "vfio=masked"));
    CHECK_FALSE(anywhere(seen, "maintenance="));
}

TEST_CASE("(d) the userspace path: the VMM injects, and learns of the EOI from the guest's trapped device access")
{
    // QEMU without KVM acceleration: the device's mmap is off while the IRQ
    // is active, so the handler's access exits to user space (mmio_user);
    // the VMM performs it (the device lowers its line), lowers the virtual
    // line and unmasks -- before the guest's EOI, unlike irqfd's resampler.
    const auto seen = one_interrupt(TriggerKind::level, DeliveryMode::userspace);
    INFO(dump(seen));
    std::string missing;
    CHECK(in_order(seen, {"phys=P-E", "vfio=masked", "virq=P--", "lr=PE vcpu=guest", "lr=AE", "mmio_user=1", "line=0",
                          "vfio=open", "maintenance=1"},
                   missing));
    INFO("missing milestone: " << missing);
    CHECK(missing.empty());
}
